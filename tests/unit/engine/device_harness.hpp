// Test layer (b): two daemon::Device instances in one process, joined by an in-memory network,
// on a clock the test moves. Each side's FakeSink records every message its device
// originates; deliver_*() carries queued messages to the other side, routed by destination
// endpoint, so a message sent to a stale endpoint shows up as lost rather than delivered.
//
// A: endpoint 10.99.0.1:51820, allowed IPs 10.100.0.1/32 and fd00::1/128 (at B).
// B: endpoint 10.99.0.2:51820, allowed IPs 10.100.0.2/32 and fd00::2/128 (at A).
#pragma once

#include <arpa/inet.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "crypto/messages.hpp"
#include "crypto/rng.hpp"
#include "crypto/x25519.hpp"
#include "daemon/engine/device.hpp"

namespace ringtun::test {

using crypto::millis_ns;
using crypto::Nanos;
using crypto::seconds_ns;
using daemon::Drop;
using daemon::Endpoint;
using Bytes = std::vector<std::uint8_t>;

// Deterministic randomness: a splitmix64 stream, or one constant byte. A constant makes every
// jitter draw equal: 0x00 gives 0, 0xff gives jitter_all_ff.
class TestRng final : public crypto::Rng {
  public:
    explicit TestRng(std::uint64_t seed) : state_(seed) {}
    void set_constant(std::optional<std::uint8_t> byte) { constant_ = byte; }

    void fill(std::span<std::uint8_t> out) noexcept override {
        for (auto& b : out) {
            if (constant_) {
                b = *constant_;
                continue;
            }
            if (avail_ == 0) {
                word_ = next();
                avail_ = 8;
            }
            b = static_cast<std::uint8_t>(word_);
            word_ >>= 8;
            --avail_;
        }
    }

    std::uint64_t next() noexcept {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

  private:
    std::uint64_t state_;
    std::uint64_t word_ = 0;
    int avail_ = 0;
    std::optional<std::uint8_t> constant_;
};

inline constexpr Nanos jitter_all_ff = 0xffffffffULL % daemon::rekey_timeout_jitter_max;
static_assert(jitter_all_ff == 286'967'295);

// Usable in static initialisers (no doctest assertion): a bad literal aborts.
inline Endpoint endpoint4(const char* ip, std::uint16_t port) {
    Endpoint e;
    e.addr.in4.sin_family = AF_INET;
    e.addr.in4.sin_port = htons(port);
    if (inet_pton(AF_INET, ip, &e.addr.in4.sin_addr) != 1) std::abort();
    return e;
}

// One message on the wire.
struct Datagram {
    Endpoint to;
    Bytes bytes;
    Nanos sent_at = 0;
    daemon::TxClass cls = daemon::TxClass::data;  // as the device asked for its buffer

    std::uint8_t type() const { return bytes.empty() ? 0 : bytes[0]; }
    bool is_keepalive() const { return type() == 4 && bytes.size() == crypto::keepalive_len; }
    bool is_data() const { return type() == 4 && bytes.size() > crypto::keepalive_len; }
};

inline std::size_t count_type(const std::vector<Datagram>& log, std::uint8_t type) {
    return static_cast<std::size_t>(std::count_if(
        log.begin(), log.end(), [type](const Datagram& d) { return d.type() == type; }));
}
inline std::size_t count_keepalives(const std::vector<Datagram>& log) {
    return static_cast<std::size_t>(
        std::count_if(log.begin(), log.end(), [](const Datagram& d) { return d.is_keepalive(); }));
}
inline std::vector<Nanos> times_of_type(const std::vector<Datagram>& log, std::uint8_t type) {
    std::vector<Nanos> t;
    for (const auto& d : log)
        if (d.type() == type) t.push_back(d.sent_at);
    return t;
}

// Records what the device transmits; acquire() can be told to fail (no_tx_buffer). Lent
// buffers are poisoned so that a byte the device forgets to write shows up on the wire. Every
// handle must be spent exactly once (commit or cancel); outstanding() counts those that are not.
class FakeSink final : public daemon::MessageSink {
  public:
    explicit FakeSink(const daemon::Now& clock) : clock_(clock) {}

    daemon::TxBuffer acquire(std::size_t size, daemon::TxClass c) noexcept override {
        if (fail_next > 0) {
            --fail_next;
            return {};
        }
        if (size > kBufferSize || room == 0) return {};
        if (room != unlimited) --room;
        std::uint32_t h = 0;
        while (h < lent_.size() && lent_[h].size != 0)
            ++h;
        if (h == lent_.size()) lent_.push_back({});
        lent_[h] = Lent{size, c, Bytes(kBufferSize, 0xa5)};
        return {h, {lent_[h].bytes.data(), size}};
    }

