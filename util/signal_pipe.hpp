// SignalPipe: turns SIGTERM/SIGINT/SIGUSR1/SIGHUP into bytes on a pipe, so the ring's loop
// learns of them through an ordinary read completion instead of an interrupted syscall.
//
// The handlers write kTerminate ('T') for SIGTERM and SIGINT, kUser1 ('U') for SIGUSR1 and
// kReload ('H') for SIGHUP (so SIGHUP never kills the daemon); they only call write(2) on a
// non-blocking pipe (a full pipe drops the byte: one pending byte of each kind is enough) and
// preserve errno. notify() writes a byte the same way from any thread: kResolved ('N') is a
// host name lookup finished off the loop (daemon/backend/name_resolver). The daemon keeps one
// read on read_fd() in flight at all times and decides what a byte means. Previous handlers are
// restored on destruction.
//
// At most one SignalPipe exists per process (handlers are process-wide); create() fails while
// another lives.
#pragma once

#include <signal.h>

#include <memory>

#include "util/result.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::util {

class SignalPipe {
  public:
    static constexpr char kTerminate = 'T';
    static constexpr char kUser1 = 'U';
    static constexpr char kReload = 'H';
    static constexpr char kResolved = 'N';  // not a signal: answers of name lookups are ready

    static util::Result<std::unique_ptr<SignalPipe>> create();

    SignalPipe(const SignalPipe&) = delete;
    SignalPipe& operator=(const SignalPipe&) = delete;
    ~SignalPipe();

    // Blocking read end, close-on-exec.
    int read_fd() const noexcept { return read_.get(); }

    // Writes `byte` as a handler would: lets another thread ask the loop to stop, or tell it
    // that lookups finished (kResolved). Never blocks (a full pipe drops the byte: one pending
    // byte of a kind is enough). Async-signal-safe.
    void notify(char byte) const noexcept;

  private:
    SignalPipe() = default;
    util::Result<void> install();

    util::UniqueFd read_;
    util::UniqueFd write_;
    struct sigaction old_term_ {};
    struct sigaction old_int_ {};
    struct sigaction old_usr1_ {};
    struct sigaction old_hup_ {};
    int installed_ = 0;  // how many of the four handlers are in place
};

}  // namespace ringtun::util
