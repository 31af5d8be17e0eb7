// Datapath::on_tun_read at its edges: reads whose virtio-net header cannot be used, segments
// over the MTU, more segments than free transmit slots, and the read credit that parks TUN
// buffers until sends complete. Every drop is counted under its own reason, and every TUN
// buffer goes back exactly once.
#include <doctest/doctest.h>

#include "tests/unit/datapath/datapath_pair.hpp"

using namespace ringtun;
using namespace ringtun::test;

namespace {

// Bytes `read` with the virtio-net header rewritten by `edit`.
template <typename F>
Bytes edited(Bytes read, F&& edit) {
    tun::VirtioNetHdr h = tun::read_vnet_hdr(read.data());
    edit(h);
    tun::write_vnet_hdr(h, read.data());
    return read;
}

}  // namespace

TEST_CASE("super-packets: a read whose virtio-net header is unusable is counted and dropped") {
    const Bytes tso = super_read(tcp4(), 4 * 1000, 1000);
    const Bytes partial = flow_packet(tcp4(), 0, 100, tcp_ack, 1, Csum::pseudo);
    const std::vector<Bytes> bad = {
        Bytes(5, 0),                                                 // shorter than a header
        edited(tso, [](auto& h) { h.gso_type = tun::gso_udp; }),     // UFO
        edited(tso, [](auto& h) { h.gso_type |= tun::gso_ecn; }),    // ECN: never enabled
        edited(tso, [](auto& h) { h.gso_type = tun::gso_tcpv6; }),   // not the IP version
        edited(tso, [](auto& h) { h.gso_type = tun::gso_udp_l4; }),  // not the protocol
        edited(tso, [](auto& h) { h.gso_size = 0; }),                // cannot be cut
        edited(tso, [](auto& h) { h.csum_start = 24; }),             // not the L4 header
        edited(tso, [](auto& h) { h.csum_offset = 6; }),             // not TCP's field
        with_vnet({.flags = tun::vnet_flag_needs_csum, .csum_start = 200, .csum_offset = 16},
                  partial),  // field past the end
        with_vnet(
            {.gso_type = tun::gso_tcpv4, .gso_size = 1000, .csum_start = 20, .csum_offset = 16},
            Bytes(partial.begin(), partial.begin() + 30)),  // TCP header cut
    };
    DatapathPair p;
    p.establish();
    for (std::size_t i = 0; i < bad.size(); ++i) {
        CAPTURE(i);
        p.tun_read(p.a, bad[i], 0);
        CHECK(p.a.counters().tun_bad_offload == i + 1);
        CHECK(p.a.tun.buffers.recycles(0) == i + 2);  // the handshake's read was the first
        CHECK(p.a.tun.buffers.lent_count() == 0);
    }
    p.a.dp.flush();
    CHECK(p.a.net.sends.empty());
    CHECK(p.a.counters().tun_super_packets == 0);
    CHECK(p.a.counters().tx_slot_exhausted == 0);
    CHECK(p.a.device->counters().tun_rx_packets == 1);  // the handshake's
    CHECK(p.a.tun.buffers.bad == 0);
}

TEST_CASE("super-packets: segments over the MTU are counted as oversized, and only as that") {
    DatapathPair p;
    p.establish();
    // 1400-byte segments make 1440-byte packets, over the MTU of 1420 (a TUN MTU raised
    // above ours); a short last segment fits and goes.
    p.tun_read(p.a, super_read(tcp4(), 3 * 1400 + 100, 1400));
    CHECK(p.a.counters().tun_super_packets == 1);
    CHECK(p.a.device->counters().drops.get(daemon::Drop::tun_oversized) == 3);
    CHECK(p.a.counters().tx_slot_exhausted == 0);
    // A single packet too.
    p.tun_read(p.a, plain_read(flow_packet(tcp4(), 0, 1421 - 40, tcp_ack, 1)));
    CHECK(p.a.device->counters().drops.get(daemon::Drop::tun_oversized) == 4);
    CHECK(p.a.counters().tx_slot_exhausted == 0);
    p.pump();
    const auto writes = p.b.written();
    REQUIRE(writes.size() == 1);
    CHECK(writes[0] == std::vector<Bytes>{super_segments(tcp4(), 3 * 1400 + 100, 1400)[3]});
    CHECK(p.a.tun.buffers.lent_count() == 0);
    CHECK(p.a.dp.slots().in_use() == 0);
}

