// StagedPackets: up to 128 packets per peer, oldest dropped first, their bytes in a StagedPool
// shared by every peer of a device (128 slots per peer, at most 4,096); a full pool costs the
// peer holding the most, and a keepalive request takes no slot.
#include "daemon/engine/staged.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <vector>

using ringtun::daemon::StagedPackets;
using ringtun::daemon::StagedPool;
using Push = StagedPackets::Push;

namespace {

std::vector<std::uint8_t> packet(std::size_t len, std::uint8_t tag) {
    std::vector<std::uint8_t> p(len, tag);
    if (len > 0) p[len - 1] = static_cast<std::uint8_t>(tag ^ 0xff);
    return p;
}

bool front_is(const StagedPackets& s, const std::vector<std::uint8_t>& p) {
    const auto f = s.front();
    return f.size() == p.size() && std::equal(f.begin(), f.end(), p.begin());
}

// A pool with room for `peers` peers.
std::unique_ptr<StagedPool> pool_for(std::size_t max_packet, std::size_t peers = 1) {
    auto pool = std::make_unique<StagedPool>(max_packet);
    pool->reserve_for(peers);
    return pool;
}

}  // namespace

TEST_CASE("staged: packets come out in order with their own lengths") {
    auto pool = pool_for(1420);
    StagedPackets s(*pool);
    CHECK(s.empty());
    for (std::uint8_t i = 0; i < 10; ++i)
        CHECK(s.push(packet(20 + i * 100, i)) == Push::stored);
    CHECK(s.size() == 10);
    for (std::uint8_t i = 0; i < 10; ++i) {
        CHECK(front_is(s, packet(20 + i * 100, i)));
        s.pop();
    }
    CHECK(s.empty());
    s.pop();  // popping nothing is harmless
    CHECK(s.size() == 0);
    CHECK(pool->free_slots() == pool->slots());
}

TEST_CASE("staged: an empty packet (a keepalive request) is kept as such") {
    auto pool = pool_for(1420);
    StagedPackets s(*pool);
    CHECK(s.push({}) == Push::stored);
    CHECK(s.size() == 1);
    CHECK(s.front().empty());
}

TEST_CASE("staged: slots are reused without mixing up packets") {
    auto pool = pool_for(64);
    StagedPackets s(*pool);
    for (int round = 0; round < 5; ++round) {
        for (int i = 0; i < 100; ++i)
            REQUIRE(s.push(packet(1 + (i + round) % 64, static_cast<std::uint8_t>(i))) ==
                    Push::stored);
        for (int i = 0; i < 100; ++i) {
            CHECK(front_is(s, packet(1 + (i + round) % 64, static_cast<std::uint8_t>(i))));
            s.pop();
        }
        CHECK(s.empty());
    }
}

TEST_CASE("staged: when full the oldest is dropped for the newest") {
    auto pool = pool_for(100, 2);  // room beyond this peer's 128: its own limit decides
    StagedPackets s(*pool);
    for (int i = 0; i < 128; ++i)
        REQUIRE(s.push(packet(50, static_cast<std::uint8_t>(i))) == Push::stored);
    CHECK(s.size() == StagedPackets::capacity);
    CHECK(s.push(packet(50, 128)) == Push::stored_dropping_oldest);
    CHECK(s.push(packet(50, 129)) == Push::stored_dropping_oldest);
    CHECK(s.size() == 128);
    CHECK(pool->free_slots() == 128);
    for (int i = 2; i < 130; ++i) {
        CHECK(front_is(s, packet(50, static_cast<std::uint8_t>(i))));
        s.pop();
    }
    CHECK(s.empty());
}

TEST_CASE("staged: a packet longer than max_packet is refused and nothing changes") {
    auto pool = pool_for(100);
    StagedPackets s(*pool);
    CHECK(s.push(packet(100, 1)) == Push::stored);
    CHECK(s.push(packet(101, 2)) == Push::too_long);
    CHECK(s.size() == 1);
    CHECK(front_is(s, packet(100, 1)));
    // Refused even when full: the oldest stays.
    for (int i = 0; i < 127; ++i)
        REQUIRE(s.push(packet(10, 3)) == Push::stored);
    CHECK(s.push(packet(101, 4)) == Push::too_long);
    CHECK(front_is(s, packet(100, 1)));
}

TEST_CASE("staged: clear() drops everything, says how many and gives the slots back") {
    auto pool = pool_for(100);
    StagedPackets s(*pool);
    CHECK(s.clear() == 0);
    for (int i = 0; i < 70; ++i)
        REQUIRE(s.push(packet(10, static_cast<std::uint8_t>(i))) == Push::stored);
    s.pop();
    CHECK(pool->free_slots() == pool->slots() - 69);
    CHECK(s.clear() == 69);
    CHECK(s.empty());
    CHECK(pool->free_slots() == pool->slots());
    CHECK(s.push(packet(30, 9)) == Push::stored);
    CHECK(front_is(s, packet(30, 9)));
    CHECK(s.size() == 1);
}

