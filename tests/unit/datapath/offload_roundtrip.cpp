// The offload data path end to end, without I/O: a super-packet A's TUN hands over is split,
// sealed and sent as one UDP GSO batch; B receives it as one UDP GRO datagram, opens every
// message in place and writes the packets to its TUN coalesced again — and what B's kernel
// would cut that write into is, byte for byte, what A's kernel would have sent.
#include <doctest/doctest.h>

#include "tests/unit/datapath/datapath_pair.hpp"

using namespace ringtun;
using namespace ringtun::test;

namespace {

// The datagrams of A's first send, after checking it is one GSO send of `count` data messages:
// every one the UDP_SEGMENT size but the last, which may be shorter.
std::vector<Bytes> one_gso_send(Node& a, std::size_t count) {
    REQUIRE(a.net.sends.size() == 1);
    const msghdr& m = a.dp.slots()[a.net.sends[0].head].msg;
    const auto datagrams = datagrams_of(m);
    REQUIRE(datagrams.size() == count);
    CHECK(a.net.sends[0].count == count);
    const std::size_t segment = udp_segment_of(m);
    CHECK(segment == datagrams[0].size());
    for (std::size_t i = 0; i < count; ++i) {
        CAPTURE(i);
        CHECK(datagrams[i][0] == 4);  // transport data
        if (i + 1 < count) CHECK(datagrams[i].size() == segment);
        CHECK(datagrams[i].size() <= segment);
    }
    return datagrams;
}

// After everything completed: every buffer back exactly once, every slot free.
void check_all_returned(const DatapathPair& p) {
    for (const Node* n : {&p.a, &p.b}) {
        CHECK(n->tun.buffers.lent_count() == 0);
        CHECK(n->tun.buffers.bad == 0);
        CHECK(n->net.rx.lent_count() == 0);
        CHECK(n->net.rx.bad == 0);
        CHECK(n->dp.slots().in_use() == 0);
        CHECK(n->dp.tun_writes().in_flight() == 0);
        CHECK(n->dp.tun_parked() == 0);
    }
}

}  // namespace

TEST_CASE("offloads: a TSO super-packet crosses as one GSO send and one coalesced TUN write") {
    struct Case {
        Spec flow;
        std::size_t payload;
        std::size_t datagram;
    };
    // 20 segments of 1360 bytes: IPv4 packets of 1400 (padded to 1408), IPv6 ones of 1420
    // (the MTU: no padding); the IPv6 stream ends with a shorter segment.
    for (const Case& c :
         {Case{tcp4(), 20 * 1360, 16 + 1408 + 16}, Case{tcp6(), 19 * 1360 + 777, 16 + 1420 + 16}}) {
        CAPTURE(c.flow.version);
        DatapathPair p;
        p.establish();
        const daemon::DatapathCounters a0 = p.a.counters(), b0 = p.b.counters();
        p.tun_read(p.a, super_read(c.flow, c.payload, 1360, 0x4242));
        CHECK(p.a.counters().tun_super_packets == 1);
        CHECK(p.a.tun.buffers.lent_count() == 0);  // copied out: the buffer went back at once
        // The batch leaves at the flush, or at once when a shorter datagram closes it.
        CHECK(p.a.net.sends.size() == (c.payload % 1360 == 0 ? 0u : 1u));
        p.a.dp.flush();
        const auto datagrams = one_gso_send(p.a, 20);
        CHECK(datagrams[0].size() == c.datagram);

        CHECK(p.deliver(p.a) == 1);  // one UDP GRO datagram of 20 messages
        CHECK(p.b.counters().udp_rx_coalesced - b0.udp_rx_coalesced == 1);
        CHECK(p.b.counters().udp_rx_packets - b0.udp_rx_packets == 20);
        CHECK(p.b.tun.writes.empty());  // TUN GRO waits for the flush
        CHECK(p.b.net.rx.lent_count() == 1);
        p.b.dp.flush();
        REQUIRE(p.b.tun.writes.size() == 1);
        CHECK(split_write(p.b.tun.writes[0].bytes) ==
              super_segments(c.flow, c.payload, 1360, 0x4242));
        p.complete_writes(p.b);
        CHECK(p.b.dp.tun_writes().counters().coalesced == 1);
        CHECK(p.b.dp.tun_writes().counters().packets == 1 + 20);  // the handshake's, these
        CHECK(p.a.counters().udp_gso_batches - a0.udp_gso_batches == 1);
        CHECK(p.a.counters().udp_tx_packets - a0.udp_tx_packets == 20);
        check_all_returned(p);
        CHECK(p.a.device->counters().drops.total() == 0);
        CHECK(p.b.device->counters().drops.total() == 0);
    }
}

