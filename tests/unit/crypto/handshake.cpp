// Two protocol cores in one process: full handshakes in both roles, with and without a
// preshared key, data both ways, rekeys, cookies, and the precise outcome of each bad input.
#include <doctest/doctest.h>

#include "tests/unit/crypto/peers.hpp"

using namespace ringtun::crypto;
using namespace ringtun::test;

namespace {

SymmetricKey some_psk() {
    SymmetricKey k;
    SystemRng().fill(k.span());
    return k;
}

void exchange_data(Session& from, Session& to) {
    for (std::size_t len : {20u, 21u, 100u, 1419u, 1420u}) {
        CAPTURE(len);
        auto packet = ipv4_packet(len, static_cast<std::uint8_t>(len));
        auto msg = seal(from, packet);
        CHECK(msg.size() == data_overhead + padded_length(len, 1420));
        OpenResult r = open_data(to, msg);
        REQUIRE(r.reject == Reject::none);
        CHECK(std::vector<std::uint8_t>(r.packet.begin(), r.packet.end()) == packet);
    }
    auto keepalive = seal(from, {});
    CHECK(keepalive.size() == keepalive_len);
    OpenResult r = open_data(to, keepalive);
    CHECK(r.reject == Reject::none);
    CHECK(r.packet.empty());
}

}  // namespace

TEST_CASE("handshake and data in both roles, with and without a preshared key") {
    for (bool with_psk : {false, true}) {
        CAPTURE(with_psk);
        PeerPair p(with_psk ? some_psk() : SymmetricKey{});
        auto ab = p.handshake(p.a, p.b);
        exchange_data(ab.initiator, ab.responder);
        exchange_data(ab.responder, ab.initiator);
        p.advance(seconds_ns(1));
        auto ba = p.handshake(p.b, p.a);
        exchange_data(ba.initiator, ba.responder);
        exchange_data(ba.responder, ba.initiator);
    }
}

TEST_CASE("a rekey yields fresh keys and indices; the old session cannot open new data") {
    PeerPair p;
    auto first = p.handshake(p.a, p.b);
    p.advance(seconds_ns(120));
    auto second = p.handshake(p.a, p.b);
    CHECK(first.initiator.local_index() != second.initiator.local_index());
    auto msg = seal(second.initiator, ipv4_packet(60, 7));
    auto copy = msg;  // opening works in place
    CHECK(open_data(first.responder, copy).reject == Reject::decrypt_failed);
    CHECK(open_data(second.responder, msg).reject == Reject::none);
}

TEST_CASE("mismatched preshared keys fail at the response") {
    SystemRng rng;
    PeerPair p;
    p.b.handshake.set_preshared_key(some_psk());
    MessageInitiation m1 = p.initiation(p.a);
    REQUIRE(p.receive_initiation(p.b, m1) == Reject::none);
    MessageResponse m2 = p.response(p.b);
    CHECK(p.receive_response(p.a, m2) == Reject::decrypt_failed);
    CHECK(p.a.handshake.state() == HandshakeState::created_initiation);
}

TEST_CASE("mac1: wrong mac, or a body changed under a right mac, is refused") {
    PeerPair p;
    MessageInitiation m = p.initiation(p.a);
    MessageInitiation bad_mac = m;
    bad_mac.macs.mac1[3] ^= 1;
    CHECK(p.receive_initiation(p.b, bad_mac) == Reject::invalid_mac1);
    MessageInitiation bad_body = m;
    bad_body.sender ^= 1;
    CHECK(p.receive_initiation(p.b, bad_body) == Reject::invalid_mac1);
    // A message for someone else (mac1 keyed by another public key).
    SystemRng rng;
    CookieMaker other(derive_public_key(generate_private_key(rng)));
    MessageInitiation elsewhere = m;
    other.add_macs(message_bytes(elsewhere), p.now);
    CHECK(p.receive_initiation(p.b, elsewhere) == Reject::invalid_mac1);
    CHECK(p.receive_initiation(p.b, m) == Reject::none);
}

TEST_CASE("tampered static or timestamp: refused, and no state changes") {
    PeerPair p;
    MessageInitiation m = p.initiation(p.a);
    MessageInitiation bad_static = m;
    bad_static.encrypted_static[10] ^= 1;
    InitiationStage stage;
    CHECK(open_initiation(p.b.identity, bad_static, stage) == Reject::decrypt_failed);

    MessageInitiation bad_time = m;
    bad_time.encrypted_timestamp[2] ^= 1;
    REQUIRE(open_initiation(p.b.identity, bad_time, stage) == Reject::none);
    CHECK(p.b.handshake.consume_initiation(stage, p.now) == Reject::decrypt_failed);
    CHECK(p.b.handshake.state() == HandshakeState::zeroed);
    // The genuine message is still accepted: nothing was recorded from the forgeries.
    CHECK(p.receive_initiation(p.b, m) == Reject::none);
    CHECK(p.b.handshake.state() == HandshakeState::consumed_initiation);
}

