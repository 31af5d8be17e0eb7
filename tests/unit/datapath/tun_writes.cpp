// TunWrites: opened packets on their way to the TUN — one write per packet, or one per flow
// with GRO; the receive buffers they point into go back only after their last write; a
// coalesced write the kernel refuses is written again packet by packet, each as it arrived.
#include "daemon/datapath/tun_writes.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <vector>

#include "tests/unit/datapath/fake_ports.hpp"
#include "tests/unit/datapath/packets.hpp"

using namespace ringtun;
using namespace ringtun::test;
using daemon::TunWrites;

namespace {

constexpr std::uint16_t rx_count = 8;

struct Harness {
    explicit Harness(TunWrites::Params p) : w(with_rx(p), tun, net) {}
    static TunWrites::Params with_rx(TunWrites::Params p) {
        p.rx_buffers = rx_count;
        return p;
    }

    // What Datapath::on_datagrams does with a received datagram: receive buffer `id` is lent
    // and held, each packet (laid back to back in it) added, and the buffer released.
    void receive(std::uint16_t id, const std::vector<Bytes>& packets) {
        net.rx.lend(id);
        w.hold(id);
        std::size_t at = 0;
        for (const Bytes& p : packets) {
            REQUIRE(at + p.size() <= rx[id].size());
            std::copy(p.begin(), p.end(), rx[id].begin() + static_cast<long>(at));
            w.add({rx[id].data() + at, p.size()}, id);
            at += p.size();
        }
        w.release(id);
    }

    // Completes the writes started since the last call, each with its length or `result`.
    void complete(int result = 0) {
        while (tun.completed < tun.writes.size()) {
            const FakeTun::Write& x = tun.writes[tun.completed++];
            (void)w.on_written(x.slot, x.generation,
                               result != 0 ? result : static_cast<int>(x.length));
        }
    }

    const Bytes& bytes(std::size_t i) const { return tun.writes.at(i).bytes; }

    FakeTun tun{0};
    FakeNet net{rx_count};
    TunWrites w;
    std::vector<Bytes> rx = std::vector<Bytes>(rx_count, Bytes(65536));
};

TunWrites::Params no_vnet() {
    return {.slots = 8};
}
TunWrites::Params vnet(bool gro, bool udp = false) {
    return {.slots = 16, .vnet_hdr = true, .gro = gro, .gro_udp = udp};
}

std::vector<Bytes> slice(const std::vector<Bytes>& v, std::size_t from, std::size_t to) {
    return {v.begin() + static_cast<long>(from), v.begin() + static_cast<long>(to)};
}

}  // namespace

TEST_CASE("tun writes: without the header a packet is one write of itself") {
    Harness h(no_vnet());
    const Bytes p = flow_packet(tcp4(), 0, 300, tcp_ack, 7);
    h.net.rx.lend(0);
    h.w.hold(0);
    std::copy(p.begin(), p.end(), h.rx[0].begin() + 64);
    h.w.add({h.rx[0].data() + 64, p.size()}, 0);
    REQUIRE(h.tun.writes.size() == 1);
    CHECK(h.bytes(0) == p);
    CHECK(h.tun.writes[0].pieces.size() == 1);
    // Written, but the datagram's own reference is still held: the buffer stays.
    h.complete();
    CHECK(h.net.rx.recycles(0) == 0);
    h.w.release(0);
    CHECK(h.net.rx.recycles(0) == 1);

    // The other order: released first, recycled at the completion.
    h.receive(1, {p});
    CHECK(h.net.rx.is_lent(1));
    CHECK(h.w.in_flight() == 1);
    h.complete();
    CHECK(h.net.rx.recycles(1) == 1);
    CHECK(h.net.rx.bad == 0);
    CHECK(h.w.counters().packets == 2);
    CHECK(h.w.counters().writes == 2);
    CHECK(h.w.counters().coalesced == 0);
}

TEST_CASE("tun writes: with the header and GRO off, a zeroed header then the packet") {
    Harness h(vnet(false));
    CHECK_FALSE(h.w.gro());
    const Bytes p = flow_packet(tcp6(), 0, 1000, tcp_ack, 0);
    const Bytes q = flow_packet(tcp6(), 1000, 1000, tcp_ack, 0);  // coalescable, but GRO is off
    h.receive(0, {p, q});
    REQUIRE(h.tun.writes.size() == 2);
    CHECK(h.bytes(0) == plain_read(p));
    CHECK(h.bytes(1) == plain_read(q));
    CHECK(h.tun.writes[0].pieces.size() == 2);
    h.w.flush();  // nothing held back
    CHECK(h.tun.writes.size() == 2);
    h.complete();
    CHECK(h.net.rx.recycles(0) == 1);
    CHECK(h.net.rx.bad == 0);
}