    // Follows `room`; fail_next stands for a refusal has_room() did not foresee.
    bool has_room(daemon::TxClass) const noexcept override { return room > 0; }

    void commit(const daemon::TxBuffer& b, const Endpoint& to,
                std::size_t length) noexcept override {
        REQUIRE(b.handle < lent_.size());
        Lent& l = lent_[b.handle];
        CHECK(l.size != 0);
        CHECK(length <= l.size);
        Datagram d{to, Bytes(l.bytes.begin(), l.bytes.begin() + static_cast<long>(length)),
                   clock_.boot, l.cls};
        queue.push_back(d);
        log.push_back(std::move(d));
        l.size = 0;
    }

    void cancel(const daemon::TxBuffer& b) noexcept override {
        REQUIRE(b.handle < lent_.size());
        CHECK(lent_[b.handle].size != 0);
        lent_[b.handle].size = 0;
        ++cancelled;
    }

    std::size_t outstanding() const {
        return static_cast<std::size_t>(
            std::count_if(lent_.begin(), lent_.end(), [](const Lent& l) { return l.size != 0; }));
    }

    int fail_next = 0;  // acquire() calls still to fail
    static constexpr std::size_t unlimited = SIZE_MAX;
    std::size_t room = unlimited;  // buffers acquire() may still lend (a full sink: 0)
    std::size_t cancelled = 0;     // handles given back unsent
    std::deque<Datagram> queue;    // sent, not yet delivered
    std::vector<Datagram> log;     // everything ever sent (including sealed TUN packets)

  private:
    static constexpr std::size_t kBufferSize = 65536;
    struct Lent {
        std::size_t size = 0;  // 0: free
        daemon::TxClass cls = daemon::TxClass::data;
        Bytes bytes;
    };
    const daemon::Now& clock_;
    std::vector<Lent> lent_;
};

// One device and everything the test observes about it.
struct Side {
    Side(Endpoint address, std::uint64_t seed, const daemon::Now& clock)
        : addr(address), rng(seed), tx(clock) {
        TestRng key_rng(seed ^ 0x5eed);
        key = crypto::generate_private_key(key_rng);
    }

    daemon::Device& dev() { return *device; }
    // What the loop does when it starts: Device::start, then the timers of its first turns,
    // until nothing is due now (or they wait for room in the sink).
    void start(const daemon::Now& now) {
        device->start(now);
        for (int turn = 0; turn < 1000 && device->next_deadline() <= now.boot; ++turn)
            device->on_timers(now);
    }
    const daemon::DeviceCounters& counters() const { return device->counters(); }
    std::uint64_t drops(Drop d) const { return device->counters().drops.get(d); }
    std::uint64_t total_drops() const { return device->counters().drops.total(); }

    Endpoint addr;  // where this side sends from and listens
    TestRng rng;
    crypto::PrivateKey key;
    FakeSink tx;
    std::unique_ptr<daemon::Device> device;
    daemon::Peer* peer = nullptr;              // its view of the other side
    std::vector<Bytes> tun;                    // packets the device handed back for its TUN
    std::vector<daemon::Peer*> authenticated;  // per message received: the peer it authenticated
    std::vector<Datagram> lost;                // sent to an address where the other side is not
    bool absent = false;                       // everything this side sends is lost on delivery
};

// IPv4 packet of `total` bytes (>= 24) from `src` to `dst`; `id` is stored after the header.
inline Bytes ipv4(const char* src, const char* dst, std::uint32_t id, std::size_t total = 60) {
    Bytes p(total, 0);
    p[0] = 0x45;
    p[2] = static_cast<std::uint8_t>(total >> 8);
    p[3] = static_cast<std::uint8_t>(total);
    p[8] = 64;
    p[9] = 17;
    REQUIRE(inet_pton(AF_INET, src, p.data() + 12) == 1);
    REQUIRE(inet_pton(AF_INET, dst, p.data() + 16) == 1);
    std::memcpy(p.data() + 20, &id, 4);
    for (std::size_t i = 24; i < total; ++i)
        p[i] = static_cast<std::uint8_t>(i + id);
    return p;
}

// IPv6 packet of `total` bytes (>= 44); `id` is stored after the header.
inline Bytes ipv6(const char* src, const char* dst, std::uint32_t id, std::size_t total = 80) {
    Bytes p(total, 0);
    p[0] = 0x60;
    p[4] = static_cast<std::uint8_t>((total - 40) >> 8);
    p[5] = static_cast<std::uint8_t>(total - 40);
    p[6] = 17;
    p[7] = 64;
    REQUIRE(inet_pton(AF_INET6, src, p.data() + 8) == 1);
    REQUIRE(inet_pton(AF_INET6, dst, p.data() + 24) == 1);
    std::memcpy(p.data() + 40, &id, 4);
    for (std::size_t i = 44; i < total; ++i)
        p[i] = static_cast<std::uint8_t>(i * 7 + id);
    return p;
}

inline std::uint32_t packet_id(const Bytes& p) {
    std::uint32_t id = 0;
    const std::size_t at = (p[0] >> 4) == 4 ? 20 : 40;
    std::memcpy(&id, p.data() + at, 4);
    return id;
}

inline Bytes a_to_b(std::uint32_t id, std::size_t total = 60) {
    return ipv4("10.100.0.1", "10.100.0.2", id, total);
}
inline Bytes b_to_a(std::uint32_t id, std::size_t total = 60) {
    return ipv4("10.100.0.2", "10.100.0.1", id, total);
}

struct PairOptions {
    std::size_t mtu = 1420;
    std::uint16_t a_keepalive = 0;  // persistent keepalive A keeps towards B
    std::uint16_t b_keepalive = 0;
    bool a_knows_b = true;  // A is configured with B's endpoint
    bool b_knows_a = true;
    std::optional<std::uint8_t> rng_constant;  // both devices' randomness