TEST_CASE("tampered empty field of the response: refused, state kept") {
    PeerPair p;
    REQUIRE(p.receive_initiation(p.b, p.initiation(p.a)) == Reject::none);
    MessageResponse m2 = p.response(p.b);
    MessageResponse bad = m2;
    bad.encrypted_nothing[0] ^= 1;
    CHECK(p.a.handshake.consume_response(bad) == Reject::decrypt_failed);
    CHECK(p.a.handshake.state() == HandshakeState::created_initiation);
    CHECK(p.receive_response(p.a, m2) == Reject::none);
    // A second copy of the response is not expected any more.
    CHECK(p.receive_response(p.a, m2) == Reject::unexpected_message);
}

TEST_CASE("a response to an unknown receiver index is unexpected") {
    PeerPair p;
    REQUIRE(p.receive_initiation(p.b, p.initiation(p.a)) == Reject::none);
    MessageResponse m2 = p.response(p.b);
    m2.receiver ^= 0x5a5a;
    p.b.maker.add_macs(message_bytes(m2), p.now);
    CHECK(p.receive_response(p.a, m2) == Reject::unexpected_message);
    // And a response when no initiation is outstanding.
    PeerPair q;
    REQUIRE(q.receive_initiation(q.b, q.initiation(q.a)) == Reject::none);
    MessageResponse r = q.response(q.b);
    q.a.handshake.clear();
    CHECK(q.receive_response(q.a, r) == Reject::unexpected_message);
}

TEST_CASE("a replayed initiation (same or older timestamp) is refused") {
    PeerPair p;
    MessageInitiation old_msg = p.initiation(p.a);
    p.advance(seconds_ns(1));
    MessageInitiation newer = p.initiation(p.a);
    REQUIRE(p.receive_initiation(p.b, newer) == Reject::none);
    p.advance(seconds_ns(1));
    CHECK(p.receive_initiation(p.b, newer) == Reject::replayed_timestamp);
    CHECK(p.receive_initiation(p.b, old_msg) == Reject::replayed_timestamp);
}

TEST_CASE("a second initiation within 20 ms is a flood; after 20 ms it is accepted") {
    PeerPair p;
    REQUIRE(p.receive_initiation(p.b, p.initiation(p.a)) == Reject::none);
    p.wall_ns += seconds_ns(1);  // newer timestamp, but only 10 ms of monotonic time
    p.now += millis_ns(10);
    MessageInitiation quick = p.initiation(p.a);
    CHECK(p.receive_initiation(p.b, quick) == Reject::initiation_flood);
    p.now += millis_ns(15);
    CHECK(p.receive_initiation(p.b, quick) == Reject::none);
}

TEST_CASE("all-zero and low-order public keys are refused") {
    SystemRng rng;
    Identity me = Identity::create(generate_private_key(rng));
    Handshake to_zero(me, PublicKey{}, SymmetricKey{});
    CHECK_FALSE(to_zero.usable());
    MessageInitiation m;
    CHECK(to_zero.create_initiation(m, generate_private_key(rng), 1, tai64n_from_unix_ns(1)) ==
          Reject::invalid_public_key);
    // An initiation whose ephemeral key is zero fails at the first DH.
    PeerPair p;
    MessageInitiation bad = p.initiation(p.a);
    std::memset(bad.ephemeral, 0, sizeof bad.ephemeral);
    InitiationStage stage;
    CHECK(open_initiation(p.b.identity, bad, stage) == Reject::invalid_public_key);
}

TEST_CASE("an initiation from a key we do not know is unknown_peer") {
    PeerPair p;
    SystemRng rng;
    PrivateKey stranger_priv = generate_private_key(rng);
    Endpoint stranger(stranger_priv, p.b.identity.public_key, SymmetricKey{});
    MessageInitiation m = p.initiation(stranger);
    CHECK(p.receive_initiation(p.b, m) == Reject::unknown_peer);
    InitiationStage stage;
    REQUIRE(open_initiation(p.b.identity, m, stage) == Reject::none);
    CHECK(p.b.handshake.consume_initiation(stage, p.now) == Reject::unknown_peer);
}

