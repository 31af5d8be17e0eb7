// Kernel version parsing, the TUN mode decision, and the live feature probe.
#include <doctest/doctest.h>

#include "ring/compat.hpp"
#include "ring/features.hpp"

using namespace ringtun::ring;

TEST_CASE("kernel release strings parse") {
    CHECK(parse_kernel_release("6.18.44-fc-v595") == KernelVersion{6, 18, 44});
    CHECK(parse_kernel_release("6.1.0-18-amd64") == KernelVersion{6, 1, 0});
    CHECK(parse_kernel_release("5.19") == KernelVersion{5, 19, 0});
    CHECK(parse_kernel_release("6.4-rc1") == KernelVersion{6, 4, 0});
    CHECK_FALSE(parse_kernel_release("").has_value());
    CHECK_FALSE(parse_kernel_release("6").has_value());
    CHECK_FALSE(parse_kernel_release("linux-6.1").has_value());
    CHECK_FALSE(parse_kernel_release("6.x").has_value());
    CHECK(KernelVersion{6, 4, 0} > KernelVersion{6, 3, 99});
    CHECK(KernelVersion{5, 19, 0} < KernelVersion{6, 0, 0});
}

TEST_CASE("TUN fd is non-blocking wherever io_uring has internal poll") {
    CHECK(tun_blocking_default({5, 6, 0}));
    CHECK_FALSE(tun_blocking_default({5, 7, 0}));
    CHECK_FALSE(tun_blocking_default({6, 1, 0}));  // blocking would punt every read to io-wq
    CHECK_FALSE(tun_blocking_default({6, 4, 0}));
    CHECK_FALSE(tun_blocking_default({6, 18, 44}));
}

TEST_CASE("recommended defaults follow the probe") {
    Features f;
    f.kernel = {6, 1, 0};
    f.buffer_rings = true;
    f.recvmsg_multishot = true;
    IoDefaults d = recommended_defaults(f);
    CHECK(d.tun_nonblocking);
    CHECK_FALSE(d.tun_read_multishot);
    CHECK(d.tun_reads_in_flight == 8);
    CHECK(d.udp_recv_multishot);
    CHECK(d.udp_recvs_in_flight == 1);

    f.kernel = {6, 7, 0};
    f.read_multishot = true;
    f.single_issuer_defer_taskrun = true;
    d = recommended_defaults(f);
    CHECK(d.tun_read_multishot);
    CHECK(d.tun_reads_in_flight == 1);
    CHECK(d.defer_taskrun);

    f.buffer_rings = false;  // multishot needs provided buffers
    d = recommended_defaults(f);
    CHECK_FALSE(d.tun_read_multishot);
    CHECK_FALSE(d.udp_recv_multishot);
}

TEST_CASE("live probe agrees with the running kernel") {
    auto kernel = running_kernel();
    REQUIRE(kernel);
    auto f = probe_features();
    if (!f) {
        MESSAGE("io_uring unavailable, probe skipped: " << f.error().to_string());
        CHECK((f.error().sys_errno == EPERM || f.error().sys_errno == ENOSYS));
        return;
    }
    log_features(*f);
    CHECK(f->kernel == *kernel);
    CHECK(f->supports(IORING_OP_NOP));
    CHECK(f->supports(IORING_OP_READ));
    CHECK(f->has_feature(IORING_FEAT_EXT_ARG));
    // Each probe must find what the kernel's version promises (backports may add, not remove).
    if (*kernel >= KernelVersion{5, 19, 0}) {
        CHECK(f->buffer_rings);
        CHECK(f->coop_taskrun);
    }
    if (*kernel >= KernelVersion{6, 0, 0}) CHECK(f->recvmsg_multishot);
    if (*kernel >= KernelVersion{6, 1, 0}) {
        CHECK(f->single_issuer_defer_taskrun);
        CHECK(f->send_zc);
    }
    if (*kernel >= KernelVersion{6, 7, 0}) CHECK(f->read_multishot);
    CHECK(f->supports(kOpReadMultishot) == f->read_multishot);
}