    PairOptions& a_keeps_alive(std::uint16_t seconds) {
        a_keepalive = seconds;
        return *this;
    }
    PairOptions& a_unaware_of_b() {
        a_knows_b = false;
        return *this;
    }
    PairOptions& b_unaware_of_a() {
        b_knows_a = false;
        return *this;
    }
    PairOptions& rng_fixed(std::uint8_t byte) {
        rng_constant = byte;
        return *this;
    }
};

class DevicePair {
  public:
    static constexpr std::size_t max_steps = 100000;

    explicit DevicePair(PairOptions o = {})
        : opts(o),
          a(endpoint4("10.99.0.1", 51820), 1, now),
          b(endpoint4("10.99.0.2", 51820), 2, now) {
        a.rng.set_constant(o.rng_constant);
        b.rng.set_constant(o.rng_constant);
        a.device = std::make_unique<daemon::Device>(a.key, o.mtu, a.tx, a.rng);
        b.device = std::make_unique<daemon::Device>(b.key, o.mtu, b.tx, b.rng);
        const crypto::SymmetricKey no_psk;
        a.peer = a.dev().add_peer(b.dev().identity().public_key, no_psk, o.a_keepalive,
                                  o.a_knows_b ? std::optional(b.addr) : std::nullopt);
        b.peer = b.dev().add_peer(a.dev().identity().public_key, no_psk, o.b_keepalive,
                                  o.b_knows_a ? std::optional(a.addr) : std::nullopt);
        REQUIRE(a.peer);
        REQUIRE(b.peer);
        route(a, *a.peer, "10.100.0.2", "fd00::2");
        route(b, *b.peer, "10.100.0.1", "fd00::1");
    }

    Side& other(Side& s) { return &s == &a ? b : a; }

    // --- TUN side ---

    // Hands `packet` to s's on_tun_packet. A datagram sealed at once is queued like a
    // transmitted one; returns whether there was one.
    bool send_tun(Side& s, const Bytes& packet) {
        std::optional<Datagram> d = tun_packet(s, packet);
        if (!d) return false;
        s.tx.queue.push_back(*d);
        s.tx.log.push_back(std::move(*d));
        return true;
    }

    // Seals `packet` under s's current session and returns it without sending it.
    Datagram seal_now(Side& s, const Bytes& packet) {
        std::optional<Datagram> d = tun_packet(s, packet);
        REQUIRE(d.has_value());
        return *d;
    }

    // --- network side ---

    // Hands `message` to s.on_network_packet as if from `from`; records TUN output. Returns
    // whether a packet went to the TUN.
    bool inject(Side& to, Bytes message, const Endpoint& from) {
        const daemon::Device::Inbound in = to.dev().on_network_packet(message, from, now);
        to.authenticated.push_back(in.peer);
        if (in.packet.empty()) return false;
        CHECK(in.peer != nullptr);
        CHECK(in.packet.data() >= message.data());
        CHECK(in.packet.data() + in.packet.size() <= message.data() + message.size());
        to.tun.emplace_back(in.packet.begin(), in.packet.end());
        return true;
    }

