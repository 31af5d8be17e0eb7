// Device pair on the fake clock: handshake retries, keepalives, new handshakes, and the
// REKEY/REJECT/wipe ages of sessions (protocol notes, "Timers and limits").
#include <doctest/doctest.h>

#include "tests/unit/engine/device_harness.hpp"

using namespace ringtun;
using namespace ringtun::test;

namespace {

constexpr Nanos retry_interval = crypto::rekey_timeout + jitter_all_ff;

// One data packet each way, delivered: clears both new-handshake timers.
void exchange(DevicePair& p, std::uint32_t id) {
    p.send_tun(p.a, a_to_b(id));
    p.send_tun(p.b, b_to_a(id));
    p.deliver_all();
}

void discard_queued(Side& s, std::uint8_t type) {
    std::erase_if(s.tx.queue, [type](const Datagram& d) { return d.type() == type; });
}

}  // namespace

TEST_CASE("timers: an unanswered initiation is retried 19 times, then the peer gives up") {
    // As the kernel (timers.c: give up when attempts > MAX_TIMER_HANDSHAKES, 90 s / 5 s = 18,
    // counting after the check) and wireguard-go do: the first initiation and 19 retries.
    DevicePair p(PairOptions().rng_fixed(0xff));
    p.a.absent = true;
    const Nanos t0 = p.now.boot;
    for (std::uint32_t id = 0; id < 3; ++id)
        p.send_tun(p.a, a_to_b(id));
    p.advance(seconds_ns(200));

    const auto sent = times_of_type(p.a.tx.log, 1);
    REQUIRE(sent.size() == 20);
    CHECK(daemon::max_handshake_retries == 19);
    for (std::size_t k = 0; k < sent.size(); ++k)
        CHECK(sent[k] == t0 + k * retry_interval);
    CHECK(p.a.counters().handshakes_initiated == 20);
    CHECK(p.a.drops(Drop::staged_given_up) == 3);
    CHECK(p.a.peer->staged.empty());

    // Given up at the 20th expiry; only the key wipe remains, 540 s later.
    const Nanos gave_up = t0 + 20 * retry_interval;
    CHECK(p.a.peer->timers.armed(daemon::Timer::zero_key_material));
    CHECK_FALSE(p.a.peer->timers.armed(daemon::Timer::retransmit_handshake));
    CHECK(p.a.dev().next_deadline() == gave_up + daemon::zero_key_material_after);
    CHECK(p.a.peer->handshake.state() == crypto::HandshakeState::created_initiation);

    p.advance(seconds_ns(1000));
    CHECK(count_type(p.a.tx.log, 1) == 20);
    CHECK(p.a.peer->handshake.state() == crypto::HandshakeState::zeroed);
    CHECK(p.a.dev().next_deadline() == daemon::no_deadline);
    CHECK(p.b.tx.log.empty());
}

TEST_CASE("timers: retries come every 5 s plus 0..333 ms of jitter") {
    DevicePair p;
    p.a.absent = true;
    p.send_tun(p.a, a_to_b(0));
    p.advance(seconds_ns(120));
    const auto sent = times_of_type(p.a.tx.log, 1);
    REQUIRE(sent.size() == 20);
    bool jitter_varies = false;
    for (std::size_t k = 1; k < sent.size(); ++k) {
        const Nanos gap = sent[k] - sent[k - 1];
        CHECK(gap >= crypto::rekey_timeout);
        CHECK(gap < crypto::rekey_timeout + daemon::rekey_timeout_jitter_max);
        if (gap != sent[1] - sent[0]) jitter_varies = true;
    }
    CHECK(jitter_varies);
}

TEST_CASE("timers: a lost response is recovered by the retry") {
    DevicePair p;
    const Nanos t0 = p.now.boot;
    p.send_tun(p.a, a_to_b(1));
    p.deliver_one(p.a);
    p.b.tx.queue.clear();  // the response is lost
    p.advance(seconds_ns(6));
    const auto sent = times_of_type(p.a.tx.log, 1);
    REQUIRE(sent.size() == 2);
    CHECK(sent[1] - t0 >= crypto::rekey_timeout);
    REQUIRE(p.b.tun.size() == 1);
    CHECK(packet_id(p.b.tun[0]) == 1);
    CHECK(p.a.counters().handshakes_completed == 1);
    CHECK(p.b.counters().handshakes_completed == 1);
}

