// Many peers of one device sharing its StagedPool (staged.hpp): peers waiting for a handshake
// that never comes, with a persistent keepalive or with traffic, must not cost a live peer the
// packets it stages while its own handshake runs.
#include <doctest/doctest.h>

#include "tests/unit/engine/device_harness.hpp"

using namespace ringtun;
using namespace ringtun::test;

namespace {

// Adds `n` peers to s's device, keys from `rng`, their endpoint one nobody listens on, peer i
// routed 10.200.(i / 256).(i % 256)/32.
std::vector<daemon::Peer*> add_unreachable(Side& s, std::size_t n, std::uint16_t keepalive) {
    TestRng rng(0xdead);
    std::vector<daemon::Peer*> peers;
    for (std::size_t i = 0; i < n; ++i) {
        crypto::PublicKey key;
        rng.fill(key.bytes);
        daemon::Peer* peer =
            s.dev().add_peer(key, crypto::SymmetricKey{}, keepalive, endpoint4("10.98.0.1", 9));
        REQUIRE(peer);
        const std::uint8_t addr[4] = {10, 200, static_cast<std::uint8_t>(i / 256),
                                      static_cast<std::uint8_t>(i % 256)};
        REQUIRE(s.dev().add_allowed_ip(*peer, AF_INET, addr, 32));
        peers.push_back(peer);
    }
    return peers;
}

Bytes to_unreachable(std::size_t i, std::uint32_t id) {
    const std::string dst = "10.200." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    return ipv4("10.100.0.1", dst.c_str(), id);
}

// Sends A→B packets 0..n-1 while A has no session, completes the handshake, and checks that B
// got every one of them, in order.
void staged_packets_arrive(DevicePair& p, std::uint32_t n) {
    for (std::uint32_t id = 0; id < n; ++id)
        CHECK_FALSE(p.send_tun(p.a, a_to_b(id)));
    CHECK(p.a.peer->staged.size() == n);
    p.deliver_all();
    REQUIRE(p.a.peer->current.has_value());
    REQUIRE(p.b.tun.size() == n);
    for (std::uint32_t id = 0; id < n; ++id)
        CHECK(packet_id(p.b.tun[id]) == id);
}

}  // namespace

TEST_CASE("staged pool: 4,096 peers keeping alive towards nobody leave room for a live peer") {
    DevicePair p;
    add_unreachable(p.a, daemon::StagedPool::max_slots, 25);
    p.a.start(p.now);  // each of them: an initiation, and a keepalive waiting for it
    CHECK(count_type(p.a.tx.log, 1) == daemon::StagedPool::max_slots);
    p.a.tx.queue.clear();  // lost anyway
    staged_packets_arrive(p, 3);
    CHECK(p.a.total_drops() == 0);
}

TEST_CASE("staged pool: unreachable peers flooding it cannot starve another peer") {
    DevicePair p;
    constexpr std::size_t flooders = 40;  // 40 × 128 packets: more than the pool's 4,096 slots
    add_unreachable(p.a, flooders, 0);
    for (std::uint32_t round = 0; round < daemon::StagedPackets::capacity; ++round)
        for (std::size_t i = 0; i < flooders; ++i)
            CHECK_FALSE(p.send_tun(p.a, to_unreachable(i, round)));
    p.a.tx.queue.clear();
    staged_packets_arrive(p, 3);
    // Each packet past the pool's 4,096 cost the oldest of a peer holding the most, B's three
    // included: the pool's reason, not the per-peer limit's (no peer reached its 128).
    CHECK(p.a.drops(Drop::staged_pool_empty) == flooders * 128 - daemon::StagedPool::max_slots + 3);
    CHECK(p.a.drops(Drop::staged_overflow) == 0);
}

TEST_CASE("staged pool: a keepalive finding the pool empty waits for its handshake, no drop") {
    DevicePair p;
    constexpr std::size_t flooders = 40;
    add_unreachable(p.a, flooders, 0);
    for (std::uint32_t round = 0; round < daemon::StagedPackets::capacity; ++round)
        for (std::size_t i = 0; i < flooders; ++i)
            CHECK_FALSE(p.send_tun(p.a, to_unreachable(i, round)));
    p.a.tx.queue.clear();
    const std::uint64_t drops = p.a.total_drops();
    const std::size_t initiations = count_type(p.a.tx.log, 1);
    p.a.dev().set_persistent_keepalive(*p.a.peer, 25, p.now);  // a keepalive due at once
    p.a.dev().on_timers(p.now);
    CHECK(count_type(p.a.tx.log, 1) == initiations + 1);
    CHECK(p.a.total_drops() == drops);
    p.deliver_all();
    CHECK(p.b.peer->current.has_value());  // confirmed by the keepalive
    CHECK(p.a.counters().keepalives_sent == 1);
    CHECK(p.a.total_drops() == drops);
}
