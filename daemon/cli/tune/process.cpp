#include "daemon/cli/tune/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

#include "util/unique_fd.hpp"

extern char** environ;

namespace ringtun::daemon::tune {

namespace {

using Clock = std::chrono::steady_clock;

// iproute2's usual places, then the PATH.
const char* ip_path() {
    for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
        if (::access(p, X_OK) == 0) return p;
    return "ip";
}

std::vector<char*> c_strings(std::vector<std::string>& words) {
    std::vector<char*> out;
    for (std::string& w : words)
        out.push_back(w.data());
    out.push_back(nullptr);
    return out;
}

// The environment minus what would make a child talk to our supervisor or adopt our TUN.
std::vector<std::string> child_environment() {
    static constexpr std::array<std::string_view, 6> drop = {
        "NOTIFY_SOCKET=",  "WATCHDOG_USEC=", "WATCHDOG_PID=",
        "RINGTUN_TUN_FD=", "WG_TUN_FD=",     "WG_UAPI_FD="};
    std::vector<std::string> out;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const std::string_view v = *e;
        bool keep = true;
        for (std::string_view d : drop)
            keep = keep && !v.starts_with(d);
        if (keep) out.emplace_back(v);
    }
    return out;
}

// Waits for `pid` until `deadline`; its wait status, or nullopt (still running).
std::optional<int> reap_by(pid_t pid, Clock::time_point deadline) {
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR)) return status;
        if (Clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

// What the child wrote to `fd` until it closed it or `deadline`.
std::string read_until(int fd, Clock::time_point deadline) {
    std::string out;
    char buf[512];
    while (Clock::now() < deadline && out.size() < 4096) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
        out.pop_back();
    return out;
}

util::Result<pid_t> spawn_ip(std::vector<std::string>& argv, int err_fd) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    std::vector<char*> args = c_strings(argv);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, argv[0].c_str(), &fa, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) return util::fail(util::sys_error("ip (iproute2)", rc, "cannot start it"));
    return pid;
}

}  // namespace

util::Result<void> run_ip(const std::vector<std::string>& args) {
    std::vector<std::string> argv{ip_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string what = "ip";
    for (const std::string& a : args)
        what += " " + a;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return util::fail(util::sys_error("pipe2", errno));
    util::UniqueFd read_end(fds[0]), write_end(fds[1]);
    auto pid = spawn_ip(argv, write_end.get());
    if (!pid) return util::fail(pid.error());
    write_end.reset();
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    const std::string said = read_until(read_end.get(), deadline);
    const std::optional<int> status = reap_by(*pid, deadline);
    if (!status) {
        ::kill(*pid, SIGKILL);
        reap_by(*pid, Clock::time_point::max());
        return util::fail(util::make_error(what, "did not finish in 10 s"));
    }
    if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) return {};
    return util::fail(util::make_error(what, said.empty() ? "failed" : said));
}

util::Result<Child> Child::start_in(int netns_fd, const std::vector<std::string>& args,
                                    const std::string& log_path,
                                    const std::vector<std::string>& extra_env) {
    std::vector<std::string> argv{"ringtun"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> env = child_environment();
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> c_argv = c_strings(argv), c_env = c_strings(env);
    util::UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!log) return util::fail(util::sys_error("open " + log_path, errno));
    util::UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!null) return util::fail(util::sys_error("open /dev/null", errno));
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) return util::fail(util::sys_error("fork", errno));
    if (pid == 0) {
        // Only async-signal-safe calls from here to exec: the parent may have threads.
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::_exit(127);  // the parent is already gone
        if (::dup2(null.get(), 0) < 0 || ::dup2(log.get(), 1) < 0 || ::dup2(log.get(), 2) < 0)
            ::_exit(127);
        if (::setns(netns_fd, CLONE_NEWNET) != 0) {
            static const char msg[] = "ringtun tune: setns into the lab's namespace failed\n";
            [[maybe_unused]] const ssize_t n = ::write(2, msg, sizeof msg - 1);
            ::_exit(127);
        }
        ::execve("/proc/self/exe", c_argv.data(), c_env.data());
        ::_exit(127);
    }
    return Child(pid);
}

Child::Child(Child&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}

Child& Child::operator=(Child&& o) noexcept {
    if (this != &o) {
        stop();
        pid_ = std::exchange(o.pid_, -1);
    }
    return *this;
}

Child::~Child() {
    stop();
}

bool Child::running() noexcept {
    if (pid_ < 0) return false;
    if (!reap_by(pid_, Clock::now())) return true;
    pid_ = -1;
    return false;
}

void Child::stop(int grace_ms) noexcept {
    if (pid_ < 0) return;
    ::kill(pid_, SIGTERM);
    if (!reap_by(pid_, Clock::now() + std::chrono::milliseconds(grace_ms))) {
        ::kill(pid_, SIGKILL);
        reap_by(pid_, Clock::time_point::max());
    }
    pid_ = -1;
}

}  // namespace ringtun::daemon::tune
