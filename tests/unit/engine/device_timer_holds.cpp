// Due timers and the transmit buffers: thousands of peers due at once (a start or a
// `wg setconf` with persistent keepalives) wait for buffers instead of failing to get one, a
// sink that stays full does not stop the timers for longer than max_timer_hold, and one call
// of on_timers acts on at most timers_per_call peers.
#include <doctest/doctest.h>

#include "tests/unit/engine/device_harness.hpp"

using namespace ringtun;
using namespace ringtun::test;

namespace {

constexpr std::size_t keepalive_peers = 10;

// A with `peers` more peers, each keeping alive towards an endpoint nobody answers, started
// (Device::start and the first turns' timers) with room for `room` messages in its sink;
// nothing is delivered.
struct DueAtOnce {
    explicit DueAtOnce(std::size_t room, std::size_t peers = keepalive_peers) {
        p.auto_deliver = false;
        TestRng rng(0x4011);
        for (std::size_t i = 0; i < peers; ++i) {
            const auto key = crypto::derive_public_key(crypto::generate_private_key(rng));
            const auto port = static_cast<std::uint16_t>(200 + i);
            REQUIRE(p.a.dev().add_peer(key, {}, 25, endpoint4("10.98.0.1", port)));
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
    // The loop calls again at every hold's end; the sink stays full.
    daemon::Now at = p.now;
    for (int call = 0; call < 2000 && p.a.drops(Drop::no_tx_buffer) == 0; ++call) {
        at = later(p.now, p.a.dev().next_deadline() - p.now.boot);
        p.a.dev().on_timers(at);
    }
    // A second without room: the timers act, each initiation finds no buffer, is counted and
    // left to its retry timer, and nothing is due any more before those retries.
    CHECK(at.boot - p.now.boot == daemon::max_timer_hold);
    CHECK(p.a.counters().timer_holds == daemon::max_timer_hold / daemon::timer_hold_step);
    CHECK(p.a.tx.log.empty());
    CHECK(p.a.drops(Drop::no_tx_buffer) == keepalive_peers);
    CHECK(p.a.dev().next_deadline() >= at.boot + crypto::rekey_timeout);
    // Room again: the retries go out as usual.
    p.a.tx.room = FakeSink::unlimited;
    p.a.dev().on_timers(later(at, crypto::rekey_timeout + daemon::rekey_timeout_jitter_max));
    CHECK(count_type(p.a.tx.log, 1) == keepalive_peers);
}

TEST_CASE("timer holds: a new run of waits holds again after room was seen") {
    DueAtOnce f(4);
    DevicePair& p = f.p;
    p.a.tx.room = FakeSink::unlimited;
    p.a.dev().on_timers(later(p.now, daemon::timer_hold_step));
    REQUIRE(count_type(p.a.tx.log, 1) == keepalive_peers);
    // The retries, 5 s on, find the sink full: well over max_timer_hold after the first hold,
    // they wait all the same, because room was seen since.
    p.a.tx.room = 0;
    const daemon::Now retries = later(
        p.now, crypto::rekey_timeout + daemon::rekey_timeout_jitter_max + daemon::timer_hold_step);
    p.a.dev().on_timers(retries);
    CHECK(p.a.counters().timer_holds == 2);
    CHECK(p.a.drops(Drop::no_tx_buffer) == 0);
    p.a.tx.room = FakeSink::unlimited;
    p.a.dev().on_timers(later(retries, daemon::timer_hold_step));
    CHECK(count_type(p.a.tx.log, 1) == 2 * keepalive_peers);
    CHECK(p.a.total_drops() == 0);
}

TEST_CASE("timer holds: one call acts on at most timers_per_call peers") {
    constexpr std::size_t peers = daemon::timers_per_call + 36;
    DevicePair p;
    p.auto_deliver = false;
    TestRng rng(0x4012);
    for (std::size_t i = 0; i < peers; ++i) {
        const auto key = crypto::derive_public_key(crypto::generate_private_key(rng));
        REQUIRE(p.a.dev().add_peer(key, {}, 25, endpoint4("10.98.0.1", 9)));
    }
    p.a.dev().start(p.now);
    p.a.dev().on_timers(p.now);
    CHECK(count_type(p.a.tx.log, 1) == daemon::timers_per_call);
    // The rest are still due: the loop calls again once its other work is done.
    CHECK(p.a.dev().next_deadline() <= p.now.boot);
    p.a.dev().on_timers(p.now);
    CHECK(count_type(p.a.tx.log, 1) == peers);
    CHECK(p.a.dev().next_deadline() > p.now.boot);
    CHECK(p.a.counters().timer_holds == 0);
}

TEST_CASE("timer holds: a keepalive that found no buffer leaves the keepalives armed") {
    // A session up, A keeping alive: its keepalive comes due while the sink stays full, so
    // after max_timer_hold it is dropped (no_tx_buffer). The next one is still due an interval
    // later, as in the kernel, whose timers count a keepalive once sealed.
    DevicePair p(PairOptions().a_keeps_alive(25));
    p.start_keepalive_session();
    p.a.tx.room = 0;
    p.advance(seconds_ns(27));
    CHECK(p.a.drops(Drop::no_tx_buffer) == 1);
    CHECK(p.a.tx.log.empty());
    p.a.tx.room = FakeSink::unlimited;
    p.advance(seconds_ns(26));
    CHECK(count_keepalives(p.a.tx.log) == 1);
}
