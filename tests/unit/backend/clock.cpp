// The protocol clock must count through suspend (CLOCK_BOOTTIME): a laptop that slept ten
// minutes must not keep sending under keys that expired meanwhile. Suspend cannot be staged
// in a test, but a time namespace can: it offsets CLOCK_BOOTTIME and leaves CLOCK_MONOTONIC
// alone, exactly what a suspend does to the two clocks. Needs root and time namespaces
// (Linux 5.6+); skipped otherwise.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "daemon/backend/clock.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace {

constexpr long kSuspendSeconds = 86400;

std::uint64_t monotonic_ns() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000ULL +
           static_cast<std::uint64_t>(t.tv_nsec);
}

// In a child in a new time namespace whose boot time is a day ahead: 0 when the clock the
// backend reads includes that day, 1 when it does not, 77 when the namespace is unavailable.
int child_sees_suspend() {
    if (unshare(CLONE_NEWTIME) != 0) return 77;
    const int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return 77;
    char line[64];
    const int n = std::snprintf(line, sizeof line, "boottime %ld 0", kSuspendSeconds);
    const bool written = write(fd, line, static_cast<std::size_t>(n)) == n;
    close(fd);
    if (!written) return 77;
    const pid_t pid = fork();  // the new namespace applies to children only
    if (pid < 0) return 77;
    if (pid == 0) {
        const std::uint64_t mono = monotonic_ns();
        const std::uint64_t boot = ringtun::daemon::read_clock().boot;
        _exit(boot >= mono + (kSuspendSeconds - 60) * 1'000'000'000ULL ? 0 : 1);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return 1;
    return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("the protocol clock counts time the machine spent suspended (CLOCK_BOOTTIME)") {
    if (geteuid() != 0) {
        MESSAGE("skipped: needs root for a time namespace");
        return;
    }
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(child_sees_suspend());
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        MESSAGE("skipped: time namespaces unavailable");
        return;
    }
    CHECK_MESSAGE(WEXITSTATUS(status) == 0,
                  "read_clock().boot did not advance with CLOCK_BOOTTIME's offset");
}
