#include "daemon/cli/wg_command.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "conf/values.hpp"
#include "daemon/cli/serve.hpp"
#include "util/log.hpp"
#include "util/process_setup.hpp"

namespace ringtun::daemon {

namespace {

bool env_is(const char* name, std::string_view value) {
    const char* v = std::getenv(name);
    return v != nullptr && value == v;
}

// LOG_LEVEL as wireguard-go reads it; unset: errors only when daemonising (what the launching
// command prints), notices and above in the foreground. Returns whether a daemon keeps its
// standard error (LOG_LEVEL set and not silent).
bool apply_log_level(bool foreground) {
    const char* v = std::getenv("LOG_LEVEL");
    const std::string_view level = v != nullptr ? v : "";
    using util::log::Level;
    if (level == "verbose" || level == "debug") {
        util::log::set_debug(true);
        util::log::set_min_level(Level::debug);
    } else if (level == "info") {
        util::log::set_min_level(Level::info);
    } else if (level == "error") {
        util::log::set_min_level(Level::error);
    } else if (level == "silent") {
        util::log::set_min_level(Level::silent);
    } else {
        util::log::set_min_level(foreground ? Level::notice : Level::error);
    }
    return v != nullptr && level != "silent";
}

// In the daemon, once it is ready: standard input and output (and error, unless kept) go to
// /dev/null, so the caller's terminal or pipe is released, and the parent learns it may exit.
void detach_ready(int ready_fd, bool keep_stderr) {
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        ::dup2(null, 0);
        ::dup2(null, 1);
        if (!keep_stderr) ::dup2(null, 2);
        ::close(null);
    }
    util::log::open_sink();
    const char ok = 'R';
    [[maybe_unused]] const ssize_t n = ::write(ready_fd, &ok, 1);
    ::close(ready_fd);
}

// The launching process: waits for the daemon's readiness byte; its end of the pipe closing
// without one means the daemon failed (and said why on our standard error).
[[noreturn]] void await_ready(int ready_fd) {
    char c = 0;
    ssize_t n;
    do {
        n = ::read(ready_fd, &c, 1);
    } while (n < 0 && errno == EINTR);
    ::_exit(n == 1 && c == 'R' ? 0 : 1);  // no destructors: the daemon owns what was made
}

}  // namespace

int wg_command(std::string_view ifname, bool foreground) {
    if (const std::string problem = conf::check_interface_name(ifname); !problem.empty()) {
        std::fprintf(stderr, "ringtun: %s\n", problem.c_str());
        return 1;
    }
    foreground = foreground || env_is("WG_PROCESS_FOREGROUND", "1");
    const bool keep_stderr = apply_log_level(foreground);
    if (auto r = util::setup_daemon_process(); !r) {
        RT_LOG_ERROR("%s", r.error().to_string().c_str());
        return 1;
    }
    ServeOptions o;
    o.settings.interface_name = std::string(ifname);
    o.wg_mode = true;
    if (foreground) return serve(std::move(o));

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        RT_LOG_ERROR("pipe2: %s", std::strerror(errno));
        return 1;
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        RT_LOG_ERROR("fork: %s", std::strerror(errno));
        return 1;
    }
    if (pid > 0) {
        ::close(fds[1]);
        await_ready(fds[0]);
    }
    ::close(fds[0]);
    o.on_ready = [fd = fds[1], keep_stderr] { detach_ready(fd, keep_stderr); };
    return serve(std::move(o));
}

}  // namespace ringtun::daemon