TEST_CASE("tun writes: a bad checksum is merged when trusted, written alone when verified") {
    for (bool verify : {false, true}) {
        CAPTURE(verify);
        TunWrites::Params p = vnet(true);
        p.gro_verify = verify;
        Harness h(p);
        auto packets = super_segments(tcp4(), 3 * 1200, 1200);
        REQUIRE(packets.size() == 3);
        packets[1].back() ^= 0x01;  // a payload byte: the TCP checksum no longer matches
        h.receive(0, packets);
        h.w.flush();
        // Trusted (kernel WireGuard's policy: the AEAD authenticated these bytes), the three
        // go in one super-packet; verified (wireguard-go's), the corrupt one breaks the run
        // and reaches the kernel on its own, which drops it.
        CHECK(h.tun.writes.size() == (verify ? 3u : 1u));
        h.complete();
        CHECK(h.w.counters().packets == 3);
        CHECK(h.w.counters().coalesced == (verify ? 0u : 1u));
        CHECK(h.net.rx.bad == 0);
    }
}

TEST_CASE("tun writes: GRO coalesces in-order segments of a flow into one valid super-packet") {
    for (const Spec& f : {tcp4(), tcp6()}) {
        CAPTURE(f.version);
        Harness h(vnet(true));
        REQUIRE(h.w.gro());
        const auto packets = super_segments(f, 7 * 1200 + 500, 1200);  // PSH on the last
        REQUIRE(packets.size() == 8);
        h.receive(0, slice(packets, 0, 3));  // several packets share each buffer
        h.receive(1, slice(packets, 3, 8));
        CHECK(h.tun.writes.empty());  // GRO waits for the flush
        h.w.flush();
        REQUIRE(h.tun.writes.size() == 1);
        CHECK(h.tun.writes[0].pieces.size() == 1 + 8);  // header, head packet, 7 payloads
        const tun::VirtioNetHdr vh = tun::read_vnet_hdr(h.bytes(0).data());
        CHECK(vh.gso_type == (f.version == 4 ? tun::gso_tcpv4 : tun::gso_tcpv6));
        CHECK(vh.gso_size == 1200);
        CHECK(split_write(h.bytes(0)) == packets);
        // The buffers go back once, when the write completes, not before.
        CHECK(h.net.rx.recycles(0) + h.net.rx.recycles(1) == 0);
        h.complete();
        CHECK(h.net.rx.recycles(0) == 1);
        CHECK(h.net.rx.recycles(1) == 1);
        CHECK(h.net.rx.bad == 0);
        CHECK(h.w.counters().packets == 8);
        CHECK(h.w.counters().writes == 1);
        CHECK(h.w.counters().coalesced == 1);
        CHECK(h.w.in_flight() == 0);
    }
}

TEST_CASE("tun writes: two interleaved flows leave as two writes, each in order") {
    Harness h(vnet(true));
    const auto one = super_segments(tcp4(40000), 4 * 1000, 1000);
    const auto two = super_segments(tcp4(40001), 3 * 1000, 1000);
    h.receive(0, {one[0], two[0], one[1], two[1]});
    h.receive(1, {one[2], two[2], one[3]});
    h.w.flush();
    REQUIRE(h.tun.writes.size() == 2);
    CHECK(split_write(h.bytes(0)) == one);
    CHECK(split_write(h.bytes(1)) == two);
    h.complete();
    CHECK(h.net.rx.recycles(0) == 1);
    CHECK(h.net.rx.recycles(1) == 1);
    CHECK(h.net.rx.bad == 0);
    CHECK(h.w.counters().coalesced == 2);
}

