// ConnectionTable: handles and generations, eviction order, release, stall and idle expiry.
#include "daemon/transport/tcp_connections.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <span>
#include <vector>

namespace {

using namespace ringtun::daemon;
using ringtun::crypto::millis_ns;
using ringtun::crypto::Nanos;
using ringtun::crypto::seconds_ns;

struct FakePeer {
    int id;
};

using Table = ConnectionTable<FakePeer>;
using Bytes = std::vector<std::uint8_t>;

// One source may fill the table: these cases are about eviction order, not per-source caps.
ConnectionParams params(std::uint32_t capacity) {
    return ConnectionParams{.capacity = capacity,
                            .max_payload = 200,
                            .send_queue_capacity = 4,
                            .max_unauthenticated_per_source = capacity};
}

const ExpiryParams limits{.stall_timeout = seconds_ns(5),
                          .unauthenticated_idle_timeout = seconds_ns(10)};

const auto no_items = [](std::uint32_t) { FAIL("unexpected queued item"); };

std::uint32_t open_at(Table& t, Nanos now, Direction d = Direction::inbound) {
    const Acquire a = t.acquire(now, d);
    REQUIRE(a.status == AcquireStatus::acquired);
    return a.slot;
}

// Feeds `bytes` to `slot`, returning the payloads delivered.
std::vector<Bytes> feed(Table& t, std::uint32_t slot, Nanos now, Bytes bytes) {
    std::vector<Bytes> got;
    const FrameError e = t.feed(slot, now, bytes, [&](std::span<std::uint8_t> p, bool) {
        got.emplace_back(p.begin(), p.end());
        return true;
    });
    REQUIRE(e == FrameError::none);
    return got;
}

}  // namespace

TEST_CASE("tcp_connections: handles encode slot and generation, never 0") {
    const ConnectionRef r{.slot = 1234, .generation = 77};
    const ConnectionHandle h = encode_connection(r);
    CHECK(h != no_connection);
    REQUIRE(decode_connection(h).has_value());
    CHECK(*decode_connection(h) == r);
    CHECK(encode_connection({}) != no_connection);

    CHECK_FALSE(decode_connection(0).has_value());
    CHECK_FALSE(decode_connection(h & ~(std::uint64_t{1} << 48)).has_value());  // no tag
    CHECK_FALSE(decode_connection(h | std::uint64_t{1} << 24).has_value());     // reserved bits
    CHECK_FALSE(decode_connection(h | std::uint64_t{1} << 63).has_value());
}

TEST_CASE("tcp_connections: release bumps the generation and makes the old handle stale") {
    Table t(params(1));
    const Acquire first = t.acquire(seconds_ns(1), Direction::inbound);
    REQUIRE(first.status == AcquireStatus::acquired);
    CHECK(t.state(first.slot) == ConnectionState::open);
    CHECK(t.handle(first.slot) == first.handle);
    CHECK(t.is_current(first.handle));
    CHECK(t.slot_of(first.handle) == first.slot);
    CHECK(t.in_use() == 1);

    const std::uint16_t gen = t.generation(first.slot);
    CHECK(t.release(first.slot, no_items));
    CHECK_FALSE(t.release(first.slot, no_items));  // double release: no effect
    CHECK(t.state(first.slot) == ConnectionState::free);
    CHECK(t.handle(first.slot) == no_connection);
    CHECK_FALSE(t.is_current(first.handle));
    CHECK(t.in_use() == 0);

    const Acquire second = t.acquire(seconds_ns(2), Direction::outbound);
    REQUIRE(second.status == AcquireStatus::acquired);
    CHECK(second.slot == first.slot);  // capacity 1: the same slot, reused
    CHECK(t.generation(second.slot) == static_cast<std::uint16_t>(gen + 1));
    CHECK(second.handle != first.handle);
    CHECK(t.is_current(second.handle));
    CHECK_FALSE(t.is_current(first.handle));
    CHECK_FALSE(t.slot_of(first.handle).has_value());
    CHECK(t.state(second.slot) == ConnectionState::connecting);
    CHECK(t.direction(second.slot) == Direction::outbound);
    CHECK(t.opened_at(second.slot) == seconds_ns(2));

    t.mark_open(second.slot, seconds_ns(3));
    CHECK(t.state(second.slot) == ConnectionState::open);
    CHECK(t.last_activity(second.slot) == seconds_ns(3));

    CHECK_FALSE(t.is_current(no_connection));
    CHECK_FALSE(t.is_current(encode_connection({.slot = 5, .generation = 0})));  // out of range
}

