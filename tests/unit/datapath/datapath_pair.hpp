// Two real Devices, each behind a real Datapath with fake ports (fake_ports.hpp), joined by an
// in-memory network on a clock that stands still: what one Datapath hands its NetPort is
// carried to the other's on_datagrams — the datagrams of one sendmsg back to back, as UDP GRO
// delivers them, or one by one — and each send is then completed with its length. TUN writes
// are completed by complete_writes().
//
// A: 10.99.0.1:51820, tunnel addresses 10.0.0.1 and fd00::1; B: 10.99.0.2, .2 and fd00::2.
//
// Nothing here allocates after construction once establish() has run (FakeTun::keep_bytes
// off), so the allocation-counting test drives it too.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "daemon/datapath/datapath.hpp"
#include "tests/unit/datapath/fake_ports.hpp"
#include "tests/unit/datapath/packets.hpp"
#include "tests/unit/engine/device_harness.hpp"

namespace ringtun::test {

inline daemon::Datapath::Params offload_params(
    daemon::Offloads o = {
        .vnet_hdr = true, .tun_tso = true, .tun_gro = true, .udp_gso = true, .udp_gro = true}) {
    return {.mtu = 1420,
            .tx_slots = 512,
            .control_reserve = 16,
            .udp_family = AF_INET,
            .offloads = o,
            .tun_buffers = 4,
            .rx_buffers = 8,
            .tun_write_slots = 32};
}

struct Node {
    Node(const char* ip, std::uint64_t seed, const daemon::Datapath::Params& p)
        : addr(endpoint4(ip, 51820)),
          rng(seed),
          tun(p.tun_buffers),
          net(p.rx_buffers),
          dp(p, tun, net),
          reads(p.tun_buffers, Bytes(tun::vnet_hdr_len + 0xffff)),
          rx(p.rx_buffers, Bytes(0x10000)) {
        TestRng key_rng(seed ^ 0x5eed);
        key = crypto::generate_private_key(key_rng);
        device = std::make_unique<daemon::Device>(key, p.mtu, dp, rng);
        dp.bind(*device, nullptr);
        net.slots = &dp.slots();
        tun.reserve(4096);
        net.reserve(4096);
    }

    const daemon::DatapathCounters& counters() const { return dp.counters(); }
    // The writes since the last clear, each cut back into packets (split_write).
    std::vector<std::vector<Bytes>> written() const {
        std::vector<std::vector<Bytes>> out;
        for (const auto& w : tun.writes)
            out.push_back(split_write(w.bytes));
        return out;
    }

    Endpoint addr;
    TestRng rng;
    crypto::PrivateKey key;
    FakeTun tun;
    FakeNet net;
    daemon::Datapath dp;
    std::unique_ptr<daemon::Device> device;
    daemon::Peer* peer = nullptr;  // its view of the other node
    std::vector<Bytes> reads;      // TUN read buffers
    std::vector<Bytes> rx;         // receive buffers
};

class DatapathPair {
  public:
    explicit DatapathPair(const daemon::Datapath::Params& pa = offload_params(),
                          const daemon::Datapath::Params& pb = offload_params())
        : a("10.99.0.1", 1, pa), b("10.99.0.2", 2, pb) {
        const crypto::SymmetricKey no_psk;
        a.peer = a.device->add_peer(b.device->identity().public_key, no_psk, 0, b.addr);
        b.peer = b.device->add_peer(a.device->identity().public_key, no_psk, 0, a.addr);
        REQUIRE(a.peer);
        REQUIRE(b.peer);
        route(a, "10.0.0.2", "fd00::2");
        route(b, "10.0.0.1", "fd00::1");
    }

    Node& other(Node& n) { return &n == &a ? b : a; }

    // The TUN hands `read` (virtio-net header first, or a bare packet without the header) to
    // n in TUN buffer `bid`.
    void tun_read(Node& n, const Bytes& read, std::uint16_t bid) {
        REQUIRE(bid < n.reads.size());
        REQUIRE(read.size() <= n.reads[bid].size());
        n.tun.buffers.lend(bid);
        std::copy(read.begin(), read.end(), n.reads[bid].begin());
        n.dp.on_tun_read({n.reads[bid].data(), read.size()}, bid, now);
    }
    // The same in the first TUN buffer not lent.
    void tun_read(Node& n, const Bytes& read) {
        const int bid = n.tun.buffers.first_free();
        REQUIRE(bid >= 0);
        tun_read(n, read, static_cast<std::uint16_t>(bid));
    }