TEST_CASE("tun writes: a full GRO table is written at once; every flow keeps its order") {
    Harness h({.slots = 7, .vnet_hdr = true, .gro = true});  // a table of 2 flows
    std::vector<std::vector<Bytes>> flows;
    for (std::uint16_t port = 40000; port < 40003; ++port)
        flows.push_back(super_segments(tcp4(port), 4 * 600, 600));
    for (std::size_t i = 0; i < 4; ++i) {
        h.receive(static_cast<std::uint16_t>(i), {flows[0][i], flows[1][i], flows[2][i]});
        h.w.flush();
        h.complete();
    }
    // Each time a third flow finds the table full, the table is written first.
    std::vector<std::vector<Bytes>> got(3);
    for (const auto& w : h.tun.writes) {
        for (const Bytes& p : split_write(w.bytes)) {
            const std::size_t flow = (std::size_t{p[20]} << 8 | p[21]) - 40000u;
            REQUIRE(flow < 3);
            got[flow].push_back(p);
        }
    }
    CHECK(got == flows);
    for (std::uint16_t id = 0; id < 4; ++id)
        CHECK(h.net.rx.recycles(id) == 1);
    CHECK(h.net.rx.bad == 0);
    CHECK(h.w.counters().no_write_slot == 0);
}

TEST_CASE("tun writes: a refused coalesced write is written again packet by packet, GRO off") {
    for (const Spec& f : {tcp4(), tcp6(), udp4(), udp6()}) {
        CAPTURE(f.version);
        CAPTURE(f.proto);
        Harness h(vnet(true, true));
        const auto packets = super_segments(f, 5 * 1100 + 300, 1100);
        h.receive(0, slice(packets, 0, 2));
        h.receive(1, slice(packets, 2, 6));
        h.w.flush();
        REQUIRE(h.tun.writes.size() == 1);
        CHECK(split_write(h.bytes(0)) == packets);
        const FakeTun::Write refused = h.tun.writes[0];
        h.tun.completed = 1;
        CHECK(h.w.on_written(refused.slot, refused.generation, -EINVAL));
        CHECK_FALSE(h.w.gro());
        CHECK(h.w.counters().gro_refused == 1);
        // Each packet as it arrived: the head's lengths, PSH and checksums restored.
        REQUIRE(h.tun.writes.size() == 1 + packets.size());
        for (std::size_t i = 0; i < packets.size(); ++i)
            CHECK(h.bytes(1 + i) == plain_read(packets[i]));
        // Later packets are written alone, at once.
        const auto more = super_segments(f, 2 * 1100, 1100, 0x200);
        h.receive(2, more);
        REQUIRE(h.tun.writes.size() == 1 + packets.size() + 2);
        CHECK(h.bytes(7) == plain_read(more[0]));
        CHECK(h.bytes(8) == plain_read(more[1]));
        h.w.flush();
        CHECK(h.tun.writes.size() == 9);
        h.complete();
        for (std::uint16_t id = 0; id < 3; ++id)
            CHECK(h.net.rx.recycles(id) == 1);
        CHECK(h.net.rx.bad == 0);
        CHECK(h.w.counters().packets == 8);
        CHECK(h.w.in_flight() == 0);
    }
}

TEST_CASE("tun writes: packets GRO holds when a refusal turns it off are written, in order") {
    Harness h(vnet(true));
    const auto packets = super_segments(tcp4(), 8 * 1000, 1000);
    h.receive(0, slice(packets, 0, 4));
    h.w.flush();
    REQUIRE(h.tun.writes.size() == 1);
    // In the next loop turn the rest of the flow arrives and GRO holds it; the refusal of the
    // first write completes in the same turn, before the flush.
    h.receive(1, slice(packets, 4, 8));
    CHECK(h.tun.writes.size() == 1);
    const FakeTun::Write refused = h.tun.writes[0];
    h.tun.completed = 1;
    CHECK(h.w.on_written(refused.slot, refused.generation, -EINVAL));
    h.w.flush();
    REQUIRE(h.tun.writes.size() == 1 + packets.size());
    for (std::size_t i = 0; i < packets.size(); ++i)
        CHECK(h.bytes(1 + i) == plain_read(packets[i]));
    h.complete();
    CHECK(h.net.rx.recycles(0) == 1);
    CHECK(h.net.rx.recycles(1) == 1);
    CHECK(h.net.rx.lent_count() == 0);
    CHECK(h.net.rx.bad == 0);
}

