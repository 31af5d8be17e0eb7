// Entry point of tun_test. The tests create and configure interfaces, so they run only as
// root with /dev/net/tun, and only inside a network namespace of their own so that nothing
// touches the host's interfaces. Exits 77 (CTest's "skipped") when any of that is missing.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace {

constexpr int kSkip = 77;

int skip(const char* why, const char* cause = "") {
    std::fprintf(stderr, "tun_test: skipped: %s%s\n", why, cause);
    return kSkip;
}

}  // namespace

int main(int argc, char** argv) {
    if (::geteuid() != 0) return skip("needs root");
    if (::access("/dev/net/tun", R_OK | W_OK) != 0) return skip("/dev/net/tun is unavailable");
    if (::unshare(CLONE_NEWNET) != 0) return skip("unshare(CLONE_NEWNET): ", std::strerror(errno));

    doctest::Context context(argc, argv);
    return context.run();
}
