// Whether this process may use io_uring at all, and if not, why. Three things can refuse it:
//  - the sysctl kernel.io_uring_disabled (Linux 6.6+; Documentation/admin-guide/sysctl/
//    kernel.rst): 0 every process may create rings, 1 only processes with CAP_SYS_ADMIN or in
//    the group kernel.io_uring_group, 2 none; a refused io_uring_setup fails with EPERM;
//  - a seccomp filter: Docker 25+ and containerd 2.0's default profiles make io_uring_setup,
//    io_uring_enter and io_uring_register fail with EPERM;
//  - a kernel built without io_uring (CONFIG_IO_URING=n): ENOSYS.
// The answer comes from trying (a ring is created, probed and entered once); the sysctl and
// the process's seccomp mode only explain a refusal. The daemon asks once at start to choose
// its backend; `ringtun probe` prints the answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringtun::ring {

// What stands in io_uring's way.
enum class IoUringBlocker : std::uint8_t {
    none,             // usable
    sysctl,           // kernel.io_uring_disabled: 2, or 1 for a process it does not allow
    seccomp,          // a seccomp filter answers the io_uring system calls with an error
    not_built_in,     // ENOSYS: the kernel has no io_uring
    security_module,  // EPERM or EACCES that neither the sysctl nor seccomp explains (an LSM)
    other,            // any other error, e.g. ENOMEM (RLIMIT_MEMLOCK before Linux 5.12)
};
const char* to_string(IoUringBlocker b) noexcept;

struct IoUringAvailability {
    bool usable = false;
    IoUringBlocker blocker = IoUringBlocker::other;
    // The first io_uring system call that failed ("io_uring_setup", "io_uring_register",
    // "io_uring_enter") and its errno; nullptr and 0 when usable.
    const char* failed_call = nullptr;
    int error = 0;
    // kernel.io_uring_disabled (0, 1 or 2) and kernel.io_uring_group (-1: no group); nullopt
    // when the file is absent (before Linux 6.6) or unreadable.
    std::optional<int> sysctl_disabled;
    std::optional<long> sysctl_group;
    // The Seccomp field of /proc/self/status: 0 none, 1 strict, 2 filter; nullopt if the
    // kernel has no seccomp (no such field). A hint only: a filter need not touch io_uring.
    std::optional<int> seccomp_mode;
    // One line for logs and `ringtun probe`: why io_uring is usable or why not, naming the
    // errno ("io_uring_setup: EPERM from a seccomp filter ...").
    std::string reason;
};

// Creates a small ring, registers its probe and submits a NOP through io_uring_enter; reads
// the sysctl and /proc/self/status to explain a failure. Never fails itself: what it cannot
// read stays nullopt. Cost: one ring setup and teardown.
IoUringAvailability check_io_uring();

// ---- The sans-IO parts, exposed for tests. ----

// What check_io_uring() found, before it is explained.
struct IoUringFacts {
    const char* failed_call = nullptr;  // nullptr: every call succeeded
    int error = 0;
    std::optional<int> sysctl_disabled;
    std::optional<long> sysctl_group;
    std::optional<int> seccomp_mode;
    bool cap_sys_admin = false;    // CAP_SYS_ADMIN in the effective set
    bool in_sysctl_group = false;  // the effective or a supplementary gid is io_uring_group
};

// The verdict and its reason for `facts`.
IoUringAvailability explain(const IoUringFacts& facts);

// A sysctl file holding one integer ("2\n"); nullopt for anything else.
std::optional<long> parse_sysctl_integer(std::string_view contents) noexcept;
// kernel.io_uring_disabled's contents: 0, 1 or 2; nullopt for anything else.
std::optional<int> parse_io_uring_disabled(std::string_view contents) noexcept;
// The value of the field `name` ("Seccomp", "CapEff") in /proc/PID/status, without the tab;
// nullopt if the field is missing.
std::optional<std::string_view> status_field(std::string_view status,
                                             std::string_view name) noexcept;
// The Seccomp field: 0, 1 or 2.
std::optional<int> parse_seccomp_mode(std::string_view status) noexcept;
// The CapEff field (hexadecimal capability mask).
std::optional<std::uint64_t> parse_effective_caps(std::string_view status) noexcept;

}  // namespace ringtun::ring