TEST_CASE("tcp_connections: the oldest unauthenticated inbound connection is evicted first") {
    Table t(params(3));
    FakePeer peer{1};
    const std::uint32_t a = open_at(t, seconds_ns(1));
    const std::uint32_t b = open_at(t, seconds_ns(3));
    const std::uint32_t c = open_at(t, seconds_ns(2));
    t.attach(a, &peer);  // oldest, but authenticated
    CHECK(t.authenticated(a));
    CHECK(t.peer(a) == &peer);

    const Acquire full = t.acquire(seconds_ns(4), Direction::inbound);
    REQUIRE(full.status == AcquireStatus::evict_first);
    CHECK(full.slot == c);  // opened at 2 s, before b
    CHECK(full.handle == t.handle(c));
    CHECK(t.in_use() == 3);  // nothing released by acquire itself

    CHECK(t.release(full.slot, no_items));
    const Acquire d = t.acquire(seconds_ns(4), Direction::inbound);
    REQUIRE(d.status == AcquireStatus::acquired);
    CHECK(d.slot == c);
    CHECK_FALSE(t.is_current(full.handle));

    const Acquire next = t.acquire(seconds_ns(5), Direction::inbound);
    REQUIRE(next.status == AcquireStatus::evict_first);
    CHECK(next.slot == b);
}

TEST_CASE("tcp_connections: authenticated connections and our own dials are never evicted") {
    Table t(params(3));
    FakePeer p1{1}, p2{2};
    const std::uint32_t dial = open_at(t, seconds_ns(1), Direction::outbound);
    const std::uint32_t a = open_at(t, seconds_ns(2));
    const std::uint32_t b = open_at(t, seconds_ns(3));
    t.attach(a, &p1);
    t.attach(b, &p2);

    CHECK(t.acquire(seconds_ns(4), Direction::inbound).status == AcquireStatus::refused);
    CHECK(t.acquire(seconds_ns(4), Direction::outbound).status == AcquireStatus::refused);
    CHECK_FALSE(t.eviction_victim().has_value());

    SUBCASE("a removed peer's connection becomes evictable") {
        CHECK(t.detach(&p2) == 1);
        CHECK_FALSE(t.authenticated(b));
        CHECK(t.peer(b) == nullptr);
        CHECK(t.authenticated(a));
        const Acquire r = t.acquire(seconds_ns(4), Direction::inbound);
        CHECK(r.status == AcquireStatus::evict_first);
        CHECK(r.slot == b);
    }
    SUBCASE("the dial stays even when it is the oldest unauthenticated connection") {
        t.attach(b, nullptr);
        const Acquire r = t.acquire(seconds_ns(4), Direction::inbound);
        CHECK(r.status == AcquireStatus::evict_first);
        CHECK(r.slot == b);
        CHECK(r.slot != dial);
    }
}

TEST_CASE("tcp_connections: release hands back queued items and forgets the peer and frame") {
    Table t(params(2));
    FakePeer peer{1};
    const std::uint32_t s = open_at(t, 0);
    t.attach(s, &peer);
    for (std::uint32_t item = 10; item < 13; ++item)
        CHECK_FALSE(t.queue(s).push(item).has_value());
    CHECK(feed(t, s, 0, {0x00, 0x05, 1}).empty());
    CHECK(t.assembler(s).mid_frame());

    std::vector<std::uint32_t> freed;
    CHECK(t.release(s, [&](std::uint32_t item) { freed.push_back(item); }));
    CHECK(freed == std::vector<std::uint32_t>{10, 11, 12});
    CHECK(t.queue(s).empty());
    CHECK(t.peer(s) == nullptr);
    CHECK_FALSE(t.authenticated(s));

    const std::uint32_t again = open_at(t, seconds_ns(1));
    REQUIRE(again == s);
    CHECK_FALSE(t.assembler(again).mid_frame());
    CHECK_FALSE(t.authenticated(again));
    CHECK(feed(t, again, seconds_ns(1), {0x00, 0x01, 42}) == std::vector<Bytes>{Bytes{42}});
}

