// TcpTransport on a fake port: dials, send batches and their completions, what a refused
// request undoes (the loop refuses every new request once it stops: defect 9), the quota of a
// stalled connection (defect 1) and the cookie-reply rule.
#include "daemon/transport/tcp_transport.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include "crypto/rng.hpp"
#include "crypto/x25519.hpp"
#include "daemon/engine/peer.hpp"

using namespace ringtun::daemon;
using ringtun::crypto::millis_ns;
using ringtun::crypto::Nanos;
using ringtun::crypto::seconds_ns;

namespace {

class CountingRng final : public ringtun::crypto::Rng {
  public:
    void fill(std::span<std::uint8_t> out) noexcept override {
        std::memset(out.data(), 7, out.size());
    }
};

struct FakePort final : TcpPort {
    bool refuse = false;  // as the loop does once it stops
    std::vector<std::uint32_t> dials, receives, closes;
    struct Send {
        std::uint32_t conn, head;
        std::size_t frames, bytes;
    };
    std::vector<Send> sends;
    std::multiset<std::uint32_t> released;  // transmit slots given back
    TxSlots* slots = nullptr;
    int accepts = 0;

    bool accept() noexcept override {
        accepts += refuse ? 0 : 1;
        return !refuse;
    }
    bool dial(std::uint32_t conn, const Endpoint&) noexcept override {
        if (refuse) return false;
        dials.push_back(conn);
        return true;
    }
    bool receive(std::uint32_t conn) noexcept override {
        if (refuse) return false;
        receives.push_back(conn);
        return true;
    }
    bool send(std::uint32_t conn, std::uint32_t head, std::span<const iovec> f) noexcept override {
        if (refuse) return false;
        std::size_t bytes = 0;
        for (const iovec& v : f)
            bytes += v.iov_len;
        sends.push_back({conn, head, f.size(), bytes});
        return true;
    }
    void close(std::uint32_t conn) noexcept override { closes.push_back(conn); }
    void release_tx(std::uint32_t tx) noexcept override {
        released.insert(tx);
        slots->release(tx);
    }
    void release_tx_chain(std::uint32_t head) noexcept override {
        slots->release_chain(head, [](std::uint16_t) {});
        released.insert(head);
    }
    void write_to_tun(std::span<const std::uint8_t>) noexcept override {}
};

Endpoint endpoint_at(const char* address, std::uint16_t port) {
    Endpoint e;
    e.addr.in4.sin_family = AF_INET;
    e.addr.in4.sin_port = htons(port);
    inet_pton(AF_INET, address, &e.addr.in4.sin_addr);
    e.tcp = true;
    return e;
}

Endpoint peer_endpoint() {
    return endpoint_at("10.99.0.2", 51820);
}

// The peer the harness dials for.
ringtun::crypto::PublicKey dialed_peer() {
    ringtun::crypto::PublicKey k;
    k.bytes.fill(5);
    return k;
}

struct Harness {
    TxSlots slots{{.data = 128, .control_reserve = 8, .mtu = 1420}};
    FakePort port;
    CountingRng rng;
    TcpTransport transport;
    std::uint8_t frame_bytes[256]{};

    explicit Harness(SendQuotaParams q = {})
        : transport({.max_connections = 8, .max_payload = 2000, .quota = q, .dial_backoff = {}},
                    false, {{peer_endpoint(), dialed_peer()}}, slots, port, rng) {
        port.slots = &slots;
    }

    // A frame of `size` bytes whose message has type `type`, in a fresh transmit slot.
    std::uint32_t frame(TxClass c = TxClass::data, std::uint8_t type = 4, std::size_t size = 100) {
        const auto tx = slots.acquire(c);
        REQUIRE(tx.has_value());
        frame_bytes[2] = type;
        slots[*tx].iov = {frame_bytes, size};
        return *tx;
    }
    ConnectionRef conn(std::uint32_t c) const { return {c, transport.generation(c)}; }
    // The first turn's dial, connected at 1 s; returns its connection.
    std::uint32_t connected() {
        transport.arm(seconds_ns(1));
        REQUIRE(port.dials.size() == 1);
        const std::uint32_t c = port.dials[0];
        transport.on_connected(conn(c), 0, at(seconds_ns(1)));
        return c;
    }
    // A frame queued and the turn's sends started, as the datapath's flush() does.
    void send(std::uint32_t tx) {
        transport.send(peer_endpoint(), tx);
        transport.flush();
    }
    ringtun::daemon::Now at(Nanos t) const { return {t, 0}; }
};

}  // namespace

