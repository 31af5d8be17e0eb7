// `ringtun probe` without the host: the backend "auto" chooses for each io_uring answer, and
// the text and JSON renderers on hand-made reports (refused, permitted, unknown offloads).
#include "daemon/cli/probe.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <string>

#include "daemon/cli/settings.hpp"
#include "ring/compat.hpp"

using namespace ringtun;
using namespace ringtun::daemon;

namespace {

bool contains(const std::string& s, const std::string& what) {
    return s.find(what) != std::string::npos;
}

ring::IoUringAvailability refused_by_seccomp() {
    ring::IoUringFacts f;
    f.failed_call = "io_uring_setup";
    f.error = EPERM;
    f.seccomp_mode = 2;
    f.sysctl_disabled = 0;
    f.sysctl_group = -1;
    return ring::explain(f);
}

ring::Features kernel_6_1() {
    ring::Features f;
    f.kernel = {6, 1, 0};
    f.buffer_rings = true;
    f.recvmsg_multishot = true;
    f.coop_taskrun = true;
    f.feature_bits = IORING_FEAT_EXT_ARG | IORING_FEAT_FAST_POLL | (1U << 30);
    f.opcodes.set(IORING_OP_READ);
    f.opcodes.set(IORING_OP_RECVMSG);
    return f;
}

ProbeReport refused_report() {
    ProbeReport r;
    r.release = "6.6.0-\"odd\"\n";
    r.kernel = ring::KernelVersion{6, 6, 0};
    r.io_uring = refused_by_seccomp();
    r.tun_error = "needs CAP_NET_ADMIN";
    r.udp_gso = true;
    r.udp_gro = false;
    r.backend = choose_backend(r.io_uring, util::fail(util::make_error("io_uring", "refused")));
    return r;
}

}  // namespace

TEST_CASE("auto takes io_uring only where it is permitted and has what the loop needs") {
    const ring::IoUringAvailability refused = refused_by_seccomp();
    BackendChoice c = choose_backend(refused, kernel_6_1());
    CHECK(c.backend == Backend::epoll);
    CHECK(contains(c.reason, "io_uring refused: io_uring_setup: EPERM from a seccomp filter"));

    const ring::IoUringAvailability usable = ring::explain({});
    CHECK(choose_backend(usable, kernel_6_1()).backend == Backend::io_uring);

    ring::Features old = kernel_6_1();
    old.recvmsg_multishot = false;  // 5.19
    c = choose_backend(usable, old);
    CHECK(c.backend == Backend::epoll);
    CHECK(contains(c.reason, "Linux 6.0"));

    c = choose_backend(usable, util::fail(util::sys_error("io_uring_queue_init_params", ENOMEM)));
    CHECK(c.backend == Backend::epoll);
    CHECK(contains(c.reason, "feature probe failed"));
}

TEST_CASE("a refused io_uring: the text says why and names epoll") {
    const std::string text = probe_text(refused_report());
    CHECK(contains(text, "io_uring           refused: io_uring_setup: EPERM from a seccomp"));
    CHECK(contains(text, "  seccomp          2 (filter)\n"));
    CHECK(contains(text, "TUN offloads       unknown (needs CAP_NET_ADMIN)\n"));
    CHECK(contains(text, "gso (UDP_SEGMENT) yes, gro (UDP_GRO) no"));
    CHECK(contains(text, "backend (auto)     epoll: io_uring refused"));
    CHECK_FALSE(contains(text, "[ring] defaults"));
    for (std::size_t start = 0, end; start < text.size(); start = end + 1) {
        end = text.find('\n', start);
        CHECK(end - start <= 100);
    }
}

TEST_CASE("a refused io_uring: JSON nulls what is unknown and escapes what came in") {
    const std::string json = probe_json(refused_report(), "9.9.9");
    CHECK(contains(json, "\"ringtun\": \"9.9.9\""));
    CHECK(contains(json, "\"release\": \"6.6.0-\\\"odd\\\"\\n\""));
    CHECK(contains(json, "\"permitted\": false"));
    CHECK(contains(json, "\"blocker\": \"seccomp\""));
    CHECK(contains(json, "\"failed_call\": \"io_uring_setup\""));
    CHECK(contains(json, "\"errno\": \"EPERM\""));
    CHECK(contains(json, "\"seccomp_mode\": 2"));
    CHECK(contains(json, "\"features\": null"));
    CHECK(contains(json, "\"unknown_reason\": \"needs CAP_NET_ADMIN\""));
    CHECK(contains(json, "\"tso4\": null"));
    CHECK(contains(json, "\"gro\": false"));
    CHECK(contains(json, "\"ring\": null"));
    CHECK(contains(json, "\"auto\": \"epoll\""));
}

TEST_CASE("a permitted io_uring: features, opcodes and the [ring] defaults") {
    ProbeReport r;
    r.release = "6.1.0-18-amd64";
    r.kernel = ring::KernelVersion{6, 1, 0};
    r.io_uring = ring::explain({});
    r.features = kernel_6_1();
    r.tun = tun::TunOffloadSupport{true, true, true, true, false};
    r.udp_gso = true;
    r.udp_gro = true;
    r.backend = choose_backend(r.io_uring, *r.features);
    RingDefaults d;
    bool blocking = true;
    auto params = loop_params(conf::RingTunables{}, 1420, *r.features, blocking);
    REQUIRE(params);
    d.params = *params;
    d.tun_blocking = blocking;
    d.taskrun = ring::TaskRun::coop;
    r.ring = d;

    const std::string text = probe_text(r);
    CHECK(contains(text, "read_multishot no"));
    CHECK(contains(text, "EXT_ARG"));
    CHECK(contains(text, "bit30"));  // a bit this build has no name for
    CHECK(contains(text, "READ yes, READ_MULTISHOT no"));
    CHECK(contains(text, "uso4+uso6 no"));
    CHECK(contains(text, "  tun_read         slots (no IORING_OP_READ_MULTISHOT before Linux 6.7"));
    CHECK(contains(text, "  tun_blocking     false (before 6.4"));
    CHECK(contains(text, "here 64)"));
    CHECK(contains(text, "  task run         coop"));
    CHECK(contains(text, "backend (auto)     io_uring: "));

    const std::string json = probe_json(r, "0");
    CHECK(contains(json, "\"EXT_ARG\": true"));
    CHECK(contains(json, "\"NODROP\": false"));
    CHECK(contains(json, "\"READ_MULTISHOT\": false"));
    CHECK(contains(json, "\"uso6\": false"));
    CHECK(contains(json, "\"tun_read\": \"slots\""));
    CHECK(contains(json, "\"udp_rx_buffers\": 64"));
    CHECK(contains(json, "\"taskrun\": \"coop\""));
    CHECK(contains(json, "\"auto\": \"io_uring\""));
}