TEST_CASE("tun writes: no free write slot drops the packet; its buffer still goes back") {
    SUBCASE("one write per packet") {
        Harness h({.slots = 2, .vnet_hdr = true});
        const auto packets = super_segments(tcp4(), 3 * 500, 500);
        h.receive(0, packets);
        CHECK(h.tun.writes.size() == 2);
        CHECK(h.w.counters().no_write_slot == 1);
        CHECK(h.net.rx.recycles(0) == 0);  // two writes still point into it
        h.complete();
        CHECK(h.net.rx.recycles(0) == 1);
    }
    SUBCASE("GRO: a flow that finds no slot at the flush") {
        Harness h({.slots = 1, .vnet_hdr = true, .gro = true});
        const auto one = super_segments(tcp4(40000), 3 * 500, 500);
        const auto two = super_segments(tcp4(40001), 2 * 500, 500);
        h.receive(0, {one[0], one[1], one[2], two[0]});
        h.receive(1, {two[1]});
        h.w.flush();
        REQUIRE(h.tun.writes.size() == 1);
        CHECK(split_write(h.bytes(0)) == one);
        CHECK(h.w.counters().no_write_slot == 2);
        CHECK(h.net.rx.recycles(1) == 1);  // only the dropped flow was in it
        h.complete();
        CHECK(h.net.rx.recycles(0) == 1);
    }
    SUBCASE("a refused write rewritten with too few slots") {
        Harness h({.slots = 2, .vnet_hdr = true, .gro = true});
        const auto packets = super_segments(tcp4(), 4 * 500, 500);
        h.receive(0, packets);
        h.w.flush();
        REQUIRE(h.tun.writes.size() == 1);
        h.tun.completed = 1;
        CHECK(h.w.on_written(h.tun.writes[0].slot, h.tun.writes[0].generation, -EINVAL));
        CHECK(h.w.counters().no_write_slot + h.tun.writes.size() - 1 == packets.size());
        h.complete();
        CHECK(h.net.rx.recycles(0) == 1);
        CHECK(h.net.rx.bad == 0);
    }
}

TEST_CASE("tun writes: a port that refuses a write loses its packets, counted; buffers go back") {
    for (const bool gro : {false, true}) {
        CAPTURE(gro);
        Harness h(vnet(gro));
        h.tun.refuse = true;
        const auto packets = super_segments(tcp4(), 3 * 700, 700);
        h.receive(0, packets);
        h.w.flush();
        CHECK(h.tun.writes.empty());
        CHECK(h.w.counters().errors == 3);
        CHECK(h.net.rx.recycles(0) == 1);
        CHECK(h.w.in_flight() == 0);
        CHECK(h.net.rx.bad == 0);
    }
}

TEST_CASE("tun writes: a failed write counts its packets lost; a stale completion is ignored") {
    Harness h(vnet(true));
    const auto packets = super_segments(tcp4(), 3 * 700, 700);
    h.receive(0, packets);
    h.w.flush();
    REQUIRE(h.tun.writes.size() == 1);
    const FakeTun::Write x = h.tun.writes[0];
    const auto wrong = static_cast<std::uint16_t>(x.generation + 1);
    CHECK_FALSE(h.w.on_written(x.slot, wrong, static_cast<int>(x.length)));
    CHECK_FALSE(h.w.on_written(x.slot + 1, x.generation, static_cast<int>(x.length)));
    CHECK(h.w.in_flight() == 1);
    CHECK(h.net.rx.recycles(0) == 0);
    CHECK_FALSE(h.w.on_written(x.slot, x.generation, -EIO));  // not absorbed: lost
    CHECK(h.w.counters().errors == 3);
    CHECK(h.net.rx.recycles(0) == 1);
    // The same completion again, or one for the slot's earlier life once it is reused.
    CHECK_FALSE(h.w.on_written(x.slot, x.generation, static_cast<int>(x.length)));
    h.receive(1, {packets[0]});
    h.w.flush();
    REQUIRE(h.tun.writes.size() == 2);
    CHECK(h.tun.writes[1].slot == x.slot);
    CHECK_FALSE(h.w.on_written(x.slot, x.generation, static_cast<int>(x.length)));
    CHECK(h.w.in_flight() == 1);
    CHECK(h.net.rx.recycles(1) == 0);
    h.tun.completed = 1;
    h.complete();
    CHECK(h.net.rx.recycles(1) == 1);
    CHECK(h.w.counters().packets == 1);
    CHECK(h.w.counters().errors == 3);
    CHECK(h.net.rx.bad == 0);
}
