// UdpBatch: which messages share one GSO send, and what each send error means.
#include <arpa/inet.h>
#include <doctest/doctest.h>

#include <cerrno>
#include <vector>

#include "daemon/datapath/udp_batch.hpp"

using namespace ringtun::daemon;

namespace {

Endpoint to4(const char* ip, std::uint16_t port, bool with_source = false) {
    Endpoint e;
    e.addr.in4.sin_family = AF_INET;
    e.addr.in4.sin_port = htons(port);
    REQUIRE(inet_pton(AF_INET, ip, &e.addr.in4.sin_addr) == 1);
    e.has_local = with_source;
    return e;
}

struct Harness {
    TxSlots slots{{.data = 200, .control_reserve = 0, .mtu = 1420}};
    UdpBatch batch;
    std::vector<UdpSend> sent;

    void add(std::size_t length, const Endpoint& to, bool alone = false) {
        const auto s = *slots.acquire(TxClass::data);
        slots[s].iov.iov_len = length;
        batch.add(slots, s, to, alone, [&](const UdpSend& u) { sent.push_back(u); });
    }
    void flush() {
        batch.flush([&](const UdpSend& u) { sent.push_back(u); });
    }
};

}  // namespace

TEST_CASE("udp batch: equal messages to one endpoint share a send; a shorter one closes it") {
    Harness h;
    const Endpoint b = to4("10.0.0.2", 51820);
    for (int i = 0; i < 3; ++i)
        h.add(1452, b);
    CHECK(h.sent.empty());
    h.add(100, b);  // the last segment may be shorter: it joins and closes the batch
    REQUIRE(h.sent.size() == 1);
    CHECK(h.sent[0].count == 4);
    CHECK(h.sent[0].segment == 1452);
    h.add(1452, b);
    h.add(1452, to4("10.0.0.3", 51820));  // another endpoint: the open batch leaves first
    REQUIRE(h.sent.size() == 2);
    CHECK(h.sent[1].count == 1);
    CHECK(h.sent[1].segment == 0);  // a single datagram carries no UDP_SEGMENT
    h.flush();
    CHECK(h.sent.size() == 3);
}

TEST_CASE("udp batch: a longer message, 64 segments, a different source or GSO off start anew") {
    Harness h;
    const Endpoint b = to4("10.0.0.2", 51820);
    h.add(100, b);
    h.add(1452, b);  // longer than the segment: cannot join
    CHECK(h.sent.size() == 1);
    h.flush();
    h.sent.clear();
    for (int i = 0; i < 60; ++i)
        h.add(1200, b);  // 54 x 1200 = 64 800 bytes fit max_gso_bytes, a 55th does not
    h.flush();
    REQUIRE(h.sent.size() == 2);
    CHECK(h.sent[0].count == 54);
    CHECK(h.sent[1].count == 6);
    h.sent.clear();
    h.add(1000, b);
    h.add(1000, to4("10.0.0.2", 51820, true));  // same address, a sticky source: another route
    CHECK(h.sent.size() == 1);
    h.flush();
    h.sent.clear();
    h.batch.stop_gso();
    h.add(1000, b);
    h.add(1000, b);
    CHECK(h.sent.size() == 2);
    h.sent.clear();
    h.add(1000, b, true);
    CHECK(h.sent.size() == 1);
}

TEST_CASE("udp batch: max_gso_segments caps a batch") {
    Harness h;
    const Endpoint b = to4("10.0.0.2", 51820);
    for (unsigned i = 0; i < max_gso_segments + 1; ++i)
        h.add(500, b);
    REQUIRE(h.sent.size() == 1);
    CHECK(h.sent[0].count == max_gso_segments);
}

TEST_CASE("udp send verdicts: a vanished source is retried without it, a refused batch stops GSO") {
    // Success and cancellation need nothing.
    CHECK(udp_send_verdict(1452, 1, true, 0).retry == UdpRetry::none);
    CHECK(udp_send_verdict(-ECANCELED, 8, true, 0).retry == UdpRetry::none);
    // The sticky source is gone: once more without it; GSO stays.
    for (int e : {EADDRNOTAVAIL, ENETUNREACH}) {
        for (unsigned count : {1u, 8u}) {
            const UdpVerdict v = udp_send_verdict(-e, count, true, 0);
            CHECK(v.retry == UdpRetry::without_source);
            CHECK_FALSE(v.stop_gso);
        }
    }
    CHECK(udp_send_verdict(-EINVAL, 1, true, 0).retry == UdpRetry::without_source);
    // EINVAL from a batch is also what a segment too big for the route gets: the batch is
    // split first, the source kept; a single datagram's EINVAL then says which it was.
    CHECK(udp_send_verdict(-EINVAL, 8, true, 0).retry == UdpRetry::one_by_one);
    CHECK(udp_send_verdict(-EINVAL, 1, true, udp_retry_split).retry == UdpRetry::without_source);
    // Without a source those errors from a single datagram are final.
    CHECK(udp_send_verdict(-EINVAL, 1, false, 0).retry == UdpRetry::none);
    CHECK(udp_send_verdict(-ENETUNREACH, 1, false, 0).retry == UdpRetry::none);
    // A batch the device cannot segment: one by one, and GSO off for good.
    const UdpVerdict eio = udp_send_verdict(-EIO, 8, false, 0);
    CHECK(eio.retry == UdpRetry::one_by_one);
    CHECK(eio.stop_gso);
    // Too big for the route, or refused: one by one, and GSO off for good too.
    for (int e : {EMSGSIZE, EINVAL}) {
        const UdpVerdict v = udp_send_verdict(-e, 8, false, 0);
        CHECK(v.retry == UdpRetry::one_by_one);
        CHECK(v.stop_gso);
    }
    // EINVAL from a batch with a sticky source may be the source gone: GSO stays on.
    CHECK_FALSE(udp_send_verdict(-EINVAL, 8, true, 0).stop_gso);
    CHECK(udp_send_verdict(-EMSGSIZE, 8, true, 0).stop_gso);
    // A batch resent without its source that fails again: split.
    CHECK(udp_send_verdict(-EINVAL, 8, false, udp_retry_no_source).retry == UdpRetry::one_by_one);
    // Each retry happens once: a split datagram is not split again, a sourceless one not
    // stripped again.
    CHECK(udp_send_verdict(-EMSGSIZE, 1, false, udp_retry_split).retry == UdpRetry::none);
    CHECK(udp_send_verdict(-EINVAL, 1, true, udp_retry_split | udp_retry_no_source).retry ==
          UdpRetry::none);
    // Other errors lose the datagrams.
    CHECK(udp_send_verdict(-ENOBUFS, 8, true, 0).retry == UdpRetry::none);
    CHECK(udp_send_verdict(-EPERM, 1, false, 0).retry == UdpRetry::none);
}
