// Device pair: roaming (the endpoint follows authenticated packets only) and the inner-source
// check on received data.
#include <doctest/doctest.h>

#include "crypto/cookie.hpp"
#include "crypto/noise.hpp"
#include "tests/unit/engine/device_harness.hpp"

using namespace ringtun;
using namespace ringtun::test;

namespace {

// A fresh initiation from B to A made outside B's device: valid, with a new timestamp, as
// only the holder of B's private key can make.
Bytes initiation_from_b(DevicePair& p, std::uint32_t index) {
    crypto::Identity b_id = crypto::Identity::create(p.b.key);
    const crypto::PublicKey a_pub = p.a.dev().identity().public_key;
    crypto::Handshake hs(b_id, a_pub, crypto::SymmetricKey{});
    crypto::CookieMaker maker(a_pub);
    crypto::MessageInitiation m;
    TestRng rng(index);
    REQUIRE(hs.create_initiation(m, crypto::generate_private_key(rng), index,
                                 crypto::tai64n_from_unix_ns(p.now.unix_ns)) ==
            crypto::Reject::none);
    maker.add_macs(crypto::message_bytes(m), p.now.boot);
    const auto bytes = crypto::message_bytes(m);
    return {bytes.begin(), bytes.end()};
}

}  // namespace

TEST_CASE("roaming: authenticated data from a new address moves the peer's endpoint") {
    DevicePair p;
    p.establish();
    p.advance(seconds_ns(11));
    p.b.addr = endpoint4("10.99.0.22", 40000);  // B's NAT mapping changed

    // Until B is heard from, A's packets go to the old address and are lost.
    CHECK(p.send_tun(p.a, a_to_b(1)));
    p.deliver_all();
    CHECK(p.b.tun.empty());
    REQUIRE(p.a.lost.size() == 1);

    CHECK(p.send_tun(p.b, b_to_a(2)));
    p.deliver_all();
    REQUIRE(p.a.tun.size() == 1);
    CHECK(p.a.peer->endpoint->same_address(p.b.addr));

    p.clear_records();
    CHECK(p.send_tun(p.a, a_to_b(3)));
    CHECK(p.a.tx.log.back().to.same_address(p.b.addr));
    p.deliver_all();
    REQUIRE(p.b.tun.size() == 1);
    CHECK(packet_id(p.b.tun[0]) == 3);
    CHECK(p.a.lost.empty());
}

TEST_CASE("roaming: the response's source address becomes the initiator's endpoint") {
    DevicePair p;
    p.send_tun(p.a, a_to_b(1));
    p.deliver_one(p.a);                        // initiation → B at its configured address
    p.b.addr = endpoint4("10.99.0.2", 51999);  // B answers through a different port
    p.deliver_all();
    CHECK(p.a.peer->endpoint->same_address(p.b.addr));
    REQUIRE(p.b.tun.size() == 1);
    CHECK(p.a.lost.empty());
}

TEST_CASE("roaming: an authenticated initiation from a new address moves the endpoint") {
    DevicePair p;
    p.establish();
    const Endpoint moved = endpoint4("10.99.0.23", 41000);
    CHECK_FALSE(p.inject(p.a, initiation_from_b(p, 77), moved));
    CHECK(p.a.total_drops() == 0);
    CHECK(p.a.peer->endpoint->same_address(moved));
    REQUIRE_FALSE(p.a.tx.queue.empty());
    CHECK(p.a.tx.queue.back().type() == 2);
    CHECK(p.a.tx.queue.back().to.same_address(moved));
}