TEST_CASE("data: tampered ciphertext, replays, counters behind the window, counter limit") {
    PeerPair p;
    auto s = p.handshake(p.a, p.b);
    auto packet = ipv4_packet(100, 1);

    auto msg = seal(s.initiator, packet);  // counter 0
    auto tampered = msg;
    tampered[40] ^= 1;
    CHECK(open_data(s.responder, tampered).reject == Reject::decrypt_failed);
    auto copy = msg;                                             // opening decrypts in place
    CHECK(open_data(s.responder, copy).reject == Reject::none);  // window not moved by forgery
    copy = msg;
    CHECK(open_data(s.responder, copy).reject == Reject::replayed_counter);

    s.initiator.set_send_counter(ReplayWindow::window_size + 100);
    auto ahead = seal(s.initiator, packet);
    CHECK(open_data(s.responder, ahead).reject == Reject::none);
    s.initiator.set_send_counter(50);  // now more than 8128 behind the top
    auto behind = seal(s.initiator, packet);
    CHECK(open_data(s.responder, behind).reject == Reject::replayed_counter);

    // Sending stops at REJECT_AFTER_MESSAGES.
    s.initiator.set_send_counter(reject_after_messages - 1);
    auto last = seal(s.initiator, packet);
    CHECK(open_data(s.responder, last).reject == Reject::none);
    std::vector<std::uint8_t> buf(sealed_length(packet.size(), 1420));
    CHECK(seal_data(s.initiator, buf, packet.size(), 1420).reject == Reject::counter_exhausted);
    // A message claiming the limit is refused before decryption.
    auto forged = seal(s.responder, packet);
    std::uint64_t limit = reject_after_messages;
    std::memcpy(forged.data() + 8, &limit, 8);
    CHECK(open_data(s.initiator, forged).reject == Reject::counter_exhausted);
}

TEST_CASE("data: non-IP plaintext and bad inner lengths are malformed_inner") {
    PeerPair p;
    auto s = p.handshake(p.a, p.b);
    std::vector<std::uint8_t> junk(40, 0x11);  // version nibble 1
    auto m1 = seal(s.initiator, junk);
    CHECK(open_data(s.responder, m1).reject == Reject::malformed_inner);
    auto lying = ipv4_packet(60, 2);
    lying[2] = 0x10;  // claims 4096+60 bytes
    auto m2 = seal(s.initiator, lying);
    CHECK(open_data(s.responder, m2).reject == Reject::malformed_inner);
    std::vector<std::uint8_t> v6(80, 0);
    v6[0] = 0x60;
    v6[5] = 40;  // payload 40 + header 40
    auto m3 = seal(s.initiator, v6);
    auto r = open_data(s.responder, m3);
    CHECK(r.reject == Reject::none);
    CHECK(r.packet.size() == 80);
}

TEST_CASE("padding to 16 never passes the MTU; small buffers are refused") {
    CHECK(padded_length(0, 1420) == 0);
    CHECK(padded_length(1, 1420) == 16);
    CHECK(padded_length(16, 1420) == 16);
    CHECK(padded_length(1419, 1420) == 1420);
    CHECK(padded_length(1413, 1420) == 1420);
    CHECK(padded_length(1400, 1420) == 1408);
    CHECK(padded_length(1500, 1420) == 1500);
    PeerPair p;
    auto s = p.handshake(p.a, p.b);
    std::vector<std::uint8_t> small(16 + 20 + 15);
    CHECK(seal_data(s.initiator, small, 20, 1420).reject == Reject::buffer_too_small);
    CHECK(s.initiator.send_counter() == 0);  // no counter consumed
}

TEST_CASE("sessions expire after REJECT_AFTER_TIME") {
    PeerPair p;
    auto s = p.handshake(p.a, p.b);
    CHECK_FALSE(s.initiator.expired(p.now + reject_after_time - 1));
    CHECK(s.initiator.expired(p.now + reject_after_time));
}

TEST_CASE("every message type at wrong lengths, and bad reserved bytes, is not classified") {
    struct Case {
        std::uint8_t type;
        std::size_t exact;
    };
    for (Case c : {Case{1, 148}, Case{2, 92}, Case{3, 64}}) {
        CAPTURE(c.type);
        std::vector<std::uint8_t> m(c.exact + 1, 0);
        m[0] = c.type;
        CHECK(classify(std::span(m).first(c.exact)) == static_cast<MessageType>(c.type));
        CHECK_FALSE(classify(m));
        CHECK_FALSE(classify(std::span(m).first(c.exact - 1)));
        CHECK_FALSE(classify(std::span(m).first(4)));
        m[2] = 1;
        CHECK_FALSE(classify(std::span(m).first(c.exact)));
    }
    std::vector<std::uint8_t> data(32, 0);
    data[0] = 4;
    CHECK(classify(data) == MessageType::data);
    CHECK(classify(std::span(data).first(31)) == std::nullopt);
    for (std::uint8_t t : {0, 5, 255}) {
        data[0] = t;
        CHECK_FALSE(classify(data));
    }
    CHECK_FALSE(classify(std::span(data).first(0)));
}

