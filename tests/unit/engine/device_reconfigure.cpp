// Device pair: live reconfiguration (reconfigure.cpp) while sessions exist — what keeps the
// sessions (a psk, endpoint or keepalive change, allowed IPs) and what does not (a new private
// key, removal), and that the routing table and the index table follow.
#include <doctest/doctest.h>

#include <map>

#include "crypto/x25519.hpp"
#include "tests/unit/engine/device_harness.hpp"

using namespace ringtun;
using namespace ringtun::test;

namespace {

std::uint32_t current_index(daemon::Peer& p) {
    REQUIRE(p.current);
    return p.current->local_index();
}

}  // namespace

TEST_CASE("reconfigure: psk, endpoint and keepalive changes keep the session and counters") {
    DevicePair p;
    p.establish();
    const std::uint32_t index = current_index(*p.a.peer);
    const std::uint64_t rx = p.a.peer->rx_bytes;
    crypto::SymmetricKey psk;
    psk.data()[0] = 7;
    p.a.dev().set_preshared_key(*p.a.peer, psk);
    p.a.dev().set_endpoint(*p.a.peer, p.b.addr);
    p.clear_records();
    p.a.dev().set_persistent_keepalive(*p.a.peer, 25, p.now);
    CHECK(p.a.tx.log.empty());  // it is due now: it goes out from the timers
    p.a.dev().on_timers(p.now);
    CHECK(count_keepalives(p.a.tx.log) == 1);  // turned on: one at once
    CHECK(current_index(*p.a.peer) == index);
    CHECK(p.a.peer->rx_bytes == rx);  // counters kept
    CHECK(p.send_tun(p.a, a_to_b(1)));
    p.deliver_all();
    CHECK(p.b.tun.size() == 1);
}

TEST_CASE("reconfigure: removing a peer takes its sessions, prefixes and index entries") {
    DevicePair p;
    p.establish();
    p.a.dev().remove_peer(*p.a.peer);
    p.a.peer = nullptr;
    CHECK(p.a.dev().peers().empty());
    // A's packets to B now have no route; B's data to A finds no session.
    CHECK_FALSE(p.send_tun(p.a, a_to_b(1)));
    CHECK(p.a.drops(Drop::no_route) == 1);
    CHECK(p.send_tun(p.b, b_to_a(2)));
    p.deliver_all();
    CHECK(p.a.tun.empty());
    CHECK(p.a.drops(Drop::unknown_index) >= 1);
}

TEST_CASE("reconfigure: removing one of several peers keeps the others working") {
    DevicePair p;
    // Two extra peers after B on A; removing the first moves the second into its place.
    TestRng r(99);
    const auto k1 = crypto::derive_public_key(crypto::generate_private_key(r));
    const auto k2 = crypto::derive_public_key(crypto::generate_private_key(r));
    daemon::Peer* x = p.a.dev().add_peer(k1, {}, 0, std::nullopt);
    REQUIRE(x);
    REQUIRE(p.a.dev().add_peer(k2, {}, 0, std::nullopt));
    p.establish();
    p.a.dev().remove_peer(*x);
    REQUIRE(p.a.dev().peers().size() == 2);
    p.a.peer = p.a.dev().find_peer(p.b.dev().identity().public_key);
    REQUIRE(p.a.peer);
    CHECK(p.send_tun(p.a, a_to_b(1)));
    p.deliver_all();
    CHECK(p.b.tun.size() == 1);
    // Past REKEY_AFTER_TIME the next send rekeys, and the tunnel carries on (the moved peer's
    // timers are the next test's).
    p.advance(seconds_ns(125));
    p.deliver_all();
    CHECK(p.send_tun(p.a, a_to_b(2)));
    p.deliver_all();
    CHECK(p.b.tun.size() == 2);
}