TEST_CASE("roaming: nothing unauthenticated moves the endpoint") {
    DevicePair p;
    p.send_tun(p.a, a_to_b(1));
    REQUIRE(p.a.tx.queue.size() == 1);
    const Bytes first_initiation = p.a.tx.queue.front().bytes;
    p.deliver_all();
    REQUIRE(p.b.tun.size() == 1);
    const Datagram delivered = p.seal_now(p.b, b_to_a(2));
    REQUIRE(p.inject(p.a, delivered.bytes, p.b.addr));

    // A cookie reply B could have sent for A's initiation: it decrypts, but says nothing
    // about where B is.
    const crypto::Identity b_id = crypto::Identity::create(p.b.key);
    crypto::CookieChecker checker(b_id);
    crypto::MessageCookieReply reply;
    std::uint8_t src[18];
    const std::size_t src_len = p.a.addr.source_bytes(src);
    TestRng cookie_rng(5);
    checker.create_reply(reply, first_initiation, {src, src_len}, p.now.boot, cookie_rng);
    const auto reply_span = crypto::message_bytes(reply);
    const Bytes cookie_reply(reply_span.begin(), reply_span.end());

    const Endpoint attacker = endpoint4("10.99.0.66", 666);
    auto unchanged = [&] { CHECK(p.a.peer->endpoint->same_address(p.b.addr)); };

    TestRng junk(99);
    Bytes garbage(100);
    junk.fill(garbage);
    garbage[1] = 0xee;
    CHECK_FALSE(p.inject(p.a, garbage, attacker));
    unchanged();

    Bytes bad_mac1 = initiation_from_b(p, 78);
    bad_mac1[offsetof(crypto::MessageInitiation, macs)] ^= 1;
    CHECK_FALSE(p.inject(p.a, bad_mac1, attacker));
    CHECK(p.a.drops(Drop::invalid_mac1) == 1);
    unchanged();

    // A valid cookie reply (for A's last initiation) relayed from elsewhere.
    const auto drops_before = p.a.total_drops();
    CHECK_FALSE(p.inject(p.a, cookie_reply, attacker));
    CHECK(p.a.total_drops() == drops_before);
    CHECK(p.a.peer->cookies.has_fresh_cookie(p.now.boot));
    unchanged();

    Bytes bad_tag = p.seal_now(p.b, b_to_a(3)).bytes;
    bad_tag.back() ^= 0x80;
    CHECK_FALSE(p.inject(p.a, bad_tag, attacker));
    CHECK(p.a.drops(Drop::decrypt_failed) == 1);
    unchanged();

    // Replays of genuine messages authenticate nothing new.
    CHECK_FALSE(p.inject(p.a, delivered.bytes, attacker));
    CHECK(p.a.drops(Drop::replayed_counter) == 1);
    unchanged();
    CHECK_FALSE(p.inject(p.b, first_initiation, attacker));
    CHECK(p.b.drops(Drop::replayed_timestamp) == 1);
    CHECK(p.b.peer->endpoint->same_address(p.a.addr));

    CHECK(p.a.tun.size() == 1);
    CHECK(p.send_tun(p.a, a_to_b(4)));
    CHECK(p.a.tx.log.back().to.same_address(p.b.addr));
}

TEST_CASE("source check: inner source outside the peer's allowed IPs is dropped") {
    DevicePair p;
    // A third peer at A owns 10.100.0.3: B may not send as it either.
    TestRng key_rng(1234);
    const crypto::PublicKey third =
        crypto::derive_public_key(crypto::generate_private_key(key_rng));
    daemon::Peer* c = p.a.dev().add_peer(third, crypto::SymmetricKey{}, 0, std::nullopt);
    REQUIRE(c);
    std::uint8_t c_addr[4] = {10, 100, 0, 3};
    REQUIRE(p.a.dev().add_allowed_ip(*c, AF_INET, c_addr, 32));
    p.establish();

    CHECK(p.send_tun(p.b, ipv4("10.100.0.99", "10.100.0.1", 1)));
    CHECK(p.send_tun(p.b, ipv6("fd00::99", "fd00::1", 2)));
    CHECK(p.send_tun(p.b, ipv4("10.100.0.3", "10.100.0.1", 3)));
    p.deliver_all();
    CHECK(p.a.tun.empty());
    CHECK(p.a.drops(Drop::source_mismatch) == 3);
    CHECK(p.a.counters().tun_tx_packets == 0);

    // B's own addresses pass.
    CHECK(p.send_tun(p.b, ipv4("10.100.0.2", "10.100.0.1", 4)));
    CHECK(p.send_tun(p.b, ipv6("fd00::2", "fd00::1", 5)));
    p.deliver_all();
    REQUIRE(p.a.tun.size() == 2);
    CHECK(packet_id(p.a.tun[0]) == 4);
    CHECK(packet_id(p.a.tun[1]) == 5);
    CHECK(p.a.total_drops() == 3);
}

TEST_CASE("device: a vanished sticky source is forgotten until the peer is heard from again") {
    DevicePair p;
    p.establish();
    // B's view of A carries the local address A's packets arrived at.
    Endpoint from_a = p.a.addr;
    from_a.has_local = true;
    inet_pton(AF_INET6, "::ffff:10.99.0.2", &from_a.local);
    REQUIRE(p.send_tun(p.a, a_to_b(1)));
    Datagram d = p.a.tx.queue.back();
    p.a.tx.queue.pop_back();
    p.inject(p.b, d.bytes, from_a);
    REQUIRE(p.b.peer->endpoint->has_local);

    // The backend's send from that source failed: B forgets it and sends without one.
    p.b.dev().on_source_unusable(*p.b.peer->endpoint);
    CHECK_FALSE(p.b.peer->endpoint->has_local);
    CHECK(p.b.peer->endpoint->same_address(p.a.addr));
    REQUIRE(p.send_tun(p.b, b_to_a(2)));
    CHECK_FALSE(p.b.tx.queue.back().to.has_local);

    // An endpoint with another source is left alone.
    Endpoint other = from_a;
    inet_pton(AF_INET6, "::ffff:10.99.0.9", &other.local);
    p.inject(p.b, p.seal_now(p.a, a_to_b(3)).bytes, from_a);
    REQUIRE(p.b.peer->endpoint->has_local);
    p.b.dev().on_source_unusable(other);
    CHECK(p.b.peer->endpoint->has_local);
}
