// Due timers and the transmit buffers: thousands of peers due at once (a start or a
// `wg setconf` with persistent keepalives) wait for buffers instead of failing to get one, and
// a sink that stays full does not stop the timers for longer than max_timer_hold.
#include <doctest/doctest.h>

#include "tests/unit/engine/device_harness.hpp"

using namespace ringtun;
using namespace ringtun::test;

namespace {

constexpr std::size_t keepalive_peers = 10;

// A with keepalive_peers more peers, each keeping alive towards an endpoint nobody answers,
// started with room for `room` messages in its sink; nothing is delivered.
struct DueAtOnce {
    explicit DueAtOnce(std::size_t room) {
        p.auto_deliver = false;
        TestRng rng(0x4011);
        for (std::size_t i = 0; i < keepalive_peers; ++i) {
            const auto key = crypto::derive_public_key(crypto::generate_private_key(rng));
            REQUIRE(p.a.dev().add_peer(key, {}, 25, endpoint4("10.98.0.1", 200 + i)));
        }
        p.a.tx.room = room;
        p.a.start(p.now);
    }
    DevicePair p;
};

daemon::Now later(const daemon::Now& now, Nanos by) {
    return {now.boot + by, now.unix_ns + by};
}

}  // namespace

TEST_CASE("timer holds: peers due at once wait for transmit buffers rather than drop") {
    DueAtOnce f(4);
    DevicePair& p = f.p;
    CHECK(count_type(p.a.tx.log, 1) == 4);
    CHECK(p.a.drops(Drop::no_tx_buffer) == 0);
    CHECK(p.a.counters().timer_holds == 1);
    CHECK(p.a.dev().next_deadline() == p.now.boot + daemon::timer_hold_step);

    // The sends complete; the rest go out when the hold ends, not before.
    p.a.tx.room = FakeSink::unlimited;
    p.a.dev().on_timers(later(p.now, daemon::timer_hold_step - 1));
    CHECK(count_type(p.a.tx.log, 1) == 4);
    p.a.dev().on_timers(later(p.now, daemon::timer_hold_step));
    CHECK(count_type(p.a.tx.log, 1) == keepalive_peers);
    CHECK(p.a.total_drops() == 0);
    CHECK(p.a.counters().timer_holds == 1);
    // Each is an initiation like any other: retried REKEY_TIMEOUT (+ jitter) after it went out.
    for (const auto& peer : p.a.dev().peers())
        if (peer.get() != p.a.peer) CHECK(peer->timers.armed(daemon::Timer::retransmit_handshake));
}

TEST_CASE("timer holds: a sink full for max_timer_hold no longer holds the timers") {
    DueAtOnce f(0);
    DevicePair& p = f.p;
    CHECK(p.a.tx.log.empty());
    CHECK(p.a.drops(Drop::no_tx_buffer) == 0);
    p.a.dev().on_timers(later(p.now, daemon::max_timer_hold / 2));
    CHECK(p.a.counters().timer_holds == 2);
    CHECK(p.a.drops(Drop::no_tx_buffer) == 0);
    // A second without room: the timers act, each initiation finds no buffer, is counted and
    // left to its retry timer, and nothing is due any more before those retries.
    const daemon::Now then = later(p.now, daemon::max_timer_hold);
    p.a.dev().on_timers(then);
    CHECK(p.a.tx.log.empty());
    CHECK(p.a.drops(Drop::no_tx_buffer) == keepalive_peers);
    CHECK(p.a.dev().next_deadline() >= then.boot + crypto::rekey_timeout);
    // Room again: the retries go out as usual.
    p.a.tx.room = FakeSink::unlimited;
    p.a.dev().on_timers(later(then, crypto::rekey_timeout + daemon::rekey_timeout_jitter_max));
    CHECK(count_type(p.a.tx.log, 1) == keepalive_peers);
}