TEST_CASE("timers: at most one initiation per 5 s per peer") {
    DevicePair p;
    p.a.absent = true;
    for (std::uint32_t id = 0; id < 10; ++id) {
        p.send_tun(p.a, a_to_b(id));
        p.advance(millis_ns(490));
    }
    CHECK(count_type(p.a.tx.log, 1) == 1);

    // A rekey due to age is held back just the same.
    DevicePair q(PairOptions().rng_fixed(0xff));
    q.establish();
    q.advance_to(q.a.peer->current->created() + crypto::rekey_after_time);
    q.b.absent = true;
    q.send_tun(q.a, a_to_b(1));  // rekey initiation
    q.advance(seconds_ns(2));
    q.send_tun(q.a, a_to_b(2));  // still old: would rekey, but within 5 s
    q.advance(seconds_ns(2));
    CHECK(count_type(q.a.tx.log, 1) == 1);
    q.advance(seconds_ns(2));  // the retry is due at 5 s + jitter
    CHECK(count_type(q.a.tx.log, 1) == 2);
}

TEST_CASE("timers: data received and not answered gets a keepalive after 10 s") {
    DevicePair p;
    p.establish();  // B received A's packet just now
    const Nanos t0 = p.now.boot;
    p.advance_to(t0 + crypto::keepalive_timeout - 1);
    CHECK(p.b.tx.log.empty());
    p.advance(1);
    REQUIRE(p.b.tx.log.size() == 1);
    CHECK(p.b.tx.log[0].is_keepalive());
    CHECK(p.b.tx.log[0].bytes.size() == 32);
    CHECK(p.b.tx.log[0].sent_at == t0 + crypto::keepalive_timeout);
    CHECK(p.b.counters().keepalives_sent == 1);
    // A accepts it: no drop, nothing for the TUN, and the peer counts as heard from.
    CHECK(p.a.total_drops() == 0);
    CHECK(p.a.tun.empty());
    CHECK_FALSE(p.a.peer->timers.armed(daemon::Timer::new_handshake));
    p.advance(seconds_ns(60));
    CHECK(p.b.tx.log.size() == 1);
    CHECK(p.a.tx.log.empty());
}

TEST_CASE("timers: more data during the wait owes a second keepalive") {
    DevicePair p;
    p.establish();
    p.advance(seconds_ns(11));
    p.clear_records();
    const Nanos t = p.now.boot;
    p.send_tun(p.a, a_to_b(1));
    p.deliver_all();
    p.advance(seconds_ns(5));
    p.send_tun(p.a, a_to_b(2));
    p.deliver_all();
    p.advance_to(t + seconds_ns(40));
    const auto ka = times_of_type(p.b.tx.log, 4);
    REQUIRE(ka.size() == 2);
    CHECK(ka[0] == t + seconds_ns(10));
    CHECK(ka[1] == t + seconds_ns(20));
}

TEST_CASE("timers: an answer within 10 s makes the keepalive unnecessary") {
    DevicePair p;
    p.establish();
    p.advance(seconds_ns(11));
    p.clear_records();
    p.send_tun(p.a, a_to_b(1));
    p.deliver_all();
    p.advance(seconds_ns(3));
    p.send_tun(p.b, b_to_a(2));
    p.deliver_all();
    p.advance(seconds_ns(9));
    CHECK(count_keepalives(p.b.tx.log) == 0);
    CHECK(count_type(p.b.tx.log, 4) == 1);
}

TEST_CASE("timers: data sent and nothing heard for 15 s + jitter starts a new handshake") {
    DevicePair p(PairOptions().rng_fixed(0xff));
    p.establish();
    p.advance(seconds_ns(11));
    p.clear_records();
    p.b.absent = true;  // B receives but its answers are lost
    const Nanos t = p.now.boot;
    CHECK(p.send_tun(p.a, a_to_b(1)));
    p.deliver_all();
    const Nanos due = t + daemon::new_handshake_timeout + jitter_all_ff;
    p.advance_to(due - 1);
    CHECK(count_type(p.a.tx.log, 1) == 0);
    p.advance(1);
    const auto sent = times_of_type(p.a.tx.log, 1);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0] == due);
}