TEST_CASE("offloads: the datagrams may also arrive one by one; B's TUN GRO still coalesces") {
    auto params = offload_params();
    params.rx_buffers = 32;
    DatapathPair p(params, params);
    p.establish();
    const Spec f = tcp4();
    p.tun_read(p.a, super_read(f, 12 * 1300, 1300));
    p.a.dp.flush();
    (void)one_gso_send(p.a, 12);
    p.deliver(p.a, false);
    CHECK(p.b.counters().udp_rx_coalesced == 0);
    CHECK(p.b.net.rx.lent_count() == 12);
    p.b.dp.flush();
    REQUIRE(p.b.tun.writes.size() == 1);
    CHECK(split_write(p.b.tun.writes[0].bytes) == super_segments(f, 12 * 1300, 1300));
    p.complete_writes(p.b);
    check_all_returned(p);
}

TEST_CASE("offloads: a packet read with NEEDS_CSUM leaves with its checksum finished") {
    for (const Spec& f : {tcp4(), tcp6(), udp4(), udp6()}) {
        CAPTURE(f.version);
        CAPTURE(f.proto);
        DatapathPair p;
        p.establish();
        tun::VirtioNetHdr h;
        h.flags = tun::vnet_flag_needs_csum;
        h.csum_start = static_cast<std::uint16_t>(ip_header_len(f));
        h.csum_offset = f.proto == tun::proto_tcp ? 16 : 6;
        const Bytes partial = flow_packet(f, 0, 999, tcp_ack | tcp_psh, 77, Csum::pseudo);
        p.tun_read(p.a, with_vnet(h, partial));
        CHECK(p.a.counters().tun_super_packets == 0);
        p.pump();
        REQUIRE(p.b.tun.writes.size() == 1);
        const Bytes finished = flow_packet(f, 0, 999, tcp_ack | tcp_psh, 77);
        CHECK(checksums_valid(finished));
        CHECK(p.b.tun.writes[0].bytes == plain_read(finished));
        check_all_returned(p);
    }
}

TEST_CASE(
    "offloads: a USO super-packet is cut into datagrams; B coalesces them if its TUN took USO") {
    for (const bool b_uso : {true, false}) {
        for (const Spec& f : {udp4(), udp6()}) {
            CAPTURE(b_uso);
            CAPTURE(f.version);
            auto pb = offload_params();
            pb.offloads.tun_uso = b_uso;
            DatapathPair p(offload_params(), pb);
            p.establish();
            const std::size_t payload = 10 * 1200 + 234;
            p.tun_read(p.a, super_read(f, payload, 1200, 0x77));
            CHECK(p.a.counters().tun_super_packets == 1);
            p.a.dp.flush();
            (void)one_gso_send(p.a, 11);
            p.deliver(p.a);
            p.b.dp.flush();
            const auto expected = super_segments(f, payload, 1200, 0x77);
            if (b_uso) {
                REQUIRE(p.b.tun.writes.size() == 1);
                CHECK(tun::read_vnet_hdr(p.b.tun.writes[0].bytes.data()).gso_type ==
                      tun::gso_udp_l4);
                CHECK(split_write(p.b.tun.writes[0].bytes) == expected);
            } else {
                REQUIRE(p.b.tun.writes.size() == expected.size());
                for (std::size_t i = 0; i < expected.size(); ++i)
                    CHECK(p.b.tun.writes[i].bytes == plain_read(expected[i]));
            }
            p.complete_writes(p.b);
            check_all_returned(p);
        }
    }
}