    // Carries every send `from` started and this has not yet carried to the other node, then
    // completes it with its length. `gro`: a send's datagrams arrive as one datagram of their
    // UDP_SEGMENT size; otherwise one by one. Returns the sends carried.
    std::size_t deliver(Node& from, bool gro = true) {
        std::size_t n = 0;
        for (; from.net.completed < from.net.sends.size(); ++n) {
            const FakeNet::Send s = from.net.sends[from.net.completed++];
            const msghdr& m = from.dp.slots()[s.head].msg;
            const std::uint16_t segment = udp_segment_of(m);
            int total = 0;
            if (gro && segment != 0) {
                total = static_cast<int>(receive(from, m, -1, segment));
            } else {
                for (std::size_t i = 0; i < m.msg_iovlen; ++i)
                    total += static_cast<int>(receive(from, m, static_cast<int>(i), 0));
            }
            from.dp.on_udp_sent(s.head, s.generation, s.count, total, now);
        }
        return n;
    }

    // Completes every TUN write n started and has not had completed, with its length.
    void complete_writes(Node& n) {
        while (n.tun.completed < n.tun.writes.size()) {
            const FakeTun::Write& w = n.tun.writes[n.tun.completed++];
            (void)n.dp.on_tun_written(w.slot, w.generation, static_cast<int>(w.length));
        }
    }

    // Flushes both sides, carries everything both ways and completes every write, until
    // nothing moves.
    void pump(bool gro = true) {
        for (int round = 0; round < 100; ++round) {
            a.dp.flush();
            b.dp.flush();
            const std::size_t moved = deliver(a, gro) + deliver(b, gro);
            const std::size_t writes = a.tun.writes.size() + b.tun.writes.size();
            complete_writes(a);
            complete_writes(b);
            a.dp.flush();
            b.dp.flush();
            if (moved == 0 && writes == a.tun.writes.size() + b.tun.writes.size() &&
                a.net.completed == a.net.sends.size() && b.net.completed == b.net.sends.size())
                return;
        }
        FAIL("pump: the pair did not go quiet");
    }

    // The first handshake, started by a packet A reads; leaves the records empty.
    void establish() {
        tun_read(a, plain_read(flow_packet(tcp4(), 0, 100, tcp_ack, 1)));
        pump();
        REQUIRE(a.peer->current.has_value());
        REQUIRE(b.peer->current.has_value());
        REQUIRE(b.tun.writes.size() == 1);
        clear();
    }

    // Forgets what was recorded (everything must have completed).
    void clear() {
        for (Node* n : {&a, &b}) {
            REQUIRE(n->tun.completed == n->tun.writes.size());
            REQUIRE(n->net.completed == n->net.sends.size());
            n->tun.writes.clear();
            n->tun.completed = 0;
            n->net.sends.clear();
            n->net.completed = 0;
        }
    }

    daemon::Now now{crypto::seconds_ns(1000), 1'700'000'000'000'000'000ULL};
    Node a;
    Node b;

  private:
    static void route(Node& n, const char* v4, const char* v6) {
        std::uint8_t addr4[4], addr6[16];
        REQUIRE(inet_pton(AF_INET, v4, addr4) == 1);
        REQUIRE(inet_pton(AF_INET6, v6, addr6) == 1);
        REQUIRE(n.device->add_allowed_ip(*n.peer, AF_INET, addr4, 32));
        REQUIRE(n.device->add_allowed_ip(*n.peer, AF_INET6, addr6, 128));
    }

    // Copies iovec `index` of `m` (or, for -1, all of them back to back) into a free receive
    // buffer of the other node and hands it over; returns the bytes.
    std::size_t receive(Node& from, const msghdr& m, int index, std::size_t segment) {
        Node& to = other(from);
        const int rx = to.net.rx.first_free();
        REQUIRE(rx >= 0);
        Bytes& buffer = to.rx[static_cast<std::size_t>(rx)];
        std::size_t len = 0;
        if (index < 0) {
            len = gather(m, buffer);
        } else {
            const iovec& v = m.msg_iov[index];
            len = v.iov_len;
            std::memcpy(buffer.data(), v.iov_base, len);
        }
        REQUIRE(len > 0);
        to.net.rx.lend(static_cast<std::uint16_t>(rx));
        to.dp.on_datagrams({buffer.data(), len}, segment, from.addr, static_cast<std::uint16_t>(rx),
                           now);
        return len;
    }
};

}  // namespace ringtun::test