TEST_CASE("timers: a keepalive heard back cancels the new-handshake timer") {
    DevicePair p;
    p.establish();
    p.advance(seconds_ns(11));
    p.clear_records();
    p.send_tun(p.a, a_to_b(1));
    p.deliver_all();
    CHECK(p.a.peer->timers.armed(daemon::Timer::new_handshake));
    p.advance(seconds_ns(30));  // B's keepalive at 10 s answers
    CHECK(count_type(p.a.tx.log, 1) == 0);
    CHECK(count_keepalives(p.b.tx.log) == 1);
}

TEST_CASE(
    "timers: staged packets flushed when the handshake completes arm the new-handshake timer") {
    DevicePair p(PairOptions().rng_fixed(0xff));
    const Nanos t = p.now.boot;
    p.send_tun(p.a, a_to_b(1));
    p.deliver_all();  // handshake; the staged packet goes out at t
    REQUIRE(p.b.tun.size() == 1);
    p.b.absent = true;  // from now on nothing from B arrives
    // Data was sent at t and nothing authenticated came back after it (protocol notes:
    // "when data is sent and nothing authenticated is received within 15 s").
    CHECK(p.a.peer->timers.armed(daemon::Timer::new_handshake));
    p.advance(seconds_ns(20));
    const auto sent = times_of_type(p.a.tx.log, 1);
    REQUIRE(sent.size() == 2);
    CHECK(sent[1] == t + daemon::new_handshake_timeout + jitter_all_ff);
}

TEST_CASE("timers: persistent keepalive every N s of silence, restarted by any traffic") {
    DevicePair p(PairOptions().a_keeps_alive(25));
    const Nanos t0 = p.now.boot;
    p.a.start(p.now);
    p.deliver_all();
    REQUIRE(p.a.peer->current.has_value());
    p.advance_to(t0 + seconds_ns(75));
    const auto ka = times_of_type(p.a.tx.log, 4);
    REQUIRE(ka.size() == 4);
    for (std::size_t k = 0; k < ka.size(); ++k)
        CHECK(ka[k] == t0 + k * seconds_ns(25));
    CHECK(count_keepalives(p.a.tx.log) == 4);
    CHECK(p.b.tx.log.size() == 1);  // only B's response: B has no persistent keepalive

    // Data at +80 restarts the interval; B's passive keepalive at +90 restarts it again.
    p.advance_to(t0 + seconds_ns(80));
    p.clear_records();
    p.send_tun(p.a, a_to_b(1));
    p.deliver_all();
    p.advance_to(t0 + seconds_ns(116));
    const auto later = times_of_type(p.a.tx.log, 4);
    REQUIRE(later.size() == 2);  // the data packet, then one keepalive
    CHECK(later[0] == t0 + seconds_ns(80));
    CHECK(later[1] == t0 + seconds_ns(115));
    CHECK(p.a.tx.log[1].is_keepalive());
    CHECK(count_keepalives(p.b.tx.log) == 1);
}

TEST_CASE("timers: the initiator rekeys when it sends after 120 s") {
    DevicePair p;
    p.establish();
    const Nanos created = p.a.peer->current->created();
    const std::uint32_t old_index = p.a.peer->current->local_index();
    p.advance_to(created + crypto::rekey_after_time - 1);
    p.clear_records();
    CHECK(p.send_tun(p.a, a_to_b(1)));
    CHECK(count_type(p.a.tx.log, 1) == 0);
    p.deliver_all();
    p.advance_to(created + crypto::rekey_after_time);
    CHECK(p.send_tun(p.a, a_to_b(2)));  // sent under the old session, and a rekey begins
    CHECK(count_type(p.a.tx.log, 1) == 1);
    p.deliver_all();
    REQUIRE(p.a.peer->current.has_value());
    CHECK(p.a.peer->current->created() == p.now.boot);
    REQUIRE(p.a.peer->previous.has_value());
    CHECK(p.a.peer->previous->local_index() == old_index);
    REQUIRE(p.b.tun.size() == 2);
    CHECK(packet_id(p.b.tun[1]) == 2);
}