TEST_CASE("offloads: super-packets of two flows and plain packets between them keep each order") {
    DatapathPair p;
    p.establish();
    const Spec one = tcp4(40000), two = tcp6(40001);
    p.tun_read(p.a, super_read(one, 6 * 1000, 1000));
    p.tun_read(p.a, super_read(two, 4 * 1200 + 5, 1200));
    const Bytes ping = flow_packet(udp4(53), 0, 60, 0, 5);
    p.tun_read(p.a, plain_read(ping));
    p.tun_read(p.a, super_read(one, 6 * 1000, 1000, 0x200));  // the same bytes again
    p.pump();
    // A's batches: 6 of one (they end where two's longer datagrams begin), two's 5, the
    // ping (shorter: it ends nothing but itself), one's 6.
    const auto writes = p.b.written();
    REQUIRE(writes.size() == 4);
    CHECK(writes[0] == super_segments(one, 6 * 1000, 1000));
    CHECK(writes[1] == super_segments(two, 4 * 1200 + 5, 1200));
    CHECK(writes[2] == std::vector<Bytes>{ping});
    CHECK(writes[3] == super_segments(one, 6 * 1000, 1000, 0x200));
    check_all_returned(p);
}

TEST_CASE("offloads: a GSO batch the kernel refuses is resent datagram by datagram, GSO off") {
    auto params = offload_params();
    params.rx_buffers = 32;
    DatapathPair p(params, params);
    p.establish();
    const Spec f = tcp4();
    p.tun_read(p.a, super_read(f, 10 * 1300, 1300));
    p.a.dp.flush();
    const auto batch = one_gso_send(p.a, 10);
    const FakeNet::Send refused = p.a.net.sends[0];
    p.a.net.completed = 1;
    p.a.dp.on_udp_sent(refused.head, refused.generation, refused.count, -EIO, p.now);
    CHECK(p.a.counters().udp_gso_refused == 1);
    REQUIRE(p.a.net.sends.size() == 1 + 10);
    for (std::size_t i = 0; i < 10; ++i) {
        const msghdr& m = p.a.dp.slots()[p.a.net.sends[1 + i].head].msg;
        CHECK(udp_segment_of(m) == 0);
        CHECK(datagrams_of(m) == std::vector<Bytes>{batch[i]});
    }
    p.deliver(p.a);
    p.b.dp.flush();
    REQUIRE(p.b.tun.writes.size() == 1);  // B's TUN GRO coalesces them all the same
    CHECK(split_write(p.b.tun.writes[0].bytes) == super_segments(f, 10 * 1300, 1300));
    p.complete_writes(p.b);
    // From now on every datagram leaves alone.
    p.clear();
    p.tun_read(p.a, super_read(f, 3 * 1300, 1300));
    p.a.dp.flush();
    CHECK(p.a.net.sends.size() == 3);
    p.pump();
    CHECK(p.b.written() == std::vector<std::vector<Bytes>>{super_segments(f, 3 * 1300, 1300)});
    check_all_returned(p);
}

TEST_CASE("offloads: an empty datagram is one malformed message, and its buffer comes back") {
    // netns.garbage found it: the split loop ran zero times for an empty payload, so the
    // datagram was neither counted nor dropped as malformed.
    DatapathPair p;
    p.establish();
    const auto before = p.b.device->counters().drops.get(Drop::malformed);
    const std::uint16_t rx = 3;
    p.b.net.rx.lend(rx);
    p.b.dp.on_datagrams({p.b.rx[rx].data(), 0}, 0, p.a.addr, rx, p.now);
    CHECK(p.b.device->counters().drops.get(Drop::malformed) == before + 1);
    CHECK(p.b.counters().udp_rx_packets >= 1);
    CHECK_FALSE(p.b.net.rx.is_lent(rx));
    CHECK(p.b.net.rx.bad == 0);
}
