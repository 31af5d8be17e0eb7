// Entry point of backend_ring_test, the tests of the loop's restricted ring. They prove what
// the kernel refuses, so they mean nothing where io_uring itself is refused (a seccomp filter,
// kernel.io_uring_disabled, a kernel without it): there the binary exits 77, CTest's
// "skipped", naming the reason, instead of passing with nothing asserted.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "ring/availability.hpp"

int main(int argc, char** argv) {
    const ringtun::ring::IoUringAvailability io_uring = ringtun::ring::check_io_uring();
    if (!io_uring.usable) {
        std::fprintf(stderr, "backend_ring_test: skipped: %s\n", io_uring.reason.c_str());
        return 77;
    }
    doctest::Context context(argc, argv);
    return context.run();
}
