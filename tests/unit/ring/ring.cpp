// Ring: setup modes, NOP round trips, in-flight accounting, full SQ, registered files.
#include <doctest/doctest.h>
#include <poll.h>

#include <set>
#include <vector>

#include "ring/compat.hpp"
#include "ring/ring.hpp"
#include "ring/user_data.hpp"
#include "test_support.hpp"

using namespace ringtun::ring;
using namespace ringtun::ring::test;

namespace {

void prep_nop(Ring& ring, std::uint32_t slot) {
    io_uring_sqe* sqe = ring.get_sqe();
    REQUIRE(sqe != nullptr);
    io_uring_prep_nop(sqe);
    io_uring_sqe_set_data64(sqe, encode({.kind = kNop, .slot = slot}));
}

// Submits `n` NOPs and checks each comes back once, with its own user_data.
void nop_round_trip(Ring& ring, std::uint32_t n) {
    for (std::uint32_t i = 0; i < n; ++i)
        prep_nop(ring, i);
    CHECK(ring.in_flight() == n);
    std::multiset<std::uint32_t> got;
    auto on_cqe = [&](const io_uring_cqe& cqe) {
        CHECK(cqe.res == 0);
        CHECK(kind_of(cqe.user_data) == kNop);
        got.insert(decode(cqe.user_data).slot);
    };
    CHECK(pump_until(
        ring, [&] { return got.size() >= n; }, on_cqe));
    CHECK(got.size() == n);
    for (std::uint32_t i = 0; i < n; ++i)
        CHECK(got.count(i) == 1);
    CHECK(ring.in_flight() == 0);
}

constexpr unsigned kTaskRunBits = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
                                  IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;

}  // namespace

TEST_CASE("ring setup honours the preferred task-run mode and falls back") {
    SUBCASE("defer") {
        auto ring = ring_or_skip({.entries = 8, .taskrun = TaskRun::defer});
        if (!ring) return;
        // 6.1+ accepts it; older kernels must have fallen back rather than failed.
        if (ring->taskrun() == TaskRun::defer) {
            CHECK((ring->setup_flags() & IORING_SETUP_DEFER_TASKRUN) != 0);
            CHECK((ring->setup_flags() & IORING_SETUP_SINGLE_ISSUER) != 0);
        }
        CHECK((ring->setup_flags() & IORING_SETUP_SUBMIT_ALL) != 0);
        nop_round_trip(*ring, 5);
    }
    SUBCASE("coop") {
        auto ring = ring_or_skip({.entries = 8, .taskrun = TaskRun::coop});
        if (!ring) return;
        CHECK(ring->taskrun() != TaskRun::defer);
        CHECK((ring->setup_flags() & IORING_SETUP_DEFER_TASKRUN) == 0);
        if (ring->taskrun() == TaskRun::coop) {
            CHECK((ring->setup_flags() & IORING_SETUP_COOP_TASKRUN) != 0);
        }
        nop_round_trip(*ring, 5);
    }
    SUBCASE("none") {
        auto ring = ring_or_skip({.entries = 8, .taskrun = TaskRun::none});
        if (!ring) return;
        CHECK(ring->taskrun() == TaskRun::none);
        CHECK((ring->setup_flags() & kTaskRunBits) == 0);
        nop_round_trip(*ring, 5);
    }
    SUBCASE("sqpoll excludes the task-run modes") {
        auto ring = ring_or_skip({.entries = 8, .sqpoll_idle_ms = 10, .taskrun = TaskRun::defer});
        if (!ring) return;
        CHECK(ring->sqpoll());
        CHECK(ring->taskrun() == TaskRun::none);
        CHECK((ring->setup_flags() & kTaskRunBits) == 0);
        nop_round_trip(*ring, 20);  // more than the SQ holds: get_sqe waits for the thread
    }
}

TEST_CASE("ring sizes: CQ defaults to four times the SQ; ring fd registered") {
    auto ring = ring_or_skip({.entries = 16});
    if (!ring) return;
    CHECK(ring->sq_entries() == 16);
    CHECK(ring->cq_entries() == 64);
    CHECK(ring->ring_fd_registered());
    CHECK(ring->cq_overflow() == 0);
    auto big = ring_or_skip({.entries = 8, .cq_entries = 128});
    if (!big) return;
    CHECK(big->cq_entries() == 128);
}

TEST_CASE("get_sqe submits and retries when the SQ is full") {
    auto ring = ring_or_skip({.entries = 4});
    if (!ring) return;
    nop_round_trip(*ring, 4 * 4 + 3);  // five SQ's worth before the first explicit submit
}