TEST_CASE("timers: the responder does not rekey on age") {
    DevicePair p;
    p.establish();
    const Nanos created = p.b.peer->current->created();
    p.advance_to(created + seconds_ns(125));
    p.clear_records();
    CHECK(p.send_tun(p.b, b_to_a(1)));  // past REKEY_AFTER_TIME, but B did not initiate
    CHECK(count_type(p.b.tx.log, 1) == 0);
    p.deliver_all();
    REQUIRE(p.a.tun.size() == 1);
    p.advance(seconds_ns(20));  // A rekeys when its keepalive goes out at 135 s
    CHECK(p.b.counters().handshakes_initiated == 0);
    CHECK(count_type(p.b.tx.log, 1) == 0);

    // Receiving after 165 s: only the initiator rekeys on receive. A's own rekey
    // initiation is lost here, so B's session is 170 s old when A's data arrives.
    DevicePair q;
    q.establish();
    q.advance_to(q.b.peer->current->created() + seconds_ns(170));
    q.clear_records();
    q.auto_deliver = false;
    q.send_tun(q.a, a_to_b(2));
    discard_queued(q.a, 1);
    q.deliver_all();
    REQUIRE(q.b.tun.size() == 1);
    CHECK(q.b.counters().handshakes_initiated == 0);
    CHECK(count_type(q.b.tx.log, 1) == 0);
}

TEST_CASE("timers: the initiator rekeys on receive at 165 s, once") {
    DevicePair p;
    p.establish();
    const Nanos created = p.a.peer->current->created();
    p.send_tun(p.b, b_to_a(1));
    p.deliver_all();
    p.advance_to(created + seconds_ns(164));
    p.clear_records();
    p.send_tun(p.b, b_to_a(2));
    p.deliver_all();
    CHECK(count_type(p.a.tx.log, 1) == 0);
    p.advance_to(created + crypto::reject_after_time - crypto::keepalive_timeout -
                 crypto::rekey_timeout);
    p.auto_deliver = false;
    p.send_tun(p.b, b_to_a(3));
    p.deliver_one(p.b);
    REQUIRE(p.a.tun.size() == 2);
    CHECK(count_type(p.a.tx.log, 1) == 1);
    CHECK(p.a.peer->sent_lastminute_handshake);
    p.deliver_all();
    CHECK(p.a.peer->current->created() == p.now.boot);
    CHECK_FALSE(p.a.peer->sent_lastminute_handshake);
    CHECK(p.b.counters().handshakes_initiated == 0);
}

TEST_CASE("timers: a session 180 s old neither sends nor receives") {
    DevicePair p;
    p.establish();
    const Nanos created = p.a.peer->current->created();
    REQUIRE(p.b.peer->current->created() == created);
    p.advance_to(created + crypto::reject_after_time - millis_ns(1));
    p.clear_records();
    const Datagram late = p.seal_now(p.b, b_to_a(1));
    CHECK(p.a.peer->sending_session(p.now.boot) != nullptr);

    p.advance_to(created + crypto::reject_after_time);
    CHECK(p.a.peer->sending_session(p.now.boot) == nullptr);
    CHECK_FALSE(p.inject(p.a, late.bytes, p.b.addr));
    CHECK(p.a.drops(Drop::session_expired) == 1);
    CHECK(p.a.tun.empty());

    CHECK_FALSE(p.send_tun(p.a, a_to_b(2)));  // staged, and a handshake for a fresh session
    CHECK(p.a.peer->staged.size() == 1);
    CHECK(count_type(p.a.tx.log, 1) == 1);
    p.deliver_all();
    REQUIRE(p.b.tun.size() == 1);
    CHECK(packet_id(p.b.tun[0]) == 2);
    CHECK(p.a.peer->current->created() == p.now.boot);
}

TEST_CASE("timers: 540 s after the last session all keys are wiped") {
    DevicePair p;
    p.establish();
    const Datagram a1 = p.seal_now(p.a, a_to_b(1));
    const Datagram b1 = p.seal_now(p.b, b_to_a(1));
    exchange(p, 2);
    p.advance(seconds_ns(121));
    p.send_tun(p.a, a_to_b(3));  // rekey
    p.deliver_all();
    REQUIRE(p.a.peer->previous.has_value());
    REQUIRE(p.b.peer->previous.has_value());
    const Nanos created = p.a.peer->current->created();
    const Datagram a2 = p.seal_now(p.a, a_to_b(4));
    const Datagram b2 = p.seal_now(p.b, b_to_a(4));
    exchange(p, 5);
    const auto handshakes = p.a.counters().handshakes_initiated;

    p.advance_to(created + daemon::zero_key_material_after - 1);
    CHECK(p.a.peer->current.has_value());
    CHECK(p.b.peer->current.has_value());
    p.advance(1);
    for (daemon::Peer* peer : {p.a.peer, p.b.peer}) {
        CHECK_FALSE(peer->current.has_value());
        CHECK_FALSE(peer->previous.has_value());
        CHECK_FALSE(peer->next.has_value());
        CHECK(peer->handshake.state() == crypto::HandshakeState::zeroed);
    }
    CHECK(p.a.counters().handshakes_initiated == handshakes);

    for (const Datagram* d : {&a1, &a2})
        CHECK_FALSE(p.inject(p.b, d->bytes, p.a.addr));
    for (const Datagram* d : {&b1, &b2})
        CHECK_FALSE(p.inject(p.a, d->bytes, p.b.addr));
    CHECK(p.a.drops(Drop::unknown_index) == 2);
    CHECK(p.b.drops(Drop::unknown_index) == 2);

    // New traffic simply makes new keys.
    p.send_tun(p.a, a_to_b(6));
    p.deliver_all();
    REQUIRE_FALSE(p.b.tun.empty());
    CHECK(packet_id(p.b.tun.back()) == 6);
}