TEST_CASE("reconfigure: a peer whose index moves on a removal keeps its pending timers") {
    DevicePair p;
    TestRng r(21);
    daemon::Peer* x = p.a.dev().add_peer(crypto::derive_public_key(crypto::generate_private_key(r)),
                                         {}, 0, std::nullopt);
    REQUIRE(x);
    // Put B last among A's peers: remove it and add it back after x.
    p.a.dev().remove_peer(*p.a.peer);
    p.a.peer = p.a.dev().add_peer(p.b.dev().identity().public_key, {}, 0, p.b.addr);
    REQUIRE(p.a.peer);
    std::uint8_t b4[4] = {10, 100, 0, 2};
    REQUIRE(p.a.dev().add_allowed_ip(*p.a.peer, AF_INET, b4, 32));
    p.establish();
    REQUIRE(p.a.peer->id == 1);
    // Data that B never answers arms A's new-handshake timer (15 s + jitter) ...
    p.b.absent = true;
    CHECK(p.send_tun(p.a, a_to_b(1)));
    p.deliver_all();
    p.clear_records();
    // ... then the removal moves B from index 1 to 0, with that deadline pending.
    p.a.dev().remove_peer(*x);
    REQUIRE(p.a.peer->id == 0);
    p.advance(seconds_ns(20));
    CHECK(count_type(p.a.tx.log, 1) >= 1);  // the timer fired: a new initiation
}

TEST_CASE("reconfigure: allowed IPs move, clear and are removed only by their holder") {
    DevicePair p;
    p.establish();
    std::uint8_t v4[4] = {10, 100, 0, 2};
    std::uint8_t other[4] = {10, 100, 0, 9};
    CHECK_FALSE(p.a.dev().remove_allowed_ip(*p.a.peer, AF_INET, other, 32));  // nobody's
    // Held by another peer: B's request cannot take it away.
    TestRng r(11);
    daemon::Peer* x = p.a.dev().add_peer(crypto::derive_public_key(crypto::generate_private_key(r)),
                                         {}, 0, std::nullopt);
    REQUIRE(x);
    REQUIRE(p.a.dev().add_allowed_ip(*x, AF_INET, other, 32));
    CHECK_FALSE(p.a.dev().remove_allowed_ip(*p.a.peer, AF_INET, other, 32));
    std::size_t held = 0;
    p.a.dev().for_each_allowed_ip(*x, [&](int, const std::uint8_t*, std::uint8_t) { ++held; });
    CHECK(held == 1);
    CHECK(p.a.dev().remove_allowed_ip(*p.a.peer, AF_INET, v4, 32));
    CHECK_FALSE(p.send_tun(p.a, a_to_b(1)));
    CHECK(p.a.dev().add_allowed_ip(*p.a.peer, AF_INET, v4, 24));
    CHECK(p.send_tun(p.a, a_to_b(2)));
    std::size_t n = 0;
    p.a.dev().for_each_allowed_ip(*p.a.peer, [&](int, const std::uint8_t*, std::uint8_t) { ++n; });
    CHECK(n == 2);  // 10.100.0.0/24 and fd00::2/128
    CHECK(p.a.dev().clear_allowed_ips(*p.a.peer) == 2);
    CHECK_FALSE(p.send_tun(p.a, a_to_b(3)));
}

TEST_CASE("reconfigure: a new private key resets sessions; a handshake under it works") {
    DevicePair p;
    p.establish();
    TestRng r(5);
    const crypto::PrivateKey fresh = crypto::generate_private_key(r);
    p.a.dev().set_private_key(fresh);
    CHECK_FALSE(p.a.peer->current);
    // B still knows A's old public key: it must be told the new one to talk again.
    p.b.dev().remove_peer(*p.b.peer);
    p.b.peer = p.b.dev().add_peer(p.a.dev().identity().public_key, {}, 0, p.a.addr);
    REQUIRE(p.b.peer);
    std::uint8_t a4[4] = {10, 100, 0, 1};
    REQUIRE(p.b.dev().add_allowed_ip(*p.b.peer, AF_INET, a4, 32));
    p.establish();
    CHECK(p.send_tun(p.a, a_to_b(7)));
    p.deliver_all();
    CHECK_FALSE(p.b.tun.empty());
}

TEST_CASE("reconfigure: a new private key equal to a peer's removes that peer") {
    DevicePair p;
    p.a.dev().set_private_key(p.b.key);
    CHECK(p.a.dev().peers().empty());
}

TEST_CASE("reconfigure: without a private key (wg's all zero) no handshake is sent or answered") {
    DevicePair p;
    p.a.dev().set_private_key(
        crypto::PrivateKey{});  // as `ringtun IFNAME` starts, until wg sets one
    p.clear_records();
    p.send_tun(p.a, a_to_b(1));  // staged: no initiation leaves
    CHECK(count_type(p.a.tx.log, 1) == 0);
    // B's initiation to A is refused, not answered under a key anyone can compute.
    p.send_tun(p.b, b_to_a(2));
    p.deliver_all();
    CHECK(p.a.drops(Drop::no_private_key) >= 1);
    CHECK(count_type(p.a.tx.log, 2) == 0);
    CHECK_FALSE(p.b.peer->current);
}