TEST_CASE("tcp_connections: partial frames of different slots do not share bytes") {
    Table t(params(3));
    const std::uint32_t s0 = open_at(t, 0);
    const std::uint32_t s1 = open_at(t, 0);
    const Bytes p0(200, 0xa0), p1(200, 0xa1);
    const auto framed = [](const Bytes& p) {
        Bytes f{0x00, static_cast<std::uint8_t>(p.size())};
        f.insert(f.end(), p.begin(), p.end());
        return f;
    };
    const Bytes f0 = framed(p0), f1 = framed(p1);
    CHECK(feed(t, s0, 0, Bytes(f0.begin(), f0.begin() + 150)).empty());
    CHECK(feed(t, s1, 0, Bytes(f1.begin(), f1.begin() + 150)).empty());
    CHECK(feed(t, s0, 0, Bytes(f0.begin() + 150, f0.end())) == std::vector<Bytes>{p0});
    CHECK(feed(t, s1, 0, Bytes(f1.begin() + 150, f1.end())) == std::vector<Bytes>{p1});
}

TEST_CASE("tcp_connections: a partial frame pending for stall_timeout expires") {
    Table t(params(2));
    FakePeer peer{1};
    const std::uint32_t s = open_at(t, 0);
    t.attach(s, &peer);  // stalls apply to authenticated connections too
    CHECK(t.expiry(s, seconds_ns(100), limits) == Expiry::none);  // no partial frame

    CHECK(feed(t, s, seconds_ns(10), {0x00, 0x04, 1}).empty());
    CHECK(feed(t, s, seconds_ns(12), {2}).empty());  // trickling bytes do not restart the clock
    CHECK(t.expiry(s, seconds_ns(15) - 1, limits) == Expiry::none);
    CHECK(t.expiry(s, seconds_ns(15), limits) == Expiry::stalled);

    SUBCASE("completing the frame clears it") {
        CHECK(feed(t, s, seconds_ns(14), {3, 4}).size() == 1);
        CHECK(t.expiry(s, seconds_ns(60), limits) == Expiry::none);
    }
    SUBCASE("a feed that completes it and starts the next restarts the clock") {
        CHECK(feed(t, s, seconds_ns(14), {3, 4, 0x00}).size() == 1);
        CHECK(t.assembler(s).mid_frame());
        CHECK(t.expiry(s, seconds_ns(19) - 1, limits) == Expiry::none);
        CHECK(t.expiry(s, seconds_ns(19), limits) == Expiry::stalled);
    }
}

TEST_CASE("tcp_connections: an unauthenticated connection idle for the timeout expires") {
    Table t(params(3));
    FakePeer peer{1};
    const std::uint32_t idle = open_at(t, seconds_ns(1));
    const std::uint32_t talking = open_at(t, seconds_ns(1));
    const std::uint32_t authed = open_at(t, seconds_ns(1));
    t.attach(authed, &peer);

    CHECK(feed(t, talking, seconds_ns(6), {0x00, 0x01, 9}).size() == 1);
    CHECK(t.last_activity(talking) == seconds_ns(6));
    CHECK(t.expiry(idle, seconds_ns(11) - 1, limits) == Expiry::none);
    CHECK(t.expiry(idle, seconds_ns(11), limits) == Expiry::unauthenticated_idle);
    CHECK(t.expiry(talking, seconds_ns(11), limits) == Expiry::none);
    CHECK(t.expiry(talking, seconds_ns(16), limits) == Expiry::unauthenticated_idle);
    CHECK(t.expiry(authed, seconds_ns(1000), limits) == Expiry::none);

    SUBCASE("a dial that never connects expires the same way") {
        CHECK(t.release(idle, no_items));
        const std::uint32_t dial = open_at(t, seconds_ns(20), Direction::outbound);
        CHECK(t.expiry(dial, seconds_ns(30), limits) == Expiry::unauthenticated_idle);
        t.mark_open(dial, seconds_ns(25));
        CHECK(t.expiry(dial, seconds_ns(30), limits) == Expiry::none);
    }
}

