// BufferRing with real multishot requests: READ_MULTISHOT on a pipe, recvmsg on UDP loopback.
#include <doctest/doctest.h>

#include <cstring>
#include <set>
#include <string>
#include <string_view>

#include "ring/buffer_ring.hpp"
#include "ring/compat.hpp"
#include "ring/features.hpp"
#include "test_support.hpp"

using namespace ringtun::ring;
using namespace ringtun::ring::test;

namespace {

std::string_view as_text(std::span<const std::byte> s, int len) {
    return {reinterpret_cast<const char*>(s.data()), static_cast<std::size_t>(len)};
}

struct Completion {
    int res = 0;
    std::uint32_t flags = 0;
};

void arm_read_multishot(Ring& ring, int fd, std::uint16_t group) {
    io_uring_sqe* sqe = ring.get_sqe();
    REQUIRE(sqe);
    prep_read_multishot(sqe, fd, group);
    io_uring_sqe_set_data64(sqe, encode({.kind = kRead}));
}

}  // namespace

TEST_CASE("buffer ring rejects bad sizes and lays out headroom and tailroom") {
    auto ring = ring_or_skip();
    if (!ring) return;
    CHECK_FALSE(BufferRing::create(*ring, {.count = 3}));
    CHECK_FALSE(BufferRing::create(*ring, {.count = 65536}));
    CHECK_FALSE(BufferRing::create(*ring, {.count = 4, .buffer_size = 0}));

    auto br = BufferRing::create(
        *ring, {.group_id = 3, .count = 8, .buffer_size = 100, .headroom = 16, .tailroom = 16});
    REQUIRE(br);
    BufferRing& b = **br;
    CHECK(b.lent() == 8);
    CHECK(b.held() == 0);
    CHECK(b.pending() == 0);
    CHECK(b.buffer(0).size() == 100);
    CHECK(b.buffer(0).data() - b.frame(0).data() == 16);
    CHECK(b.frame(0).size() >= 132);
    CHECK(b.frame(1).data() - b.frame(0).data() == static_cast<long>(b.frame(0).size()));
    CHECK(reinterpret_cast<std::uintptr_t>(b.frame(1).data()) % 64 == 0);
    // Nothing has been handed out, so nothing can come back.
    CHECK_FALSE(b.recycle(0));
    CHECK_FALSE(b.recycle(8));
    // The same group cannot be registered twice.
    CHECK_FALSE(BufferRing::create(*ring, {.group_id = 3, .count = 8}));
}

TEST_CASE("READ_MULTISHOT: distinct buffers, -ENOBUFS when dry, re-arm after recycling") {
    auto ring = ring_or_skip();
    if (!ring) return;
    auto f = probe_features();
    REQUIRE(f);
    if (!f->read_multishot) {
        MESSAGE("kernel lacks IORING_OP_READ_MULTISHOT, skipped");
        return;
    }
    auto created = BufferRing::create(*ring, {.group_id = 1, .count = 4, .buffer_size = 64});
    REQUIRE(created);
    BufferRing& bufs = **created;
    Pipe p = make_pipe();
    arm_read_multishot(*ring, p.read.get(), 1);

    std::vector<Completion> got;
    std::vector<std::string> data;
    std::set<std::uint16_t> bids;
    auto on_cqe = [&](const io_uring_cqe& cqe) {
        got.push_back({cqe.res, cqe.flags});
        if (auto bid = bufs.take(cqe)) {
            bids.insert(*bid);
            data.emplace_back(as_text(bufs.buffer(*bid), cqe.res));
        }
    };
    for (int i = 0; i < 4; ++i) {
        const std::string msg = "packet-" + std::to_string(i);
        REQUIRE(::write(p.write.get(), msg.data(), msg.size()) == static_cast<ssize_t>(msg.size()));
        REQUIRE(pump_until(
            *ring, [&] { return data.size() == static_cast<std::size_t>(i + 1); }, on_cqe));
        CHECK(data.back() == msg);
        CHECK((got.back().flags & IORING_CQE_F_MORE) != 0);
    }
    CHECK(bids.size() == 4);
    CHECK(bufs.lent() == 0);
    CHECK(bufs.held() == 4);

    // The group is dry: the request ends with -ENOBUFS (now or when data arrives).
    REQUIRE(::write(p.write.get(), "late", 4) == 4);
    REQUIRE(pump_until(
        *ring, [&] { return ring->in_flight() == 0; }, on_cqe));
    CHECK(got.back().res == -ENOBUFS);
    CHECK((got.back().flags & IORING_CQE_F_MORE) == 0);

    for (auto bid : bids)
        CHECK(bufs.recycle(bid));
    CHECK_FALSE(bufs.recycle(*bids.begin()));  // twice
    CHECK(bufs.pending() == 4);
    bufs.commit();
    CHECK(bufs.pending() == 0);
    CHECK(bufs.lent() == 4);

    arm_read_multishot(*ring, p.read.get(), 1);
    REQUIRE(pump_until(
        *ring, [&] { return data.size() == 5; }, on_cqe));
    CHECK(data.back() == "late");  // nothing was lost while the group was dry

    p.write.reset();  // EOF ends the request
    REQUIRE(pump_until(
        *ring, [&] { return ring->in_flight() == 0; }, on_cqe));
    CHECK(got.back().res == 0);
    for (auto bid : bids)
        (void)bufs.recycle(bid);
    bufs.commit();
    CHECK(bufs.lent() == 4);
}