TEST_CASE("reconfigure: after removing a middle peer and adding one, each peer's timers fire") {
    // A's peers: B (0), then x0, x1, x2 with persistent keepalives towards endpoints nobody
    // answers, so each retries its initiation every 5 s. Removing x1 moves x2 into its id and
    // leaves the heap's entries under x2's old id, which the new x3 then takes.
    DevicePair p;  // retries 5 s apart plus up to 333 ms of jitter
    TestRng r(31);
    std::vector<daemon::Peer*> x;
    for (int i = 0; i < 3; ++i) {
        const auto key = crypto::derive_public_key(crypto::generate_private_key(r));
        x.push_back(p.a.dev().add_peer(key, {}, 25, endpoint4("10.98.0.1", 100 + i)));
        REQUIRE(x.back());
    }
    p.a.start(p.now);
    CHECK(count_type(p.a.tx.log, 1) == 3);
    p.a.tx.queue.clear();
    p.a.tx.log.clear();
    p.advance(seconds_ns(1));
    p.a.dev().remove_peer(*x[1]);
    REQUIRE(x[2]->id == 2);
    const auto k3 = crypto::derive_public_key(crypto::generate_private_key(r));
    daemon::Peer* x3 = p.a.dev().add_peer(k3, {}, 0, endpoint4("10.98.0.1", 103));
    REQUIRE(x3);
    REQUIRE(x3->id == 3);
    p.advance(seconds_ns(11));  // two retries of x0's and x2's; x1 is gone, x3 idle
    std::map<std::uint16_t, int> by_port;
    for (const Datagram& d : p.a.tx.log)
        if (d.type() == 1) ++by_port[ntohs(d.to.addr.in4.sin_port)];
    CHECK(by_port[100] == 2);
    CHECK(by_port[101] == 0);
    CHECK(by_port[102] == 2);
    CHECK(by_port[103] == 0);
    // x3's own timers work under the id it took: a keepalive turned on starts a handshake,
    // retried 5 s on.
    p.a.tx.log.clear();
    p.a.dev().set_persistent_keepalive(*x3, 25, p.now);
    p.advance(seconds_ns(6));
    int x3_sent = 0;
    for (const Datagram& d : p.a.tx.log)
        if (d.type() == 1 && ntohs(d.to.addr.in4.sin_port) == 103) ++x3_sent;
    CHECK(x3_sent == 2);
}

TEST_CASE("reconfigure: a keepalive interval set to 0 sends no keepalive at the old deadline") {
    // The kernel's persistent-keepalive timer checks the interval when it fires: `wg set ...
    // persistent-keepalive 0` stops them at once, not after one more.
    DevicePair p(PairOptions().a_keeps_alive(25));
    p.start_keepalive_session();
    p.a.dev().set_persistent_keepalive(*p.a.peer, 0, p.now);
    p.advance(seconds_ns(30));
    CHECK(count_keepalives(p.a.tx.log) == 0);
    CHECK(p.a.counters().keepalives_sent == 1);  // the one that confirmed the session
}

TEST_CASE("reconfigure: a keepalive at once only when turned on, to the endpoint set after it") {
    // As the kernel (netlink.c) and wireguard-go: a changed interval sends nothing at once.
    DevicePair p(PairOptions().a_keeps_alive(25));
    p.start_keepalive_session();
    p.a.dev().set_persistent_keepalive(*p.a.peer, 30, p.now);
    p.a.dev().on_timers(p.now);
    CHECK(p.a.tx.log.empty());

    // A request may give the interval before the endpoint: the keepalive due at once goes to
    // the endpoint set after it, here starting the handshake.
    DevicePair q(PairOptions().a_unaware_of_b());
    q.a.dev().set_persistent_keepalive(*q.a.peer, 25, q.now);
    q.a.dev().set_endpoint(*q.a.peer, q.b.addr);
    q.a.dev().on_timers(q.now);
    CHECK(count_type(q.a.tx.log, 1) == 1);
}