TEST_CASE("tcp_connections: the sweep names each expired connection once and may release it") {
    Table t(params(4));
    FakePeer peer{1};
    const std::uint32_t idle = open_at(t, 0);
    const std::uint32_t stalled = open_at(t, 0);
    const std::uint32_t fine = open_at(t, 0);
    t.attach(stalled, &peer);
    t.attach(fine, &peer);
    CHECK(feed(t, stalled, seconds_ns(1), {0x00}).empty());  // half a length prefix
    const ConnectionHandle idle_handle = t.handle(idle);
    const ConnectionHandle stalled_handle = t.handle(stalled);

    struct Seen {
        std::uint32_t slot;
        ConnectionHandle handle;
        Expiry why;
    };
    std::vector<Seen> seen;
    t.for_each_expired(seconds_ns(10), limits,
                       [&](std::uint32_t slot, ConnectionHandle h, Expiry why) {
                           seen.push_back({slot, h, why});
                           CHECK(t.release(slot, no_items));
                       });
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].slot == idle);
    CHECK(seen[0].handle == idle_handle);
    CHECK(seen[0].why == Expiry::unauthenticated_idle);
    CHECK(seen[1].slot == stalled);
    CHECK(seen[1].handle == stalled_handle);
    CHECK(seen[1].why == Expiry::stalled);
    CHECK(t.in_use() == 1);
    CHECK(t.is_current(t.handle(fine)));

    int calls = 0;
    t.for_each_expired(seconds_ns(10) + millis_ns(1), limits,
                       [&](std::uint32_t, ConnectionHandle, Expiry) { ++calls; });
    CHECK(calls == 0);
}

TEST_CASE("tcp_connections: a flood of connects from one source evicts only its own connections") {
    // Defect 7: evicting the oldest unauthenticated connection let a flood of silent connects
    // from one address push out every legitimate client before its handshake completed.
    // Unauthenticated inbound connections are capped per source (an IPv4 address, an IPv6
    // /64), and a full table evicts from the source holding the most.
    Table t(ConnectionParams{.capacity = 8,
                             .max_payload = 200,
                             .send_queue_capacity = 4,
                             .max_unauthenticated_per_source = 3});
    const SourceKey client = source_key_v4(10, 99, 0, 1);
    const SourceKey flood = source_key_v4(10, 99, 0, 5);
    const std::uint32_t legit = [&] {
        const Acquire a = t.acquire(seconds_ns(1), Direction::inbound, client);
        REQUIRE(a.status == AcquireStatus::acquired);
        return a.slot;
    }();
    const ConnectionHandle legit_handle = t.handle(legit);
    std::uint64_t evicted = 0;
    for (int i = 0; i < 1000; ++i) {
        const Nanos now = seconds_ns(2) + millis_ns(i);
        Acquire a = t.acquire(now, Direction::inbound, flood);
        if (a.status == AcquireStatus::evict_first) {
            CHECK(a.slot != legit);
            REQUIRE(t.release(a.slot, no_items));
            ++evicted;
            a = t.acquire(now, Direction::inbound, flood);
        }
        REQUIRE(a.status == AcquireStatus::acquired);
    }
    CHECK(t.is_current(legit_handle));  // never evicted
    CHECK(evicted == 1000 - 3);         // the flood recycles its own three slots
    CHECK(t.in_use() == 4);

    // IPv6 sources share a cap per /64.
    const SourceKey v6a = source_key_v6(
        std::array<std::uint8_t, 16>{0xfd, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1});
    const SourceKey v6b = source_key_v6(
        std::array<std::uint8_t, 16>{0xfd, 0, 0, 0, 0, 0, 0, 1, 9, 9, 9, 9, 9, 9, 9, 9});
    CHECK(v6a == v6b);
}

TEST_CASE("tcp_connections: a full table evicts from the source holding the most") {
    Table t(ConnectionParams{.capacity = 4,
                             .max_payload = 200,
                             .send_queue_capacity = 4,
                             .max_unauthenticated_per_source = 3});
    const SourceKey x = source_key_v4(10, 0, 0, 1), y = source_key_v4(10, 0, 0, 2),
                    z = source_key_v4(10, 0, 0, 3);
    const std::uint32_t y1 = t.acquire(seconds_ns(1), Direction::inbound, y).slot;  // oldest
    const std::uint32_t x1 = t.acquire(seconds_ns(2), Direction::inbound, x).slot;
    (void)t.acquire(seconds_ns(3), Direction::inbound, x);
    (void)t.acquire(seconds_ns(4), Direction::inbound, x);
    const Acquire a = t.acquire(seconds_ns(5), Direction::inbound, z);
    REQUIRE(a.status == AcquireStatus::evict_first);
    CHECK(a.slot == x1);  // x holds three: its oldest goes, not y's older one
    CHECK(a.slot != y1);
}
