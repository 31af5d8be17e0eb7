// Device pair under load: cookie replies instead of handshakes, mac2 with the cookie, and the
// per-source handshake rate limit (paper §5.3; protocol notes, "mac1, mac2, cookies").
#include <doctest/doctest.h>

#include "crypto/cookie.hpp"
#include "crypto/noise.hpp"
#include "tests/unit/engine/device_harness.hpp"

using namespace ringtun;
using namespace ringtun::test;

namespace {

// Someone B does not know, sending initiations with a valid mac1 (so they count as load).
class Stranger {
  public:
    explicit Stranger(const crypto::PublicKey& target)
        : rng_(4242),
          id_(crypto::Identity::create(crypto::generate_private_key(rng_))),
          target_(target) {}

    Bytes initiation(const daemon::Now& now) {
        crypto::Handshake hs(id_, target_, crypto::SymmetricKey{});
        crypto::CookieMaker maker(target_);
        crypto::MessageInitiation m;
        REQUIRE(hs.create_initiation(m, crypto::generate_private_key(rng_), ++index_,
                                     crypto::tai64n_from_unix_ns(now.unix_ns)) ==
                crypto::Reject::none);
        maker.add_macs(crypto::message_bytes(m), now.boot);
        const auto bytes = crypto::message_bytes(m);
        return {bytes.begin(), bytes.end()};
    }

  private:
    TestRng rng_;
    crypto::Identity id_;
    crypto::PublicKey target_;
    std::uint32_t index_ = 0;
};

bool mac2_zero(const Bytes& initiation) {
    const std::size_t at = crypto::mac2_offset(crypto::MessageType::initiation);
    return std::all_of(initiation.begin() + static_cast<long>(at),
                       initiation.begin() + static_cast<long>(at + 16),
                       [](std::uint8_t b) { return b == 0; });
}

}  // namespace

TEST_CASE("load: under load B answers with a cookie, and A's next initiation carries mac2") {
    DevicePair p;
    p.b.dev().set_load_threshold(0);  // every handshake message finds B under load
    p.send_tun(p.a, a_to_b(1));
    p.deliver_all();
    CHECK(p.b.counters().cookie_replies_sent == 1);
    CHECK(p.b.drops(Drop::under_load_cookie) == 1);
    REQUIRE(p.b.tx.log.size() == 1);
    CHECK(p.b.tx.log[0].type() == 3);
    CHECK(p.b.tx.log[0].bytes.size() == sizeof(crypto::MessageCookieReply));
    CHECK(p.b.tx.log[0].to.same_address(p.a.addr));
    CHECK_FALSE(p.b.peer->next.has_value());
    CHECK(p.a.total_drops() == 0);  // the cookie reply was accepted
    CHECK(p.a.peer->cookies.has_fresh_cookie(p.now.boot));
    CHECK_FALSE(p.a.peer->current.has_value());

    p.advance(seconds_ns(6));  // the retry, with mac2
    std::vector<Bytes> initiations;
    for (const auto& d : p.a.tx.log)
        if (d.type() == 1) initiations.push_back(d.bytes);
    REQUIRE(initiations.size() == 2);
    CHECK(mac2_zero(initiations[0]));
    CHECK_FALSE(mac2_zero(initiations[1]));
    REQUIRE(p.b.tun.size() == 1);
    CHECK(packet_id(p.b.tun[0]) == 1);
    CHECK(p.b.counters().cookie_replies_sent == 1);
    CHECK(p.b.drops(Drop::rate_limited) == 0);
    CHECK(p.b.counters().handshakes_completed == 1);
}

TEST_CASE("load: more handshakes than the threshold in a second turn on cookies") {
    DevicePair p;
    p.b.dev().set_load_threshold(8);
    Stranger stranger(p.b.dev().identity().public_key);
    const Endpoint attacker = endpoint4("10.99.0.66", 666);
    for (int i = 0; i < 8; ++i)
        p.inject(p.b, stranger.initiation(p.now), attacker);
    CHECK(p.b.drops(Drop::unknown_peer) == 8);
    CHECK(p.b.counters().cookie_replies_sent == 0);
    for (int i = 0; i < 2; ++i)
        p.inject(p.b, stranger.initiation(p.now), attacker);
    CHECK(p.b.drops(Drop::under_load_cookie) == 2);
    CHECK(p.b.counters().cookie_replies_sent == 2);
    REQUIRE(p.b.tx.queue.size() == 2);
    CHECK(p.b.tx.queue.front().to.same_address(attacker));
    p.deliver_all();  // to the attacker's address: lost
    CHECK(p.b.lost.size() == 2);

    // A, in the same second, gets a cookie too.
    p.send_tun(p.a, a_to_b(1));
    p.deliver_all();
    CHECK(p.b.drops(Drop::under_load_cookie) == 3);
    CHECK(p.a.peer->cookies.has_fresh_cookie(p.now.boot));

    // Still under load when A retries: the mac2 gets A through.
    p.auto_deliver = false;
    p.advance(seconds_ns(6));
    REQUIRE(p.a.tx.queue.size() == 1);
    for (int i = 0; i < 9; ++i)
        p.inject(p.b, stranger.initiation(p.now), attacker);
    CHECK(p.b.drops(Drop::under_load_cookie) == 4);
    p.deliver_all();
    CHECK(p.b.drops(Drop::under_load_cookie) == 4);
    REQUIRE(p.b.tun.size() == 1);
    CHECK(p.a.peer->current.has_value());
    CHECK(p.b.counters().handshakes_completed == 1);

    // A quiet second later, no more cookies: the stranger is refused as unknown again.
    p.advance(seconds_ns(2));
    const auto cookies = p.b.counters().cookie_replies_sent;
    p.inject(p.b, stranger.initiation(p.now), attacker);
    CHECK(p.b.counters().cookie_replies_sent == cookies);
    CHECK(p.b.drops(Drop::unknown_peer) == 8 + 8 + 1);
}

TEST_CASE("load: with a valid cookie, a source gets 5 handshakes at once, then 20 per second") {
    DevicePair p;
    p.b.dev().set_load_threshold(0);
    p.send_tun(p.a, a_to_b(1));
    p.deliver_all();  // cookie reply
    p.auto_deliver = false;
    p.advance(seconds_ns(6));
    REQUIRE(p.a.tx.queue.size() == 1);
    const Bytes retry = p.a.tx.queue.front().bytes;
    p.deliver_all();  // accepted: one token of five spent
    REQUIRE(p.b.tun.size() == 1);

    // Replays carry a valid mac2 from the right source: they reach the rate limit, and those
    // it lets through fail on their old timestamp.
    for (int i = 0; i < 8; ++i)
        CHECK_FALSE(p.inject(p.b, retry, p.a.addr));
    CHECK(p.b.drops(Drop::replayed_timestamp) == 4);
    CHECK(p.b.drops(Drop::rate_limited) == 4);

    p.advance(millis_ns(50));  // one token back
    p.inject(p.b, retry, p.a.addr);
    p.inject(p.b, retry, p.a.addr);
    CHECK(p.b.drops(Drop::replayed_timestamp) == 5);
    CHECK(p.b.drops(Drop::rate_limited) == 5);

    p.advance(seconds_ns(1));  // refilled, but never past the burst of 5
    for (int i = 0; i < 6; ++i)
        p.inject(p.b, retry, p.a.addr);
    CHECK(p.b.drops(Drop::replayed_timestamp) == 10);
    CHECK(p.b.drops(Drop::rate_limited) == 6);
    CHECK(p.b.counters().cookie_replies_sent == 1);
    CHECK(p.b.peer->endpoint->same_address(p.a.addr));
}