TEST_CASE("a burst larger than the CQ loses nothing") {
    auto ring = ring_or_skip({.entries = 4, .cq_entries = 8});
    if (!ring) return;
    for (std::uint32_t i = 0; i < 40; ++i)
        prep_nop(*ring, i);
    REQUIRE(ring->submit() >= 0);
    CHECK(io_uring_cq_has_overflow(&ring->native()));  // the backlog is really exercised
    std::set<std::uint32_t> got;
    auto on_cqe = [&](const io_uring_cqe& cqe) { got.insert(decode(cqe.user_data).slot); };
    CHECK(pump_until(
        *ring, [&] { return ring->in_flight() == 0; }, on_cqe));
    CHECK(got.size() == 40);
    CHECK(ring->cq_overflow() == 0);  // held back and flushed, never dropped
}

TEST_CASE("in-flight count: multishot ends on its last CQE, timeouts and cancels count once") {
    auto ring = ring_or_skip();
    if (!ring) return;
    Pipe p = make_pipe();
    const std::uint64_t poll_ud = encode({.kind = kPoll, .slot = 1});

    io_uring_sqe* sqe = ring->get_sqe();
    REQUIRE(sqe);
    io_uring_prep_poll_multishot(sqe, p.read.get(), POLLIN);
    io_uring_sqe_set_data64(sqe, poll_ud);
    __kernel_timespec ts{.tv_sec = 0, .tv_nsec = 1'000'000};
    sqe = ring->get_sqe();
    REQUIRE(sqe);
    io_uring_prep_timeout(sqe, &ts, 0, 0);
    io_uring_sqe_set_data64(sqe, encode({.kind = kTimeout}));
    CHECK(ring->in_flight() == 2);

    int polls = 0, more = 0, timeouts = 0, last_poll_res = 1;
    auto on_cqe = [&](const io_uring_cqe& cqe) {
        if (kind_of(cqe.user_data) == kTimeout) {
            CHECK(cqe.res == -ETIME);
            ++timeouts;
        } else if (cqe.user_data == poll_ud) {
            ++polls;
            if (cqe.flags & IORING_CQE_F_MORE) ++more;
            last_poll_res = cqe.res;
        }
    };
    CHECK(pump_until(
        *ring, [&] { return timeouts == 1; }, on_cqe));
    CHECK(ring->in_flight() == 1);

    REQUIRE(::write(p.write.get(), "x", 1) == 1);
    CHECK(pump_until(
        *ring, [&] { return polls >= 1; }, on_cqe));
    CHECK(more == polls);  // still armed
    CHECK(ring->in_flight() == 1);

    sqe = ring->get_sqe();
    REQUIRE(sqe);
    io_uring_prep_poll_remove(sqe, poll_ud);
    io_uring_sqe_set_data64(sqe, encode({.kind = kNop}));
    CHECK(ring->in_flight() == 2);
    CHECK(pump_until(
        *ring, [&] { return ring->in_flight() == 0; }, on_cqe));
    CHECK(last_poll_res == -ECANCELED);
}

TEST_CASE("registered files: fixed reads work, an emptied slot fails with EBADF") {
    auto ring = ring_or_skip();
    if (!ring) return;
    Pipe p = make_pipe();
    const int table[] = {-1, p.read.get()};
    REQUIRE(ring->register_files(table));
    CHECK_FALSE(ring->register_files(table));  // one table per ring

    char buf[8] = {};
    REQUIRE(::write(p.write.get(), "ab", 2) == 2);
    io_uring_sqe* sqe = ring->get_sqe();
    REQUIRE(sqe);
    io_uring_prep_read(sqe, 0, buf, sizeof buf, 0);
    use_fixed_file(sqe, 1);
    io_uring_sqe_set_data64(sqe, encode({.kind = kRead, .slot = 1}));
    sqe = ring->get_sqe();
    REQUIRE(sqe);
    io_uring_prep_read(sqe, 0, buf, sizeof buf, 0);
    use_fixed_file(sqe, 0);  // empty slot
    io_uring_sqe_set_data64(sqe, encode({.kind = kRead, .slot = 0}));

    int res[2] = {1, 1};
    auto on_cqe = [&](const io_uring_cqe& cqe) { res[decode(cqe.user_data).slot] = cqe.res; };
    CHECK(pump_until(
        *ring, [&] { return ring->in_flight() == 0; }, on_cqe));
    CHECK(res[1] == 2);
    CHECK(buf[0] == 'a');
    CHECK(res[0] == -EBADF);

    REQUIRE(ring->update_file(1, -1));
    CHECK_FALSE(ring->update_file(2, -1));  // out of range
    sqe = ring->get_sqe();
    REQUIRE(sqe);
    io_uring_prep_read(sqe, 0, buf, sizeof buf, 0);
    use_fixed_file(sqe, 1);
    io_uring_sqe_set_data64(sqe, encode({.kind = kRead, .slot = 1}));
    CHECK(pump_until(
        *ring, [&] { return ring->in_flight() == 0; }, on_cqe));
    CHECK(res[1] == -EBADF);
    CHECK(ring->unregister_files());
}