TEST_CASE("timers: with many peers, a due timer visits its peer only (defect 6)") {
    // Every loop turn asks for the next deadline and runs what is due: with 1,000 peers under
    // load, scanning them all took a core. Deadlines are kept in a heap: O(1) to read, and only
    // due peers are visited.
    DevicePair p;
    const crypto::SymmetricKey no_psk;
    TestRng keys(99);
    for (int i = 0; i < 1000; ++i) {
        const crypto::PrivateKey k = crypto::generate_private_key(keys);
        REQUIRE(p.a.dev().add_peer(crypto::derive_public_key(k), no_psk, 25, std::nullopt));
    }
    p.establish();
    const Nanos due = p.a.dev().next_deadline();
    REQUIRE(due != daemon::no_deadline);
    const std::uint64_t before = p.a.counters().timer_visits;
    p.auto_deliver = false;
    p.advance_to(due);
    CHECK(p.a.counters().timer_visits - before <= 2);

    // The heap's answer matches the peers' own timers.
    Nanos earliest = daemon::no_deadline;
    for (const auto& peer : p.a.dev().peers())
        earliest = std::min(earliest, peer->timers.next_deadline());
    CHECK(p.a.dev().next_deadline() <= earliest);
}

TEST_CASE("timers: the deadline heap stays bounded and exact while deadlines move about") {
    // Deadlines that keep moving earlier leave stale entries behind; the heap is rebuilt in
    // place rather than grown, and no timer fires late.
    DevicePair p(PairOptions().a_keeps_alive(1));
    p.establish();
    for (std::uint32_t i = 0; i < 3000; ++i) {
        p.send_tun(p.a, a_to_b(i));
        if (i % 3 == 0) p.send_tun(p.b, b_to_a(i));
        p.deliver_all();
        p.advance(millis_ns(7 + i % 50));
    }
    CHECK(p.a.peer->current.has_value());
    CHECK(p.a.total_drops() == 0);
    CHECK(p.b.total_drops() == 0);
}

TEST_CASE("timers: a peer that stops answering is reported once, and again when it is back") {
    DevicePair p(PairOptions().rng_fixed(0xff));
    p.establish();
    CHECK(p.a.peer->unanswered_since_unix_ns == 0);
    CHECK_FALSE(p.a.peer->reported_silent);
    p.b.absent = true;
    p.clear_records();
    p.advance(seconds_ns(17));  // A sent data, heard nothing for 15 s: it initiates
    REQUIRE(count_type(p.a.tx.log, 1) == 1);
    const std::uint64_t since = p.a.peer->unanswered_since_unix_ns;
    CHECK(since > 0);
    p.advance(retry_interval * (daemon::silent_after_retries - 1) + seconds_ns(1));
    CHECK_FALSE(p.a.peer->reported_silent);  // two retries: not yet
    p.advance(retry_interval);
    CHECK(p.a.peer->reported_silent);  // the third: reported
    p.advance(seconds_ns(200));        // given up, then more traffic: no second report
    p.send_tun(p.a, a_to_b(2));
    CHECK(p.a.peer->reported_silent);
    CHECK(p.a.peer->unanswered_since_unix_ns == since);  // still counted from the first

    p.b.absent = false;
    p.advance(retry_interval * 2 + seconds_ns(1));  // the next retries reach B and back
    REQUIRE(p.a.peer->current);
    CHECK_FALSE(p.a.peer->reported_silent);
    CHECK(p.a.peer->unanswered_since_unix_ns == 0);
    CHECK(p.a.peer->last_handshake_unix_ns > since);
}