TEST_CASE("staged: the pool grows 128 slots per peer up to 4096, allocated at setup only") {
    StagedPool pool(1420);
    CHECK(pool.slots() == 0);
    pool.reserve_for(1);
    CHECK(pool.slots() == 128);
    pool.reserve_for(3);
    CHECK(pool.slots() == 384);
    pool.reserve_for(10000);
    CHECK(pool.slots() == StagedPool::max_slots);
    CHECK(pool.free_slots() == StagedPool::max_slots);
    pool.reserve_for(2);  // never shrinks
    CHECK(pool.slots() == StagedPool::max_slots);
}

TEST_CASE("staged: peers share the pool; an empty pool costs the peer holding the most") {
    auto pool = pool_for(100, 1);  // 128 slots for three peers
    StagedPackets a(*pool), b(*pool), c(*pool);
    for (int i = 0; i < 64; ++i)
        REQUIRE(a.push(packet(10, static_cast<std::uint8_t>(i))) == Push::stored);
    for (int i = 0; i < 64; ++i)
        REQUIRE(b.push(packet(20, static_cast<std::uint8_t>(i))) == Push::stored);
    CHECK(pool->free_slots() == 0);
    // b holds as many as anyone (a tie costs the pusher): its oldest goes for its newest.
    CHECK(b.push(packet(20, 200)) == Push::stored_pool_empty);
    CHECK(b.size() == 64);
    CHECK(front_is(b, packet(20, 1)));
    CHECK(a.size() == 64);
    // c holds nothing: one of the peers holding the most (a and b, 64 each) gives up its
    // oldest, and c's packet is stored.
    CHECK(c.push(packet(30, 1)) == Push::stored_pool_empty);
    CHECK(c.size() == 1);
    CHECK(a.size() + b.size() == 127);
    CHECK(front_is(c, packet(30, 1)));
    // A queue that goes gives its slots back to the others.
    {
        StagedPackets gone(*pool);
        a.clear();
        REQUIRE(gone.push(packet(40, 7)) == Push::stored);
        CHECK(pool->free_slots() == 128 - b.size() - 2);
    }
    CHECK(pool->free_slots() == 128 - b.size() - 1);
    CHECK(c.push(packet(30, 2)) == Push::stored);
    CHECK(c.size() == 2);
}

TEST_CASE("staged: a pool with no slots at all drops the packet") {
    StagedPool pool(100);  // reserve_for never called
    StagedPackets s(pool);
    CHECK(s.push(packet(10, 1)) == Push::dropped);
    CHECK(s.empty());
}

TEST_CASE("staged: a keepalive request is a flag: no slot, first out, one at a time") {
    auto pool = pool_for(100, 1);
    StagedPackets s(*pool);
    CHECK(s.push({}) == Push::stored);
    CHECK(s.push({}) == Push::stored);  // a second one while it waits: still one
    CHECK(s.size() == 1);
    CHECK(pool->free_slots() == pool->slots());
    REQUIRE(s.push(packet(10, 1)) == Push::stored);
    CHECK(s.size() == 2);
    CHECK(s.front().empty());  // the keepalive first
    s.pop();
    CHECK(front_is(s, packet(10, 1)));
    s.pop();
    CHECK(s.empty());
    // It finds room when every slot is taken, and clear() counts it.
    StagedPackets other(*pool);
    for (int i = 0; i < 128; ++i)
        REQUIRE(other.push(packet(10, static_cast<std::uint8_t>(i))) == Push::stored);
    CHECK(pool->free_slots() == 0);
    CHECK(s.push({}) == Push::stored);
    CHECK(other.size() == 128);
    CHECK(s.clear() == 1);
    CHECK(s.empty());
}

TEST_CASE("staged: a flooding peer cannot starve another, and the largest holder pays") {
    auto pool = pool_for(100, 2);  // 256 slots
    StagedPackets flood_a(*pool), flood_b(*pool), quiet(*pool);
    for (int i = 0; i < 128; ++i) {
        REQUIRE(flood_a.push(packet(10, static_cast<std::uint8_t>(i))) == Push::stored);
        REQUIRE(flood_b.push(packet(10, static_cast<std::uint8_t>(i))) == Push::stored);
    }
    CHECK(pool->free_slots() == 0);
    // Full flooders pushing more give up their own oldest (their 128).
    CHECK(flood_a.push(packet(10, 200)) == Push::stored_dropping_oldest);
    CHECK(flood_a.size() == 128);
    // The quiet peer takes slots from whichever holds the most, never from itself.
    for (int i = 0; i < 10; ++i)
        CHECK(quiet.push(packet(50, static_cast<std::uint8_t>(i))) == Push::stored_pool_empty);
    CHECK(quiet.size() == 10);
    CHECK(flood_a.size() + flood_b.size() == 246);
    CHECK(flood_a.size() >= 123);
    CHECK(flood_b.size() >= 123);
    for (int i = 0; i < 10; ++i) {
        CHECK(front_is(quiet, packet(50, static_cast<std::uint8_t>(i))));
        quiet.pop();
    }
    // The flooders' queues still come out in order, their oldest gone.
    std::uint8_t expect = static_cast<std::uint8_t>(128 - flood_b.size());
    while (!flood_b.empty()) {
        CHECK(front_is(flood_b, packet(10, expect++)));
        flood_b.pop();
    }
}