TEST_CASE("super-packets: more segments than free data slots; the read credit parks the buffer") {
    // A read may be cut into 49 segments (64 KiB over MTU 1420 less 80) — this one, at an
    // MSS of 536, into 120. Two TUN buffers and 100 data slots: the read credit returns a
    // buffer only while the free slots cover every buffer the kernel holds plus this one.
    auto params = offload_params();
    params.tx_slots = 100;
    params.tun_buffers = 2;
    params.rx_buffers = 16;
    DatapathPair p(params, params);
    p.establish();
    const std::size_t recycled = p.a.tun.recycled;
    const std::size_t payload = 120 * 536;
    p.tun_read(p.a, super_read(tcp4(), payload, 536), 0);
    CHECK(p.a.counters().tx_slot_exhausted == 20);
    CHECK(p.a.dp.slots().data_in_use() == 100);
    CHECK(p.a.dp.tun_parked() == 1);
    CHECK(p.a.tun.recycled == recycled);  // parked, not recycled
    CHECK(p.a.tun.buffers.is_lent(0));
    p.a.dp.flush();
    CHECK(p.a.net.sends.size() == 2);  // 64 datagrams, then 36
    CHECK(p.a.dp.tun_parked() == 1);   // sent but not completed: the slots are still held
    p.pump();
    CHECK(p.a.dp.tun_parked() == 0);
    CHECK(p.a.tun.recycled == recycled + 1);
    CHECK(p.a.tun.buffers.recycles(0) == 2);
    // B got the first 100 segments, in writes of up to 64 packets.
    std::vector<Bytes> got;
    for (const auto& w : p.b.written())
        got.insert(got.end(), w.begin(), w.end());
    auto expected = super_segments(tcp4(), payload, 536);
    expected.resize(100);
    CHECK(got == expected);
    CHECK(p.a.tun.buffers.bad == 0);
}

TEST_CASE(
    "super-packets: with fewer data slots than one read may need, a TUN buffer still "
    "goes back once the sends complete") {
    // [ring] tx_slots = 16 is valid; a read may need 49 slots at MTU 1420. The credit must
    // not wait for more free slots than there are: with every slot free, one buffer goes
    // back to the kernel, or the TUN stops reading for good.
    auto params = offload_params();
    params.tx_slots = 16;
    params.tun_buffers = 2;
    DatapathPair p(params, params);
    p.establish();
    for (std::uint16_t bid = 0; bid < 2; ++bid) {
        if (!p.a.tun.buffers.is_lent(bid))
            p.tun_read(p.a, plain_read(flow_packet(tcp4(), 100 * bid, 100, tcp_ack, bid)), bid);
    }
    CHECK(p.a.dp.tun_parked() == p.a.tun.buffers.lent_count());
    p.pump();
    CHECK(p.a.dp.slots().in_use() == 0);
    CHECK(p.a.dp.tun_parked() < 2);
    CHECK(p.a.tun.buffers.lent_count() < 2);  // at least one buffer is the kernel's to fill
    // And reading goes on: 20 segments into 16 slots, the rest counted.
    const int bid = p.a.tun.buffers.first_free();
    REQUIRE(bid >= 0);
    p.tun_read(p.a, super_read(tcp4(), 20 * 1000, 1000), static_cast<std::uint16_t>(bid));
    CHECK(p.a.counters().tx_slot_exhausted == 4);
    p.pump();
    CHECK(p.a.tun.buffers.lent_count() < 2);
    CHECK(p.b.dp.tun_writes().counters().packets == 2 + 16);
    CHECK(p.a.tun.buffers.bad == 0);
}

TEST_CASE("super-packets: stop() gives back every parked buffer and refuses new reads") {
    auto params = offload_params();
    params.tx_slots = 100;
    params.tun_buffers = 2;
    DatapathPair p(params, params);
    p.establish();
    p.tun_read(p.a, super_read(tcp4(), 60 * 536, 536), 0);
    CHECK(p.a.dp.tun_parked() == 1);
    p.a.net.refuse = true;  // a backend that stops refuses what the flush hands it
    p.a.dp.stop();
    CHECK(p.a.dp.tun_parked() == 0);
    CHECK(p.a.dp.slots().in_use() == 0);
    p.tun_read(p.a, super_read(tcp4(), 4 * 536, 536), 1);
    CHECK(p.a.dp.slots().in_use() == 0);
    CHECK(p.a.tun.buffers.lent_count() == 0);
    CHECK(p.a.tun.buffers.bad == 0);
}
