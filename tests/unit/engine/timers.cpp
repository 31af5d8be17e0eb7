// Timers alone: what each hook does to the deadlines, and what take_expired() reports.
#include "daemon/engine/timers.hpp"

#include <doctest/doctest.h>

using namespace ringtun;
using crypto::Nanos;
using crypto::seconds_ns;
using daemon::no_deadline;
using daemon::Timer;
using daemon::Timers;

namespace {

constexpr Nanos t0 = seconds_ns(1000);

unsigned bit(Timer t) {
    return static_cast<unsigned>(t);
}

// The deadline of the only armed timer, found through take_expired() on a copy.
Nanos deadline_of(const Timers& timers, Timer t) {
    REQUIRE(timers.armed(t));
    Timers copy = timers;
    const Nanos d = timers.next_deadline();
    CHECK((copy.take_expired(d) & bit(t)) != 0);
    return d;
}

}  // namespace

TEST_CASE("timers unit: nothing is armed at first") {
    Timers t;
    CHECK(t.next_deadline() == no_deadline);
    CHECK(t.take_expired(no_deadline - 1) == 0);
    for (Timer k : {Timer::retransmit_handshake, Timer::send_keepalive, Timer::new_handshake,
                    Timer::zero_key_material, Timer::persistent_keepalive})
        CHECK_FALSE(t.armed(k));
    CHECK(t.handshake_attempts() == 0);
}

TEST_CASE("timers unit: data sent arms new_handshake once, at 15 s + jitter") {
    Timers t;
    t.on_data_sent(t0, 7);
    CHECK(deadline_of(t, Timer::new_handshake) == t0 + seconds_ns(15) + 7);
    t.on_data_sent(t0 + seconds_ns(3), 9);  // already pending: unchanged
    CHECK(deadline_of(t, Timer::new_handshake) == t0 + seconds_ns(15) + 7);
    CHECK(t.take_expired(t0 + seconds_ns(15) + 6) == 0);
    CHECK(t.take_expired(t0 + seconds_ns(15) + 7) == bit(Timer::new_handshake));
    CHECK_FALSE(t.armed(Timer::new_handshake));
    CHECK(t.take_expired(t0 + seconds_ns(100)) == 0);  // fires once
}

TEST_CASE("timers unit: any authenticated packet received cancels new_handshake") {
    Timers t;
    t.on_data_sent(t0, 0);
    t.on_authenticated_packet_received();
    CHECK_FALSE(t.armed(Timer::new_handshake));
    t.on_data_sent(t0 + seconds_ns(1), 0);  // and the next data arms it afresh
    CHECK(deadline_of(t, Timer::new_handshake) == t0 + seconds_ns(16));
}

TEST_CASE("timers unit: data received arms send_keepalive at 10 s; more data owes another") {
    Timers t;
    t.on_data_received(t0);
    CHECK(deadline_of(t, Timer::send_keepalive) == t0 + seconds_ns(10));
    CHECK_FALSE(t.take_need_another_keepalive());
    t.on_data_received(t0 + seconds_ns(4));
    CHECK(deadline_of(t, Timer::send_keepalive) == t0 + seconds_ns(10));  // not pushed back
    CHECK(t.take_need_another_keepalive());
    CHECK_FALSE(t.take_need_another_keepalive());  // taken
    t.rearm_send_keepalive(t0 + seconds_ns(10));
    CHECK(deadline_of(t, Timer::send_keepalive) == t0 + seconds_ns(20));
    t.stop_send_keepalive();
    CHECK_FALSE(t.armed(Timer::send_keepalive));
}

TEST_CASE("timers unit: any authenticated packet sent cancels send_keepalive") {
    Timers t;
    t.on_data_received(t0);
    t.on_authenticated_packet_sent();
    CHECK_FALSE(t.armed(Timer::send_keepalive));
    CHECK(t.next_deadline() == no_deadline);
}

