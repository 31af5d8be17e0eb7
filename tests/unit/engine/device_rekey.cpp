// Device pair across rekeys: traffic before, during and after a new handshake arrives, and
// packets in flight under the previous session still open (protocol notes, "Sessions").
#include <doctest/doctest.h>

#include "tests/unit/engine/device_harness.hpp"

using namespace ringtun;
using namespace ringtun::test;

TEST_CASE("rekey: packets in flight under the old session arrive after the switch") {
    DevicePair p;
    p.establish();
    p.advance(seconds_ns(11));
    p.clear_records();
    const std::uint32_t a_old = p.a.peer->current->local_index();
    const std::uint32_t b_old = p.b.peer->current->local_index();
    p.advance_to(p.a.peer->current->created() + crypto::rekey_after_time + seconds_ns(1));
    p.auto_deliver = false;

    // A's packet triggers the rekey; B's packet is on its way under the old keys.
    CHECK(p.send_tun(p.a, a_to_b(1)));
    REQUIRE(p.a.tx.queue.size() == 2);
    CHECK(p.a.tx.queue[0].type() == 1);
    const Datagram a_old_data = p.a.tx.queue[1];
    p.a.tx.queue.pop_back();
    const Datagram b_old_data = p.seal_now(p.b, b_to_a(1));

    p.deliver_one(p.a);  // initiation → B: new keys wait in B's next
    REQUIRE(p.b.peer->next.has_value());
    CHECK(p.b.peer->current->local_index() == b_old);
    p.deliver_one(p.b);  // response → A: A switches, and confirms with a keepalive
    CHECK(p.a.peer->current->local_index() != a_old);
    REQUIRE(p.a.peer->previous.has_value());
    CHECK(p.a.peer->previous->local_index() == a_old);
    REQUIRE(p.a.tx.queue.size() == 1);
    CHECK(p.a.tx.queue.front().is_keepalive());

    // B's old-session packet reaches A after A switched: previous opens it.
    REQUIRE(p.inject(p.a, b_old_data.bytes, p.b.addr));
    CHECK(packet_id(p.a.tun.back()) == 1);
    // A's old-session packet reaches B before B's confirmation: current opens it.
    REQUIRE(p.inject(p.b, a_old_data.bytes, p.a.addr));
    CHECK(packet_id(p.b.tun.back()) == 1);

    // A sends under the new keys while B has not yet seen the keepalive: B's next opens it
    // and is promoted by it.
    const Datagram a_new_data = p.seal_now(p.a, a_to_b(2));
    REQUIRE(p.inject(p.b, a_new_data.bytes, p.a.addr));
    CHECK(packet_id(p.b.tun.back()) == 2);
    REQUIRE(p.b.peer->current.has_value());
    CHECK(p.b.peer->current->local_index() != b_old);
    REQUIRE(p.b.peer->previous.has_value());
    CHECK(p.b.peer->previous->local_index() == b_old);
    CHECK_FALSE(p.b.peer->next.has_value());
    p.deliver_all();  // the keepalive, now just an ordinary one

    // The replay of an old-session packet is refused, the session is still there.
    CHECK_FALSE(p.inject(p.b, a_old_data.bytes, p.a.addr));
    CHECK(p.b.drops(Drop::replayed_counter) == 1);

    // After: both directions under the new session.
    CHECK(p.send_tun(p.a, a_to_b(3)));
    CHECK(p.send_tun(p.b, b_to_a(3)));
    p.deliver_all();
    CHECK(packet_id(p.b.tun.back()) == 3);
    CHECK(packet_id(p.a.tun.back()) == 3);
    CHECK(p.a.total_drops() == 0);
    CHECK(p.b.total_drops() == 1);
}

TEST_CASE("rekey: an old-session packet sealed before the rekey opens after B confirms") {
    DevicePair p;
    p.establish();
    const Datagram early = p.seal_now(p.a, a_to_b(1));  // under the first session
    p.send_tun(p.b, b_to_a(0));
    p.deliver_all();
    p.advance_to(p.a.peer->current->created() + crypto::rekey_after_time);
    p.send_tun(p.a, a_to_b(2));
    p.deliver_all();  // rekey complete, B confirmed by A's keepalive
    REQUIRE(p.b.peer->previous.has_value());
    p.b.tun.clear();
    REQUIRE(p.inject(p.b, early.bytes, p.a.addr));
    CHECK(packet_id(p.b.tun.back()) == 1);

    // The responder drops its previous session as soon as the next handshake's keys arrive
    // (kernel add_new_keypair): that session's packets are then unknown.
    p.advance_to(p.a.peer->current->created() + crypto::rekey_after_time);
    p.auto_deliver = false;
    p.send_tun(p.a, a_to_b(3));
    p.deliver_one(p.a);  // the initiation
    REQUIRE(p.b.peer->next.has_value());
    CHECK_FALSE(p.b.peer->previous.has_value());
    CHECK_FALSE(p.inject(p.b, early.bytes, p.a.addr));
    CHECK(p.b.drops(Drop::unknown_index) == 1);
    p.deliver_all();
    CHECK(packet_id(p.b.tun.back()) == 3);
}

