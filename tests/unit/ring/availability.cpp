// Whether io_uring is permitted: the /proc parsers, the verdict for each refusal, and the live
// check against what the probe finds.
#include <doctest/doctest.h>

#include <cerrno>
#include <string>

#include "ring/availability.hpp"
#include "ring/features.hpp"

using namespace ringtun::ring;

namespace {

constexpr const char* kStatus =
    "Name:\tringtun\n"
    "Umask:\t0022\n"
    "State:\tR (running)\n"
    "CapInh:\t0000000000000000\n"
    "CapEff:\t000001fffeffffff\n"
    "NoNewPrivs:\t1\n"
    "Seccomp:\t2\n"
    "Seccomp_filters:\t1\n"
    "Speculation_Store_Bypass:\tthread vulnerable\n";

bool contains(const std::string& s, const char* what) {
    return s.find(what) != std::string::npos;
}

}  // namespace

TEST_CASE("sysctl contents parse") {
    CHECK(parse_io_uring_disabled("0\n") == 0);
    CHECK(parse_io_uring_disabled("1\n") == 1);
    CHECK(parse_io_uring_disabled("2") == 2);
    CHECK_FALSE(parse_io_uring_disabled("3\n"));
    CHECK_FALSE(parse_io_uring_disabled("-1\n"));
    CHECK_FALSE(parse_io_uring_disabled(""));
    CHECK_FALSE(parse_io_uring_disabled("\n"));
    CHECK_FALSE(parse_io_uring_disabled("1 2\n"));
    CHECK_FALSE(parse_io_uring_disabled("x"));
    CHECK(parse_sysctl_integer("-1\n") == -1);  // kernel.io_uring_group's default
    CHECK(parse_sysctl_integer("1000\n") == 1000);
    CHECK_FALSE(parse_sysctl_integer("10a\n"));
}

TEST_CASE("/proc/self/status fields parse") {
    CHECK(status_field(kStatus, "Seccomp") == std::string_view("2"));
    CHECK(status_field(kStatus, "Name") == std::string_view("ringtun"));
    CHECK_FALSE(status_field(kStatus, "Secc"));  // a prefix of a field is not the field
    CHECK_FALSE(status_field(kStatus, "Missing"));
    CHECK(parse_seccomp_mode(kStatus) == 2);  // not confused with Seccomp_filters
    CHECK(parse_seccomp_mode("Seccomp:\t0\n") == 0);
    CHECK(parse_seccomp_mode("Seccomp:\t1") == 1);  // last line without a newline
    CHECK_FALSE(parse_seccomp_mode("Seccomp:\t7\n"));
    CHECK_FALSE(parse_seccomp_mode("Name:\tx\n"));  // a kernel without CONFIG_SECCOMP
    CHECK(parse_effective_caps(kStatus) == 0x000001fffeffffffULL);
    CHECK(parse_effective_caps("CapEff:\t0000000000000000\n") == 0U);
    CHECK_FALSE(parse_effective_caps("CapEff:\tzz\n"));
}

TEST_CASE("every call succeeding is usable, whatever the hints say") {
    IoUringFacts f;
    f.seccomp_mode = 2;  // a filter that leaves io_uring alone
    f.sysctl_disabled = 0;
    IoUringAvailability a = explain(f);
    CHECK(a.usable);
    CHECK(a.blocker == IoUringBlocker::none);
    CHECK(a.error == 0);
    CHECK(a.failed_call == nullptr);
    CHECK(a.seccomp_mode == 2);

    f.sysctl_disabled = 1;
    f.cap_sys_admin = true;
    a = explain(f);
    CHECK(a.usable);
    CHECK(contains(a.reason, "CAP_SYS_ADMIN"));
    f.cap_sys_admin = false;
    f.in_sysctl_group = true;
    CHECK(contains(explain(f).reason, "is in kernel.io_uring_group"));
}

TEST_CASE("EPERM is put down to the sysctl, seccomp or a security module") {
    IoUringFacts f;
    f.failed_call = "io_uring_setup";
    f.error = EPERM;

    f.sysctl_disabled = 2;
    f.cap_sys_admin = true;  // 2 refuses even root
    IoUringAvailability a = explain(f);
    CHECK_FALSE(a.usable);
    CHECK(a.blocker == IoUringBlocker::sysctl);
    CHECK(contains(a.reason, "kernel.io_uring_disabled = 2"));
    CHECK(contains(a.reason, "EPERM"));

    f.sysctl_disabled = 1;
    f.cap_sys_admin = false;
    f.sysctl_group = -1;
    a = explain(f);
    CHECK(a.blocker == IoUringBlocker::sysctl);
    CHECK(contains(a.reason, "(none set)"));

    // 1 allows this process (root, or in the group): the sysctl is not the cause.
    f.in_sysctl_group = true;
    f.seccomp_mode = 2;
    a = explain(f);
    CHECK(a.blocker == IoUringBlocker::seccomp);
    CHECK(contains(a.reason, "io_uring_setup: EPERM from a seccomp filter"));

    f.sysctl_disabled.reset();  // before Linux 6.6
    f.seccomp_mode = 0;
    a = explain(f);
    CHECK(a.blocker == IoUringBlocker::security_module);
    CHECK(a.error == EPERM);

    // A filter that lets the ring be created but refuses entering it.
    f.failed_call = "io_uring_enter";
    f.seccomp_mode = 2;
    f.sysctl_disabled = 2;  // cannot be the cause: setup succeeded
    a = explain(f);
    CHECK(a.blocker == IoUringBlocker::seccomp);
    CHECK(contains(a.reason, "io_uring_enter: EPERM"));
}

TEST_CASE("ENOSYS, EACCES and other errors") {
    IoUringFacts f;
    f.failed_call = "io_uring_setup";
    f.error = ENOSYS;
    f.seccomp_mode = 0;
    IoUringAvailability a = explain(f);
    CHECK(a.blocker == IoUringBlocker::not_built_in);
    CHECK(contains(a.reason, "CONFIG_IO_URING"));
    f.seccomp_mode = 2;
    CHECK(explain(f).blocker == IoUringBlocker::seccomp);

    f.error = EACCES;
    f.seccomp_mode = 0;
    a = explain(f);
    CHECK(a.blocker == IoUringBlocker::security_module);
    CHECK(contains(a.reason, "EACCES"));

    f.error = ENOMEM;
    a = explain(f);
    CHECK(a.blocker == IoUringBlocker::other);
    CHECK(contains(a.reason, "RLIMIT_MEMLOCK"));
}

TEST_CASE("the live check agrees with the feature probe") {
    const IoUringAvailability a = check_io_uring();
    MESSAGE("io_uring: " << a.reason);
    CHECK_FALSE(a.reason.empty());
    CHECK(a.usable == probe_features().has_value());
    if (!a.usable) CHECK(a.failed_call != nullptr);
}