    // Moves the oldest message `from` has queued; false if it has none.
    bool deliver_one(Side& from) {
        if (from.tx.queue.empty()) return false;
        Datagram d = std::move(from.tx.queue.front());
        from.tx.queue.pop_front();
        Side& to = other(from);
        if (from.absent) return true;
        if (!d.to.same_address(to.addr)) {
            from.lost.push_back(std::move(d));
            return true;
        }
        inject(to, std::move(d.bytes), from.addr);
        return true;
    }

    // Both directions, alternating, until neither side has anything queued.
    std::size_t deliver_all() {
        std::size_t moved = 0;
        for (std::size_t step = 0; step < max_steps; ++step) {
            const bool any = deliver_one(a) | deliver_one(b);
            if (!any) return moved;
            ++moved;
        }
        FAIL("deliver_all: the devices did not go quiet");
        return moved;
    }

    // --- clock ---

    // Moves the clock to `t`, stopping at every deadline on the way (in order) to run both
    // devices' timers and, when auto_deliver, to deliver what they send.
    void advance_to(Nanos t) {
        REQUIRE(t >= now.boot);
        for (std::size_t step = 0; step < max_steps; ++step) {
            const Nanos next = std::min(a.dev().next_deadline(), b.dev().next_deadline());
            if (next > t) {
                set_clock(t);
                run_timers();
                return;
            }
            if (next > now.boot) set_clock(next);
            run_timers();
        }
        FAIL("advance_to: timers keep firing at the same instant");
    }
    void advance(Nanos d) { advance_to(now.boot + d); }

    // The first full handshake, started by an A→B packet; everything delivered. Leaves the
    // TUN records and transmit logs empty.
    void establish() {
        send_tun(a, a_to_b(0));
        deliver_all();
        REQUIRE(a.peer->current.has_value());
        REQUIRE(b.peer->current.has_value());
        REQUIRE(b.tun.size() == 1);
        clear_records();
    }

    // A keeping alive (PairOptions::a_keeps_alive) starts: its keepalive starts the handshake,
    // which completes and is confirmed. Leaves the records empty.
    void start_keepalive_session() {
        a.start(now);
        deliver_all();
        REQUIRE(a.peer->current.has_value());
        REQUIRE(a.peer->timers.armed(daemon::Timer::persistent_keepalive));
        clear_records();
    }

    void clear_records() {
        for (Side* s : {&a, &b}) {
            CHECK(s->tx.outstanding() == 0);
            s->tun.clear();
            s->authenticated.clear();
            s->tx.log.clear();
            s->lost.clear();
        }
    }

    PairOptions opts;
    daemon::Now now{seconds_ns(1000), 1'700'000'000'000'000'000ULL};
    Side a;
    Side b;
    bool auto_deliver = true;

  private:
    static void route(Side& s, daemon::Peer& p, const char* v4, const char* v6) {
        std::uint8_t addr4[4], addr6[16];
        REQUIRE(inet_pton(AF_INET, v4, addr4) == 1);
        REQUIRE(inet_pton(AF_INET6, v6, addr6) == 1);
        REQUIRE(s.dev().add_allowed_ip(p, AF_INET, addr4, 32));
        REQUIRE(s.dev().add_allowed_ip(p, AF_INET6, addr6, 128));
    }

    std::optional<Datagram> tun_packet(Side& s, const Bytes& packet) {
        REQUIRE(packet.size() <= opts.mtu + crypto::data_tag_len);
        Bytes buf(crypto::data_header_len + opts.mtu + crypto::data_tag_len, 0xa5);
        std::copy(packet.begin(), packet.end(), buf.begin() + crypto::data_header_len);
        const auto out = s.dev().on_tun_packet(buf, packet.size(), now);
        if (!out.peer) return std::nullopt;
        REQUIRE(out.peer->endpoint.has_value());
        REQUIRE(out.length <= buf.size());
        buf.resize(out.length);
        return Datagram{*out.peer->endpoint, std::move(buf), now.boot};
    }

    void set_clock(Nanos t) {
        now.unix_ns += t - now.boot;
        now.boot = t;
    }

    void run_timers() {
        a.dev().on_timers(now);
        b.dev().on_timers(now);
        if (auto_deliver) deliver_all();
        for (Side* s : {&a, &b}) {
            // The device's deadline heap is never later than its peers' own timers, but for a
            // hold's wait for room in the sink.
            Nanos earliest = daemon::no_deadline;
            for (const auto& p : s->dev().peers())
                earliest = std::min(earliest, p->timers.next_deadline());
            REQUIRE(s->dev().next_deadline() <=
                    std::max(earliest, now.boot + daemon::timer_hold_step));
        }
    }
};

}  // namespace ringtun::test