TEST_CASE("tcp transport: a dial, a batch of queued frames, and the next batch on completion") {
    Harness h;
    h.transport.arm(seconds_ns(1));
    REQUIRE(h.port.dials.size() == 1);
    const std::uint32_t c = h.port.dials[0];
    // Frames sent before the connect completed wait for it.
    h.send(h.frame());
    h.send(h.frame());
    CHECK(h.port.sends.empty());
    h.transport.on_connected(h.conn(c), 0, h.at(seconds_ns(1)));
    CHECK(h.port.receives == std::vector<std::uint32_t>{c});
    REQUIRE(h.port.sends.size() == 1);
    CHECK(h.port.sends[0].frames == 2);
    // One send in flight: more frames queue behind it and leave with its completion.
    h.send(h.frame());
    CHECK(h.port.sends.size() == 1);
    h.transport.on_sent(h.conn(c), h.port.sends[0].head, 200, seconds_ns(1));
    REQUIRE(h.port.sends.size() == 2);
    CHECK(h.port.sends[1].frames == 1);
    h.transport.on_sent(h.conn(c), h.port.sends[1].head, 100, seconds_ns(1));
    CHECK(h.slots.in_use() == 0);
}

TEST_CASE("tcp transport: the frames queued in one turn leave in one send at flush()") {
    Harness h;
    (void)h.connected();
    // The segments of one super-packet: nothing leaves until the turn ends. (Unauthenticated,
    // the connection holds at most 8 frames.)
    for (int i = 0; i < 6; ++i)
        h.transport.send(peer_endpoint(), h.frame());
    CHECK(h.port.sends.empty());
    h.transport.flush();
    REQUIRE(h.port.sends.size() == 1);
    CHECK(h.port.sends[0].frames == 6);
    CHECK(h.port.sends[0].bytes == 6 * 100);
    h.transport.flush();  // nothing more queued: no empty send
    CHECK(h.port.sends.size() == 1);
}

TEST_CASE("tcp transport: requests refused once the loop stops are undone, nothing leaks") {
    Harness h;
    h.transport.arm(seconds_ns(1));
    const std::uint32_t c = h.port.dials.at(0);
    h.transport.on_connected(h.conn(c), 0, h.at(seconds_ns(1)));
    h.send(h.frame());
    REQUIRE(h.port.sends.size() == 1);
    for (int i = 0; i < 5; ++i)
        h.send(h.frame());
    // Shutdown begins; the batch in flight completes during the drain. The next batch is
    // refused, so its frames are freed; nothing new is armed.
    h.port.refuse = true;
    h.transport.on_sent(h.conn(c), h.port.sends[0].head, 100, seconds_ns(1));
    CHECK(h.port.sends.size() == 1);
    CHECK(h.transport.counters().not_started == 5);
    CHECK(h.slots.in_use() == 0);
    // A dial that cannot start closes its slot and waits for its backoff.
    h.transport.close_all();
    h.transport.arm(seconds_ns(60));
    CHECK(h.transport.connections() == 0);
    CHECK(h.transport.counters().connect_failures == 1);
}

TEST_CASE("tcp transport: an unauthenticated connection holds a few frames, one cookie reply") {
    Harness h({.unauthenticated_frames = 4, .unauthenticated_total = 64});
    h.transport.arm(seconds_ns(1));
    const std::uint32_t c = h.port.dials.at(0);
    h.transport.on_connected(h.conn(c), 0, h.at(seconds_ns(1)));
    h.send(h.frame(TxClass::control, 1));  // an initiation: sent
    REQUIRE(h.port.sends.size() == 1);
    // With that send in flight, a cookie reply is not queued behind it.
    const std::uint32_t cookie = h.frame(TxClass::control, 3);
    h.send(cookie);
    CHECK(h.transport.counters().queue_drops == 1);
    CHECK(h.port.released.count(cookie) == 1);
    // Beyond 4 frames held (1 in flight + 3 queued), more are dropped.
    for (int i = 0; i < 5; ++i)
        h.send(h.frame(TxClass::control, 1));
    CHECK(h.transport.counters().queue_drops == 3);
}

TEST_CASE("tcp transport: a batch started on a completion is timed from then, not the last turn") {
    // The stall clock of a send starts when the send does: a completion after a long wait
    // must not make the next batch look stalled at once (and have its queue shed).
    Harness h;
    h.transport.arm(0);
    const std::uint32_t c = h.port.dials.at(0);
    h.transport.on_connected(h.conn(c), 0, h.at(0));
    h.send(h.frame());
    REQUIRE(h.port.sends.size() == 1);
    CHECK(h.transport.sending_since(c) == 0);
    h.send(h.frame());  // queued behind it
    h.transport.on_sent(h.conn(c), h.port.sends[0].head, 100, seconds_ns(10));
    REQUIRE(h.port.sends.size() == 2);
    CHECK(h.transport.sending_since(c) == seconds_ns(10));
}

TEST_CASE("tcp transport: a send the backend could not start is tried again next turn") {
    Harness h({.unauthenticated_frames = 100, .unauthenticated_total = 1000});
    h.transport.arm(seconds_ns(1));
    const std::uint32_t c = h.port.dials.at(0);
    h.transport.on_connected(h.conn(c), 0, h.at(seconds_ns(1)));
    h.send(h.frame());
    REQUIRE(h.port.sends.size() == 1);
    for (int i = 0; i < 72; ++i)  // more than one batch queues behind the send in flight
        h.send(h.frame());
    // The completion comes in a turn with no submission entry to spare (not stopping): the
    // next batch of 64 cannot start and is lost; the 8 behind it must not wait for traffic.
    h.port.refuse = true;
    h.transport.on_sent(h.conn(c), h.port.sends[0].head, 100, seconds_ns(1));
    CHECK(h.transport.counters().not_started == 64);
    h.port.refuse = false;
    h.transport.arm(seconds_ns(1) + millis_ns(1));
    REQUIRE(h.port.sends.size() == 2);
    CHECK(h.port.sends[1].frames == 8);
}

