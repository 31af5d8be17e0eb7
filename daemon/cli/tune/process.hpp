// The processes `ringtun tune` starts: `ip` (iproute2) for the lab's namespaces and links,
// and ringtun itself (`run`) inside a namespace. Both live in a process group of their own,
// so the terminal's Ctrl-C reaches only `tune`, which then stops them in order.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "util/result.hpp"

namespace ringtun::daemon::tune {

// Runs `ip ARGS...` and waits for it (10 s at most, then it is killed). An error carries
// what ip wrote on standard error.
util::Result<void> run_ip(const std::vector<std::string>& args);

// This executable (/proc/self/exe) run with `args` inside a network namespace, standard
// output and error to a log file, with our environment and `env` ("NAME=VALUE"; what would
// make it talk to our own supervisor or adopt an inherited TUN is left out). The child asks for
// SIGTERM when the thread that started it exits (PR_SET_PDEATHSIG), so a `tune` that dies — even by
// SIGKILL — takes its daemons with it: start children from the main thread only.
class Child {
  public:
    static util::Result<Child> start_in(int netns_fd, const std::vector<std::string>& args,
                                        const std::string& log_path,
                                        const std::vector<std::string>& env = {});
    Child(Child&& o) noexcept;
    Child& operator=(Child&& o) noexcept;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child();

    pid_t pid() const noexcept { return pid_; }
    // False once it has exited (it is then reaped).
    bool running() noexcept;
    // SIGTERM, up to `grace_ms` for it to exit, then SIGKILL; reaped either way. Idempotent.
    void stop(int grace_ms = 3000) noexcept;

  private:
    explicit Child(pid_t pid) noexcept : pid_(pid) {}
    pid_t pid_ = -1;
};

}  // namespace ringtun::daemon::tune