TEST_CASE("cookies: reply under load, mac2 with the cookie, binding, expiry, forgeries") {
    PeerPair p;
    const std::uint8_t src[] = {10, 99, 0, 1, 0xca, 0x6c};
    const std::uint8_t other_src[] = {10, 99, 0, 2, 0xca, 0x6c};
    MessageInitiation m = p.initiation(p.a);
    CHECK_FALSE(p.b.checker.mac2_valid(message_bytes(m), src, p.now, p.rng));  // mac2 is zero

    MessageCookieReply reply;
    p.b.checker.create_reply(reply, message_bytes(m), src, p.now, p.rng);
    CHECK(classify(message_bytes(reply)) == MessageType::cookie_reply);
    CHECK(reply.receiver == m.sender);
    MessageCookieReply forged = reply;
    forged.encrypted_cookie[0] ^= 1;
    CHECK(p.a.maker.consume_reply(forged, p.now) == Reject::decrypt_failed);
    CHECK(p.a.maker.consume_reply(reply, p.now) == Reject::none);
    CHECK(p.a.maker.consume_reply(reply, p.now) == Reject::unexpected_message);  // used up

    p.advance(seconds_ns(1));
    MessageInitiation again = p.initiation(p.a);
    CHECK(p.b.checker.mac2_valid(message_bytes(again), src, p.now, p.rng));
    CHECK_FALSE(p.b.checker.mac2_valid(message_bytes(again), other_src, p.now, p.rng));
    CHECK(p.receive_initiation(p.b, again) == Reject::none);

    // After 120 s the initiator stops using the cookie.
    p.advance(cookie_secret_max_age);
    MessageInitiation late = p.initiation(p.a);
    MacPair zero{};
    CHECK(std::memcmp(late.macs.mac2, zero.mac2, 16) == 0);

    // A cookie reply answering a message we never sent (different mac1) does not decrypt.
    PeerPair q;
    MessageInitiation qm = q.initiation(q.a);
    MessageCookieReply wrong;
    q.b.checker.create_reply(wrong, message_bytes(m), src, q.now, q.rng);
    CHECK(q.a.maker.consume_reply(wrong, q.now) == Reject::decrypt_failed);
    (void)qm;
    // No message sent at all: nothing to accept.
    CookieMaker fresh(p.b.identity.public_key);
    CHECK(fresh.consume_reply(reply, p.now) == Reject::unexpected_message);
}

namespace {

// A's initiation from `src` is answered with a cookie reply under load, which A takes.
void receive_cookie(PeerPair& p, std::span<const std::uint8_t> src) {
    MessageInitiation m = p.initiation(p.a);
    MessageCookieReply reply;
    p.b.checker.create_reply(reply, message_bytes(m), src, p.now, p.rng);
    REQUIRE(p.a.maker.consume_reply(reply, p.now) == Reject::none);
}

}  // namespace

TEST_CASE("the cookie secret rotates every 120 s, invalidating old cookies") {
    PeerPair p;
    const std::uint8_t src[] = {127, 0, 0, 1, 0x12, 0x34};
    receive_cookie(p, src);
    p.advance(cookie_secret_max_age - cookie_secret_latency - millis_ns(1));
    MessageInitiation fresh = p.initiation(p.a);  // the cookie's last moment of use
    CHECK(p.b.checker.mac2_valid(message_bytes(fresh), src, p.now, p.rng));
    p.now += cookie_secret_latency - millis_ns(1);  // still within the secret's life
    CHECK(p.b.checker.mac2_valid(message_bytes(fresh), src, p.now, p.rng));
    p.now += millis_ns(2);  // past the secret's life on the responder
    CHECK_FALSE(p.b.checker.mac2_valid(message_bytes(fresh), src, p.now, p.rng));
}

TEST_CASE("a received cookie is used for 120 - 5 s (COOKIE_SECRET_LATENCY), then no more") {
    // The responder's secret may be up to 5 s older than our cookie: a mac2 made in the last
    // 5 s of a cookie's life would meet a rotated secret and stall the handshake (kernel
    // cookie.c, wg_cookie_add_mac_to_packet).
    PeerPair p;
    const std::uint8_t src[] = {127, 0, 0, 1, 0x12, 0x34};
    receive_cookie(p, src);
    const Nanos born = p.now;
    CHECK(p.a.maker.has_fresh_cookie(born + seconds_ns(115) - 1));
    CHECK_FALSE(p.a.maker.has_fresh_cookie(born + seconds_ns(115)));
    CHECK_FALSE(p.a.maker.has_fresh_cookie(born + seconds_ns(119)));
}
