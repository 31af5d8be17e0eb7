// The loop's ring is restricted (create_loop_ring, the function Loop::setup calls): once
// enabled, the kernel refuses with -EACCES every operation but those opcodes.hpp lists for the
// loop's configuration, every SQE flag but the loop's, and every register operation but
// those of a running loop; what the loop does still works.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <string>

#include "daemon/backend/uring/loop_ring.hpp"
#include "daemon/backend/uring/opcodes.hpp"
#include "ring/buffer_ring.hpp"
#include "util/unique_fd.hpp"

using namespace ringtun;
using namespace std::chrono_literals;

namespace {

// The loop's ring for `uses`, enabled. main.cpp runs these tests only where io_uring is
// usable (it exits 77, CTest's "skipped", elsewhere), so any refusal here fails the test.
std::unique_ptr<ring::Ring> enabled_ring(const daemon::RingUses& uses) {
    daemon::LoopParams params;
    params.entries = 16;
    auto made = daemon::create_loop_ring(params, uses);
    if (!made) FAIL("create_loop_ring: " << made.error().to_string());
    REQUIRE((*made)->enable());
    return std::move(*made);
}

// Submits one SQE that `prep` fills and returns its result.
template <class Prep>
int submit_one(ring::Ring& ring, Prep prep) {
    io_uring_sqe* sqe = ring.get_sqe();
    REQUIRE(sqe != nullptr);
    prep(sqe);
    sqe->user_data = ring::encode({.kind = 1});
    std::optional<int> res;
    for (int i = 0; i < 20 && !res; ++i) {
        REQUIRE(ring.submit_and_wait(1, 100ms) >= 0);
        ring.reap([&](const io_uring_cqe& cqe) { res = cqe.res; });
    }
    REQUIRE(res.has_value());
    return *res;
}

// The result of `op` with every other field of the SQE zero (fd -1): -EACCES if the ring
// refuses the operation, or whatever the operation makes of such arguments.
int bare(ring::Ring& ring, std::uint8_t op) {
    return submit_one(ring,
                      [op](io_uring_sqe* sqe) { io_uring_prep_rw(op, sqe, -1, nullptr, 0, 0); });
}

unsigned last_op() {
    const ring::Probe p(io_uring_get_probe());
    REQUIRE(p != nullptr);
    return p->last_op;
}

}  // namespace

TEST_CASE("the loop's ring refuses every operation outside opcodes.hpp, and runs those in it") {
    for (const daemon::RingUses uses :
         {daemon::RingUses{}, daemon::RingUses{.tun_multishot = true, .streams = true},
          daemon::RingUses{.tun_multishot = true, .tcp = true, .streams = true}}) {
        auto ring = enabled_ring(uses);
        const auto allowed = daemon::loop_operations(uses);
        CHECK(!allowed.empty());
        unsigned refused = 0;
        for (unsigned op = 0; op <= last_op(); ++op) {
            const bool in_set = std::count(allowed.begin(), allowed.end(), op) != 0;
            const int res = bare(*ring, static_cast<std::uint8_t>(op));
            INFO("opcode " << op << " (in the set: " << in_set << "), result " << res);
            CHECK((res == -EACCES) == !in_set);
            refused += res == -EACCES ? 1 : 0;
        }
        MESSAGE("multishot " << uses.tun_multishot << ", tcp " << uses.tcp << ", streams "
                             << uses.streams << ": " << allowed.size() << " operations run, "
                             << refused << " of " << last_op() + 1 << " refused with EACCES");
        CHECK(ring->in_flight() == 0);
    }
}

TEST_CASE("the loop's ring: an opening operation refused, a read allowed, flags and registers") {
    auto ring = enabled_ring({.streams = true});
    // IORING_OP_OPENAT and IORING_OP_NOP are no operation of the loop's.
    const int opened = submit_one(*ring, [](io_uring_sqe* sqe) {
        io_uring_prep_openat(sqe, AT_FDCWD, "/etc/hostname", O_RDONLY, 0);
    });
    CHECK(opened == -EACCES);
    CHECK(submit_one(*ring, [](io_uring_sqe* sqe) { io_uring_prep_nop(sqe); }) == -EACCES);
    // Without the TCP transport the loop dials nothing.
    CHECK(bare(*ring, IORING_OP_CONNECT) == -EACCES);

    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    util::UniqueFd rd(fds[0]), wr(fds[1]);
    char byte = 'x', got = 0;
    REQUIRE(::write(wr.get(), &byte, 1) == 1);
    // A flag the loop never sets is refused with an operation it submits.
    CHECK(submit_one(*ring, [&](io_uring_sqe* sqe) {
              io_uring_prep_read(sqe, rd.get(), &got, 1, 0);
              sqe->flags |= IOSQE_ASYNC;
          }) == -EACCES);
    CHECK(submit_one(*ring, [&](io_uring_sqe* sqe) {
              io_uring_prep_read(sqe, rd.get(), &got, 1, 0);
          }) == 1);
    CHECK(got == 'x');
    MESSAGE("OPENAT " << opened << " (-EACCES is " << -EACCES << "), READ of a pipe 1 byte");

    // Register operations: a TCP connection's buffer ring is registered while the loop runs;
    // fixed buffers, a probe or an eventfd are nothing the loop asks for.
    auto buffers = ring::BufferRing::create(*ring, {.group_id = 16, .count = 4, .buffer_size = 64});
    CHECK(buffers);
    iovec iov{&got, 1};
    CHECK(io_uring_register_buffers(&ring->native(), &iov, 1) == -EACCES);
    io_uring_probe* probe = io_uring_get_probe_ring(&ring->native());
    CHECK(probe == nullptr);
    io_uring_free_probe(probe);
    CHECK(io_uring_register_eventfd(&ring->native(), wr.get()) == -EACCES);
}
