// The log sink never blocks and never raises SIGPIPE, whatever standard error is, and the
// daemon's process setup ignores SIGPIPE. Each case runs in a forked child, so a write that
// blocks (ended by alarm()) or a SIGPIPE fails the case instead of hanging or killing the
// test program, and the sink the other tests use stays as it was.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "util/log.hpp"
#include "util/process_setup.hpp"

namespace ringtun::util {
namespace {

// Child exit codes; anything the child can report about itself.
constexpr int child_ok = 0;
constexpr int child_slow = 10;
constexpr int child_not_counted = 11;
constexpr int child_setup_failed = 12;
constexpr int child_not_ignored = 13;

// Runs `body` in a child that SIGALRM ends after 5 s; describes how the child ended.
template <typename F>
std::string in_child(F body) {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        signal(SIGALRM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        alarm(5);
        _exit(body());
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        return std::string("killed by ") + sigabbrev_np(sig) +
               (sig == SIGALRM ? " (blocked for 5 s)" : "");
    }
    switch (WEXITSTATUS(status)) {
        case child_ok:
            return "ok";
        case child_slow:
            return "log call took longer than 1 s";
        case child_not_counted:
            return "dropped() did not count the lost line";
        case child_setup_failed:
            return "setup_daemon_process failed";
        case child_not_ignored:
            return "SIGPIPE is not ignored";
        default:
            return "exit " + std::to_string(WEXITSTATUS(status));
    }
}

// Fills the pipe or socket whose write end is `fd` until the kernel takes no more, then leaves the
// fd blocking again, as an inherited standard error would be.
void fill(int fd) {
    const int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    char chunk[4096];
    memset(chunk, 'x', sizeof chunk);
    while (::write(fd, chunk, sizeof chunk) > 0) {
    }
    fcntl(fd, F_SETFL, flags);
}

// Logs one line to `fd`, whose reader has stopped reading; 0 when that took under a second and
// was counted as dropped.
int log_to_stalled(int fd) {
    log::open_sink(fd);
    const std::uint64_t before = log::dropped();
    const auto start = std::chrono::steady_clock::now();
    RT_LOG_ERROR("a line for a stalled reader");
    if (std::chrono::steady_clock::now() - start > std::chrono::seconds(1)) return child_slow;
    return log::dropped() == before + 1 ? child_ok : child_not_counted;
}

TEST_CASE("log: a line for a full pipe or socket nobody reads is dropped and counted") {
    SUBCASE("a pipe") {
        const std::string outcome = in_child([] {
            int p[2];
            if (pipe2(p, O_CLOEXEC) != 0) return 20;
            fill(p[1]);
            return log_to_stalled(p[1]);
        });
        CHECK(outcome == "ok");
    }
    SUBCASE("a stream socket, as journald's") {
        const std::string outcome = in_child([] {
            int sv[2];
            if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return 20;
            fill(sv[0]);
            return log_to_stalled(sv[0]);
        });
        CHECK(outcome == "ok");
    }
}

TEST_CASE("log: standard error a pipe without a reader neither kills nor blocks") {
    SUBCASE("the reader is gone before the sink is chosen") {
        const std::string outcome = in_child([] {
            int p[2];
            if (pipe2(p, O_CLOEXEC) != 0) return 20;
            ::close(p[0]);
            if (dup2(p[1], STDERR_FILENO) < 0) return 21;
            log::open_sink();
            const std::uint64_t before = log::dropped();
            RT_LOG_ERROR("a line for a pipe without a reader");
            return log::dropped() == before + 1 ? child_ok : child_not_counted;
        });
        CHECK(outcome == "ok");
    }
    SUBCASE("the reader leaves while the daemon runs") {
        const std::string outcome = in_child([] {
            int p[2];
            if (pipe2(p, O_CLOEXEC) != 0) return 20;
            if (dup2(p[1], STDERR_FILENO) < 0) return 21;
            log::open_sink();
            ::close(p[0]);
            const std::uint64_t before = log::dropped();
            RT_LOG_ERROR("a line for a pipe whose reader left");
            return log::dropped() == before + 1 ? child_ok : child_not_counted;
        });
        CHECK(outcome == "ok");
    }
}

TEST_CASE("log: the daemon's process setup ignores SIGPIPE") {
    const std::string outcome = in_child([] {
        if (!setup_daemon_process()) return child_setup_failed;
        struct sigaction sa {};
        if (sigaction(SIGPIPE, nullptr, &sa) != 0) return 22;
        return sa.sa_handler == SIG_IGN ? child_ok : child_not_ignored;
    });
    CHECK(outcome == "ok");
}

}  // namespace
}  // namespace ringtun::util
