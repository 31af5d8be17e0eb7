// SignalPipe: signal handlers that write one byte to a pipe; see shutdown.hpp.
#include "util/signal_pipe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace ringtun::util {

namespace {

std::atomic<bool> g_instance{false};
std::atomic<int> g_write_fd{-1};
static_assert(std::atomic<int>::is_always_lock_free, "handlers may only touch lock-free atomics");

constexpr int kSignals[] = {SIGTERM, SIGINT, SIGUSR1, SIGHUP};
constexpr int kSignalCount = 4;

// Async-signal-safe: one lock-free load, one write(2), errno restored.
void on_signal(int sig) {
    const int saved_errno = errno;
    const char byte = sig == SIGUSR1  ? SignalPipe::kUser1
                      : sig == SIGHUP ? SignalPipe::kReload
                                      : SignalPipe::kTerminate;
    const int fd = g_write_fd.load(std::memory_order_relaxed);
    if (fd >= 0) {
        [[maybe_unused]] const ssize_t n = ::write(fd, &byte, 1);
    }
    errno = saved_errno;
}

}  // namespace

util::Result<std::unique_ptr<SignalPipe>> SignalPipe::create() {
    if (g_instance.exchange(true)) {
        return util::fail(util::make_error("SignalPipe", "only one instance may exist"));
    }
    // From here the destructor undoes whatever install() got done, and clears g_instance.
    std::unique_ptr<SignalPipe> pipe(new SignalPipe());
    if (auto r = pipe->install(); !r) return util::fail(r.error());
    return pipe;
}

util::Result<void> SignalPipe::install() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
        return util::fail(util::sys_error("pipe2", errno));
    read_.reset(fds[0]);
    write_.reset(fds[1]);
    // Only the handlers' end must never block; the read end is read by io_uring (pipes
    // support nowait, so the mode does not matter there) or after readiness.
    const int fl = ::fcntl(read_.get(), F_GETFL);
    if (fl < 0 || ::fcntl(read_.get(), F_SETFL, fl & ~O_NONBLOCK) != 0) {
        return util::fail(util::sys_error("fcntl", errno));
    }
    g_write_fd.store(write_.get(), std::memory_order_relaxed);

    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    struct sigaction* olds[] = {&old_term_, &old_int_, &old_usr1_, &old_hup_};
    for (; installed_ < kSignalCount; ++installed_) {
        if (::sigaction(kSignals[installed_], &sa, olds[installed_]) != 0) {
            return util::fail(util::sys_error("sigaction", errno));
        }
    }
    return {};
}

SignalPipe::~SignalPipe() {
    const struct sigaction* olds[] = {&old_term_, &old_int_, &old_usr1_, &old_hup_};
    while (installed_ > 0) {
        --installed_;
        ::sigaction(kSignals[installed_], olds[installed_], nullptr);
    }
    // A handler still running on another thread may hold the old fd for one write; it then
    // fails with EBADF or hits a reused fd with one byte — acceptable at process teardown.
    g_write_fd.store(-1, std::memory_order_relaxed);
    g_instance.store(false);
}

void SignalPipe::notify(char byte) const noexcept {
    [[maybe_unused]] const ssize_t n = ::write(write_.get(), &byte, 1);
}

}  // namespace ringtun::util