TEST_CASE("timers unit: traversal restarts the persistent keepalive only when configured") {
    Timers t;
    t.on_authenticated_packet_traversal(t0);
    CHECK_FALSE(t.armed(Timer::persistent_keepalive));
    t.set_persistent_keepalive(25);
    CHECK(t.persistent_keepalive() == 25);
    t.on_authenticated_packet_traversal(t0);
    CHECK(deadline_of(t, Timer::persistent_keepalive) == t0 + seconds_ns(25));
    t.on_authenticated_packet_traversal(t0 + seconds_ns(7));
    CHECK(deadline_of(t, Timer::persistent_keepalive) == t0 + seconds_ns(32));
    t.set_persistent_keepalive(0);
    t.on_authenticated_packet_traversal(t0 + seconds_ns(8));
    CHECK(deadline_of(t, Timer::persistent_keepalive) == t0 + seconds_ns(32));  // left as is
}

TEST_CASE("timers unit: initiation arms the retransmit at 5 s + jitter; completion stops it") {
    Timers t;
    t.on_handshake_initiated(t0, 333);
    CHECK(deadline_of(t, Timer::retransmit_handshake) == t0 + seconds_ns(5) + 333);
    t.on_handshake_initiated(t0 + seconds_ns(5), 1);  // a retry moves it
    CHECK(deadline_of(t, Timer::retransmit_handshake) == t0 + seconds_ns(10) + 1);
    t.count_handshake_attempt();
    t.count_handshake_attempt();
    CHECK(t.handshake_attempts() == 2);
    t.on_handshake_complete();
    CHECK_FALSE(t.armed(Timer::retransmit_handshake));
    CHECK(t.handshake_attempts() == 0);
    t.count_handshake_attempt();
    t.reset_handshake_attempts();
    CHECK(t.handshake_attempts() == 0);
}

TEST_CASE("timers unit: a derived session moves the key wipe to 540 s from now") {
    Timers t;
    t.on_session_derived(t0);
    CHECK(deadline_of(t, Timer::zero_key_material) == t0 + seconds_ns(540));
    t.on_session_derived(t0 + seconds_ns(120));
    CHECK(deadline_of(t, Timer::zero_key_material) == t0 + seconds_ns(660));
    t.arm_zero_key_material_if_idle(t0 + seconds_ns(200));  // armed: unchanged
    CHECK(deadline_of(t, Timer::zero_key_material) == t0 + seconds_ns(660));

    Timers idle;
    idle.arm_zero_key_material_if_idle(t0);
    CHECK(deadline_of(idle, Timer::zero_key_material) == t0 + seconds_ns(540));
}

TEST_CASE("timers unit: take_expired reports and disarms exactly the due timers") {
    Timers t;
    t.set_persistent_keepalive(12);
    t.on_handshake_initiated(t0, 0);          // t0 + 5
    t.on_data_received(t0);                   // t0 + 10
    t.on_authenticated_packet_traversal(t0);  // t0 + 12
    t.on_data_sent(t0, 0);                    // t0 + 15
    t.on_session_derived(t0);                 // t0 + 540
    CHECK(t.next_deadline() == t0 + seconds_ns(5));
    CHECK(t.take_expired(t0 + seconds_ns(12)) ==
          (bit(Timer::retransmit_handshake) | bit(Timer::send_keepalive) |
           bit(Timer::persistent_keepalive)));
    CHECK(t.next_deadline() == t0 + seconds_ns(15));
    CHECK(t.armed(Timer::new_handshake));
    CHECK(t.armed(Timer::zero_key_material));
    CHECK(t.take_expired(t0 + seconds_ns(539)) == bit(Timer::new_handshake));
    CHECK(t.take_expired(t0 + seconds_ns(540)) == bit(Timer::zero_key_material));
    CHECK(t.next_deadline() == no_deadline);
}

TEST_CASE("timers unit: stop_all disarms everything and forgets an owed keepalive") {
    Timers t;
    t.set_persistent_keepalive(5);
    t.on_handshake_initiated(t0, 0);
    t.on_data_received(t0);
    t.on_data_received(t0);
    t.on_authenticated_packet_traversal(t0);
    t.on_data_sent(t0, 0);
    t.on_session_derived(t0);
    t.stop_all();
    CHECK(t.next_deadline() == no_deadline);
    CHECK_FALSE(t.take_need_another_keepalive());
}