TEST_CASE("rekey: past 2^60 messages either side rekeys; at the limit a session is not used") {
    DevicePair p;
    p.establish();
    p.b.peer->current->set_send_counter(crypto::rekey_after_messages + 1);
    CHECK(p.send_tun(p.b, b_to_a(1)));  // the responder too: this limit is not about age
    CHECK(count_type(p.b.tx.log, 1) == 1);
    p.deliver_all();
    REQUIRE(p.a.tun.size() == 1);
    CHECK(p.b.peer->current->initiator());
    CHECK(p.b.peer->current->send_counter() < 2);

    p.a.peer->current->set_send_counter(crypto::reject_after_messages);
    CHECK(p.a.peer->sending_session(p.now.boot) == nullptr);
    p.advance(seconds_ns(6));  // past the 5 s initiation limit
    CHECK_FALSE(p.send_tun(p.a, a_to_b(2)));
    CHECK(p.a.peer->staged.size() == 1);
    CHECK(count_type(p.a.tx.log, 1) == 1);
    p.deliver_all();
    REQUIRE(p.b.tun.size() == 1);
    CHECK(packet_id(p.b.tun[0]) == 2);
    CHECK(p.a.total_drops() == 0);
    CHECK(p.b.total_drops() == 0);
}

TEST_CASE("rekey: steady traffic both ways for 600 s loses nothing") {
    DevicePair p;
    p.establish();
    const Nanos t0 = p.now.boot;
    std::uint32_t next_id = 0;
    for (int tick = 1; tick < 1200; ++tick) {
        p.advance_to(t0 + static_cast<Nanos>(tick) * millis_ns(500));
        p.send_tun(p.a, a_to_b(next_id));
        p.send_tun(p.b, b_to_a(next_id));
        ++next_id;
        p.deliver_all();
    }
    REQUIRE(p.b.tun.size() == next_id);
    REQUIRE(p.a.tun.size() == next_id);
    bool in_order = true;
    for (std::uint32_t i = 0; i < next_id; ++i)
        in_order = in_order && packet_id(p.b.tun[i]) == i && packet_id(p.a.tun[i]) == i;
    CHECK(in_order);
    CHECK(p.a.total_drops() == 0);
    CHECK(p.b.total_drops() == 0);
    // The first handshake, then a rekey by A at 120, 240, 360 and 480 s; B never initiates.
    CHECK(p.a.counters().handshakes_initiated == 5);
    CHECK(p.b.counters().handshakes_initiated == 0);
    CHECK(p.a.counters().handshakes_completed == 5);
    CHECK(p.b.counters().handshakes_completed == 5);
    CHECK(p.a.counters().keepalives_sent == 4);  // each rekey's confirmation
    CHECK(p.b.counters().keepalives_sent == 0);
    CHECK(p.a.lost.empty());
    CHECK(p.b.lost.empty());
}

TEST_CASE("rekey: first packets from both sides at once resolve with one retry") {
    DevicePair p;
    const Nanos t0 = p.now.boot;
    p.send_tun(p.a, a_to_b(1));
    p.send_tun(p.b, b_to_a(1));
    p.deliver_all();
    // The initiations cross: each side answers the other's, which replaces its own handshake,
    // so both responses find no handshake waiting.
    CHECK(p.a.drops(Drop::unknown_index) == 1);
    CHECK(p.b.drops(Drop::unknown_index) == 1);
    CHECK(p.a.tun.empty());
    CHECK(p.b.tun.empty());
    p.advance_to(t0 + crypto::rekey_timeout + daemon::rekey_timeout_jitter_max);
    REQUIRE(p.a.tun.size() == 1);
    REQUIRE(p.b.tun.size() == 1);
    CHECK(packet_id(p.a.tun[0]) == 1);
    CHECK(packet_id(p.b.tun[0]) == 1);
    CHECK(p.a.peer->current.has_value());
    CHECK(p.b.peer->current.has_value());
    CHECK_FALSE(p.a.peer->timers.armed(daemon::Timer::retransmit_handshake));
    CHECK_FALSE(p.b.peer->timers.armed(daemon::Timer::retransmit_handshake));
    CHECK(p.a.total_drops() == 1);
    CHECK(p.b.total_drops() == 1);
}