TEST_CASE("multishot recvmsg on UDP loopback: one datagram per buffer, with its source") {
    auto ring = ring_or_skip();
    if (!ring) return;
    sockaddr_in rx_addr{}, tx_addr{};
    auto rx = udp_loopback(&rx_addr);
    auto tx = udp_loopback(&tx_addr);
    auto created = BufferRing::create(*ring, {.group_id = 2, .count = 8, .buffer_size = 256});
    REQUIRE(created);
    BufferRing& bufs = **created;

    msghdr msg{};
    msg.msg_namelen = sizeof(sockaddr_in);
    io_uring_sqe* sqe = ring->get_sqe();
    REQUIRE(sqe);
    io_uring_prep_recvmsg_multishot(sqe, rx.get(), &msg, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = 2;
    io_uring_sqe_set_data64(sqe, encode({.kind = kRecv}));
    REQUIRE(ring->submit() >= 0);

    std::vector<std::string> payloads;
    std::set<std::uint16_t> bids;
    auto on_cqe = [&](const io_uring_cqe& cqe) {
        auto bid = bufs.take(cqe);
        if (!bid) return;
        bids.insert(*bid);
        auto* out = io_uring_recvmsg_validate(bufs.buffer(*bid).data(), cqe.res, &msg);
        REQUIRE(out != nullptr);
        auto* from = static_cast<sockaddr_in*>(io_uring_recvmsg_name(out));
        CHECK(from->sin_port == tx_addr.sin_port);
        auto* payload = static_cast<const char*>(io_uring_recvmsg_payload(out, &msg));
        payloads.emplace_back(payload, io_uring_recvmsg_payload_length(out, cqe.res, &msg));
        CHECK(bufs.recycle(*bid));
    };
    const std::string sent[] = {"one", "two", "three"};
    for (const auto& s : sent) {
        REQUIRE(::sendto(tx.get(), s.data(), s.size(), 0, reinterpret_cast<sockaddr*>(&rx_addr),
                         sizeof rx_addr) == static_cast<ssize_t>(s.size()));
    }
    REQUIRE(pump_until(
        *ring, [&] { return payloads.size() == 3; }, on_cqe));
    bufs.commit();
    CHECK(payloads[0] == "one");
    CHECK(payloads[1] == "two");
    CHECK(payloads[2] == "three");
    CHECK(bids.size() == 3);
    CHECK(ring->in_flight() == 1);  // still armed

    ring->cancel_all();
    CHECK(ring->drain(on_cqe, 2s) == 1);
    CHECK(ring->in_flight() == 0);
    CHECK(bufs.lent() == 8);
}
