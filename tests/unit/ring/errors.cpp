// Error completions: each failing request ends with its error, and the completion path returns
// every slot and every buffer (the leak an earlier VPN server had on its error paths).
#include <doctest/doctest.h>

#include <map>
#include <vector>

#include "ring/buffer_ring.hpp"
#include "ring/compat.hpp"
#include "test_support.hpp"
#include "util/slot_pool.hpp"

using namespace ringtun::ring;
using ringtun::util::SlotPool;
using namespace ringtun::ring::test;

namespace {

constexpr std::uint16_t kGroup = 5;

// A miniature of the daemon's completion switch: slot per request, buffers from one group.
struct MiniLoop {
    Ring& ring;
    BufferRing& bufs;
    SlotPool pool{8};
    std::map<std::uint32_t, int> final_res;  // slot index -> result of its last CQE
    std::map<std::uint32_t, int> buffers_seen;

    std::uint32_t arm(io_uring_sqe* sqe, std::uint8_t kind) {
        auto s = pool.acquire();
        REQUIRE(s);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = kGroup;
        io_uring_sqe_set_data64(
            sqe, encode({.kind = kind, .generation = s->generation, .slot = s->index}));
        return s->index;
    }
    std::uint32_t arm_fixed_read(unsigned file_index) {
        io_uring_sqe* sqe = ring.get_sqe();
        REQUIRE(sqe);
        io_uring_prep_read(sqe, 0, nullptr, 64, 0);
        use_fixed_file(sqe, file_index);
        return arm(sqe, kRead);
    }
    std::uint32_t arm_recv(int fd) {
        io_uring_sqe* sqe = ring.get_sqe();
        REQUIRE(sqe);
        io_uring_prep_recv(sqe, fd, nullptr, 64, 0);
        return arm(sqe, kRecv);
    }
    std::uint32_t arm_recvmsg_multishot(int fd, msghdr* msg) {
        io_uring_sqe* sqe = ring.get_sqe();
        REQUIRE(sqe);
        io_uring_prep_recvmsg_multishot(sqe, fd, msg, 0);
        return arm(sqe, kRecv);
    }

    void on_cqe(const io_uring_cqe& cqe) {
        const UserData ud = decode(cqe.user_data);
        if (auto bid = bufs.take(cqe)) {
            ++buffers_seen[ud.slot];
            CHECK(bufs.recycle(*bid));
        }
        if (cqe.flags & IORING_CQE_F_MORE) return;
        CHECK(pool.is_current(ud.slot, ud.generation));
        CHECK(pool.release(ud.slot));
        final_res[ud.slot] = cqe.res;
    }
    bool pump_until_idle() {
        auto handler = [this](const io_uring_cqe& c) { on_cqe(c); };
        const bool ok = pump_until(
            ring, [&] { return ring.in_flight() == 0; }, handler);
        bufs.commit();
        return ok;
    }
};

}  // namespace

TEST_CASE("failed requests end with their error and return every slot and buffer") {
    auto ring = ring_or_skip();
    if (!ring) return;
    auto created = BufferRing::create(*ring, {.group_id = kGroup, .count = 8, .buffer_size = 256});
    REQUIRE(created);
    BufferRing& bufs = **created;
    MiniLoop loop{*ring, bufs, SlotPool{8}, {}, {}};

    Pipe p = make_pipe();
    const int table[] = {p.read.get(), -1};
    REQUIRE(ring->register_files(table));

    // 1. A read on an empty registered slot fails at once.
    const auto bad_slot = loop.arm_fixed_read(1);
    // 2. Reads pending on a pipe whose writer goes away: one gets data, the other EOF.
    const auto data_read = loop.arm_fixed_read(0);
    const auto eof_read = loop.arm_fixed_read(0);
    // 3. A recv on a stream socket that is then shut down.
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    ringtun::util::UniqueFd a(sv[0]), b(sv[1]);
    const auto shut_recv = loop.arm_recv(a.get());
    // 4. A multishot recvmsg on a UDP socket connected to a closed port: ICMP unreachable.
    sockaddr_in closed{};
    { auto tmp = udp_loopback(&closed); }
    sockaddr_in self{};
    auto udp = udp_loopback(&self);
    REQUIRE(::connect(udp.get(), reinterpret_cast<sockaddr*>(&closed), sizeof closed) == 0);
    msghdr msg{};
    const auto refused = loop.arm_recvmsg_multishot(udp.get(), &msg);
    REQUIRE(ring->submit() >= 0);
    CHECK(loop.pool.in_use() == 5);

    REQUIRE(::write(p.write.get(), "hello", 5) == 5);
    p.write.reset();
    REQUIRE(::shutdown(a.get(), SHUT_RDWR) == 0);
    REQUIRE(::send(udp.get(), "ping", 4, 0) == 4);

    CHECK(loop.pump_until_idle());
    CHECK(loop.final_res[bad_slot] == -EBADF);
    // Which pipe read gets the data is up to the kernel.
    const int r1 = loop.final_res[data_read], r2 = loop.final_res[eof_read];
    CHECK(std::max(r1, r2) == 5);
    CHECK(std::min(r1, r2) == 0);
    CHECK(loop.final_res[shut_recv] == 0);
    CHECK(loop.final_res[refused] == -ECONNREFUSED);
    CHECK(loop.buffers_seen[bad_slot] == 0);

    CHECK(ring->in_flight() == 0);
    CHECK(loop.pool.in_use() == 0);
    CHECK(bufs.lent() == bufs.count());
    CHECK(bufs.held() == 0);

    // The ring is still healthy: the same slots and buffers serve new requests.
    const auto again = loop.arm_fixed_read(1);
    CHECK(loop.pump_until_idle());
    CHECK(loop.final_res[again] == -EBADF);
    CHECK(loop.pool.in_use() == 0);
}