TEST_CASE("tcp transport: a dialer removed closes its connection; one added dials at once") {
    Harness h;
    const std::uint32_t c = h.connected();
    CHECK(h.transport.dials(dialed_peer()));
    h.transport.remove_dialer(dialed_peer());
    CHECK(h.port.closes == std::vector<std::uint32_t>{c});
    CHECK_FALSE(h.transport.dials(dialed_peer()));
    CHECK(h.transport.dialers() == 0);
    // Nothing dials it any more, and what is sent to it is dropped, not queued.
    h.transport.arm(seconds_ns(60));
    CHECK(h.port.dials.size() == 1);
    h.send(h.frame());
    CHECK(h.transport.counters().no_connection == 1);
    CHECK(h.slots.in_use() == 0);
    // Added again (a reload): dialed in the next turn, in the freed entry.
    h.transport.add_dialer({peer_endpoint(), dialed_peer()});
    h.transport.add_dialer({peer_endpoint(), dialed_peer()});  // once
    CHECK(h.transport.dialers() == 1);
    h.transport.arm(seconds_ns(61));
    CHECK(h.port.dials.size() == 2);
}

TEST_CASE("tcp transport: a peer's dialer moved to a new address closes the old connection") {
    Harness h;
    const std::uint32_t c = h.connected();
    Endpoint moved = peer_endpoint();
    moved.addr.in4.sin_port = htons(443);
    h.transport.add_dialer({moved, dialed_peer()});
    CHECK(h.port.closes == std::vector<std::uint32_t>{c});
    CHECK(h.transport.dialers() == 1);
    h.transport.arm(seconds_ns(2));
    CHECK(h.port.dials.size() == 2);  // the new address, at once
}

TEST_CASE("tcp transport: a removed peer is no longer dialed, wherever it roamed") {
    Harness h;
    ringtun::crypto::SystemRng rng;
    auto local = ringtun::crypto::Identity::create(ringtun::crypto::generate_private_key(rng));
    ringtun::daemon::StagedPool staged(1420);
    Peer peer(local, dialed_peer(), {}, staged);
    Endpoint roamed = peer_endpoint();  // its last packet came from elsewhere
    roamed.addr.in4.sin_port = htons(40000);
    peer.endpoint = roamed;
    h.transport.arm(seconds_ns(1));
    REQUIRE(h.port.dials.size() == 1);
    h.transport.forget_peer(peer);
    CHECK(h.port.closes.size() == 1);
    CHECK(h.transport.dialers() == 0);
    h.transport.arm(seconds_ns(60));
    CHECK(h.port.dials.size() == 1);
}

TEST_CASE(
    "tcp transport: at the descriptor limit the listener closes a flood's oldest and accepts") {
    // Issue 12: at EMFILE the listener only paused, so a peer waiting in the backlog behind
    // a flood of idle connections waited for them to be closed as idle (15 s).
    TxSlots slots{{.data = 128, .control_reserve = 8, .mtu = 1420}};
    FakePort port;
    port.slots = &slots;
    CountingRng rng;
    // 64 connections: a per-source cap of 8, which the three below stay under.
    TcpTransport t({.max_connections = 64, .max_payload = 2000, .quota = {}, .dial_backoff = {}},
                   true, {}, slots, port, rng);
    t.arm(seconds_ns(1));
    REQUIRE(port.accepts == 1);
    std::vector<std::uint32_t> flood;
    for (std::uint16_t i = 0; i < 3; ++i) {
        const auto c = t.on_accepted(endpoint_at("10.99.0.5", 40000 + i), seconds_ns(1 + i));
        REQUIRE(c.has_value());
        t.opened(*c);
        flood.push_back(*c);
    }
    const auto other = t.on_accepted(endpoint_at("10.99.0.9", 40000), seconds_ns(1));
    REQUIRE(other.has_value());
    t.opened(*other);

    t.on_accept_ended(-EMFILE, seconds_ns(5));
    CHECK(port.closes == std::vector<std::uint32_t>{flood[0]});  // the flood's oldest
    CHECK(t.counters().evicted == 1);
    CHECK(t.next_deadline() <= seconds_ns(5));
    t.arm(seconds_ns(5));
    CHECK(port.accepts == 2);  // accepted again at once

    // Another failure is not the limit: nothing is closed, the accept waits.
    t.on_accept_ended(-ENOMEM, seconds_ns(6));
    CHECK(port.closes.size() == 1);
    t.arm(seconds_ns(6));
    CHECK(port.accepts == 2);
    t.arm(seconds_ns(6) + TcpTransport::accept_retry);
    CHECK(port.accepts == 3);
}
