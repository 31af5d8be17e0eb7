// Device pair: the first handshake, session confirmation, staging, and drops on the TUN side.
#include <doctest/doctest.h>

#include "tests/unit/engine/device_harness.hpp"

using namespace ringtun;
using namespace ringtun::test;

TEST_CASE("device: the first packet starts a handshake and then arrives intact") {
    DevicePair p;
    const Bytes packet = a_to_b(7);
    CHECK_FALSE(p.send_tun(p.a, packet));
    CHECK(p.a.peer->staged.size() == 1);
    REQUIRE(p.a.tx.queue.size() == 1);
    CHECK(p.a.tx.queue.front().type() == 1);
    CHECK(p.a.tx.queue.front().bytes.size() == sizeof(crypto::MessageInitiation));
    CHECK(p.a.tx.queue.front().to.same_address(p.b.addr));
    CHECK(p.a.counters().handshakes_initiated == 1);
    CHECK(p.a.counters().tun_rx_packets == 1);
    CHECK(p.a.counters().tun_rx_bytes == packet.size());

    REQUIRE(p.deliver_one(p.a));  // initiation → B
    REQUIRE(p.b.tx.queue.size() == 1);
    CHECK(p.b.tx.queue.front().type() == 2);
    CHECK(p.b.tx.queue.front().bytes.size() == sizeof(crypto::MessageResponse));
    // The responder's session waits in `next`: it may not send with it yet.
    REQUIRE(p.b.peer->next.has_value());
    CHECK_FALSE(p.b.peer->current.has_value());
    CHECK_FALSE(p.b.peer->next->initiator());
    CHECK(p.b.peer->sending_session(p.now.boot) == nullptr);
    CHECK(p.b.counters().handshakes_completed == 0);

    REQUIRE(p.deliver_one(p.b));  // response → A
    REQUIRE(p.a.peer->current.has_value());
    CHECK(p.a.peer->current->initiator());
    CHECK(p.a.counters().handshakes_completed == 1);
    CHECK(p.a.peer->staged.empty());
    // The staged packet itself confirms the session: no separate keepalive.
    REQUIRE(p.a.tx.queue.size() == 1);
    CHECK(p.a.tx.queue.front().is_data());
    CHECK(p.a.counters().keepalives_sent == 0);
    CHECK(p.b.peer->next.has_value());

    const std::uint32_t next_index = p.b.peer->next->local_index();
    REQUIRE(p.deliver_one(p.a));  // data → B
    REQUIRE(p.b.tun.size() == 1);
    CHECK(p.b.tun[0] == packet);
    REQUIRE(p.b.peer->current.has_value());
    CHECK(p.b.peer->current->local_index() == next_index);
    CHECK_FALSE(p.b.peer->next.has_value());
    CHECK_FALSE(p.b.peer->previous.has_value());
    CHECK(p.b.counters().handshakes_completed == 1);
    CHECK(p.b.counters().handshakes_initiated == 0);
    CHECK(p.b.counters().tun_tx_packets == 1);
    CHECK(p.b.counters().tun_tx_bytes == packet.size());
    CHECK(p.b.peer->endpoint->same_address(p.a.addr));
    CHECK(p.a.peer->current->remote_index() == p.b.peer->current->local_index());
    CHECK(p.b.peer->current->remote_index() == p.a.peer->current->local_index());
    CHECK(p.a.peer->last_handshake_unix_ns == p.now.unix_ns);
    CHECK(p.b.peer->last_handshake_unix_ns == p.now.unix_ns);

    // B → A goes out at once under the confirmed session.
    const Bytes back = b_to_a(8, 100);
    CHECK(p.send_tun(p.b, back));
    p.deliver_all();
    REQUIRE(p.a.tun.size() == 1);
    CHECK(p.a.tun[0] == back);

    // IPv6 both ways.
    const Bytes v6_ab = ipv6("fd00::1", "fd00::2", 9, 120);
    const Bytes v6_ba = ipv6("fd00::2", "fd00::1", 10, 333);
    CHECK(p.send_tun(p.a, v6_ab));
    CHECK(p.send_tun(p.b, v6_ba));
    p.deliver_all();
    REQUIRE(p.b.tun.size() == 2);
    CHECK(p.b.tun[1] == v6_ab);
    REQUIRE(p.a.tun.size() == 2);
    CHECK(p.a.tun[1] == v6_ba);

    CHECK(p.a.counters().handshakes_initiated == 1);
    CHECK(p.b.counters().handshakes_initiated == 0);
    CHECK(p.a.counters().tun_rx_packets == 2);
    CHECK(p.a.counters().tun_tx_packets == 2);
    CHECK(p.a.counters().tun_tx_bytes == back.size() + v6_ba.size());
    CHECK(p.b.counters().tun_rx_packets == 2);
    CHECK(p.b.counters().tun_tx_packets == 2);
    CHECK(p.a.total_drops() == 0);
    CHECK(p.b.total_drops() == 0);
    CHECK(p.a.lost.empty());
    CHECK(p.b.lost.empty());
}

TEST_CASE("device: sealed data is padded to 16 and carries the peer's index and counter") {
    DevicePair p;
    p.establish();
    const Datagram d = p.seal_now(p.a, a_to_b(1, 61));
    CHECK(d.bytes.size() == crypto::data_overhead + 64);
    std::uint32_t receiver = 0;
    std::uint64_t counter = 0;
    std::memcpy(&receiver, d.bytes.data() + 4, 4);
    std::memcpy(&counter, d.bytes.data() + 8, 8);
    CHECK(receiver == p.b.peer->current->local_index());
    CHECK(counter == 1);  // the staged packet of establish() was 0
    CHECK(p.a.peer->tx_bytes > 0);
}

TEST_CASE("device: a keepalive from the initiator confirms the responder's session") {
    DevicePair p(PairOptions().a_keeps_alive(25));
    p.a.start(p.now);  // no traffic: a handshake at once, then the staged keepalive
    REQUIRE(count_type(p.a.tx.log, 1) == 1);
    p.deliver_one(p.a);
    p.deliver_one(p.b);
    REQUIRE(p.a.tx.queue.size() == 1);
    CHECK(p.a.tx.queue.front().is_keepalive());
    CHECK(p.a.counters().keepalives_sent == 1);
    REQUIRE(p.b.peer->next.has_value());
    p.deliver_one(p.a);
    CHECK(p.b.peer->current.has_value());
    CHECK_FALSE(p.b.peer->next.has_value());
    CHECK(p.b.counters().handshakes_completed == 1);
    CHECK(p.b.tun.empty());
    CHECK(p.b.counters().tun_tx_packets == 0);
    CHECK(p.b.total_drops() == 0);
}

TEST_CASE("device: start() does nothing for peers without keepalive or endpoint") {
    DevicePair quiet;
    quiet.a.start(quiet.now);
    CHECK(quiet.a.tx.log.empty());
    DevicePair no_endpoint(PairOptions().a_keeps_alive(25).a_unaware_of_b());
    no_endpoint.a.start(no_endpoint.now);
    CHECK(no_endpoint.a.tx.log.empty());
}

TEST_CASE("device: the responder learns the initiator's endpoint from its initiation") {
    DevicePair p(PairOptions().b_unaware_of_a());
    CHECK_FALSE(p.send_tun(p.b, b_to_a(1)));
    CHECK(p.b.drops(Drop::no_endpoint) == 1);
    CHECK(p.b.tx.log.empty());
    CHECK(p.b.peer->staged.empty());

    p.send_tun(p.a, a_to_b(2));
    p.deliver_all();
    REQUIRE(p.b.peer->endpoint.has_value());
    CHECK(p.b.peer->endpoint->same_address(p.a.addr));
    CHECK(p.send_tun(p.b, b_to_a(3)));
    p.deliver_all();
    REQUIRE(p.a.tun.size() == 1);
    CHECK(packet_id(p.a.tun[0]) == 3);
}

TEST_CASE("device: 130 packets before the response keep the newest 128, in order") {
    DevicePair p;
    for (std::uint32_t id = 0; id < 130; ++id)
        CHECK_FALSE(p.send_tun(p.a, a_to_b(id, 60 + id)));
    CHECK(p.a.peer->staged.size() == daemon::StagedPackets::capacity);
    CHECK(p.a.drops(Drop::staged_overflow) == 2);
    CHECK(count_type(p.a.tx.log, 1) == 1);  // one initiation for all of them
    CHECK(p.a.counters().tun_rx_packets == 130);

    p.deliver_all();
    REQUIRE(p.b.tun.size() == 128);
    for (std::uint32_t i = 0; i < 128; ++i)
        CHECK(p.b.tun[i] == a_to_b(i + 2, 62 + i));
    CHECK(p.a.peer->staged.empty());
    CHECK(p.a.total_drops() == 2);
    CHECK(p.b.total_drops() == 0);
}

TEST_CASE("device: packets sent while others are staged queue behind them") {
    DevicePair p;
    p.send_tun(p.a, a_to_b(1));
    p.deliver_one(p.a);  // initiation → B; B's response still queued
    p.send_tun(p.a, a_to_b(2));
    CHECK(p.a.peer->staged.size() == 2);
    p.deliver_all();
    REQUIRE(p.b.tun.size() == 2);
    CHECK(packet_id(p.b.tun[0]) == 1);
    CHECK(packet_id(p.b.tun[1]) == 2);
}

TEST_CASE("device: TUN packets with no route, no endpoint or no IP header are counted drops") {
    DevicePair p;
    CHECK_FALSE(p.send_tun(p.a, ipv4("10.100.0.1", "10.100.0.77", 1)));
    CHECK_FALSE(p.send_tun(p.a, ipv6("fd00::1", "fd00::77", 2)));
    CHECK(p.a.drops(Drop::no_route) == 2);

    Bytes v4_short = a_to_b(3);
    v4_short.resize(19);
    Bytes v6_short = ipv6("fd00::1", "fd00::2", 4);
    v6_short.resize(39);
    Bytes version5 = a_to_b(5);
    version5[0] = 0x55;
    CHECK_FALSE(p.send_tun(p.a, {}));
    CHECK_FALSE(p.send_tun(p.a, v4_short));
    CHECK_FALSE(p.send_tun(p.a, v6_short));
    CHECK_FALSE(p.send_tun(p.a, version5));
    CHECK(p.a.drops(Drop::tun_malformed) == 4);
    CHECK(p.a.counters().tun_rx_packets == 6);
    CHECK(p.a.total_drops() == 6);
    CHECK(p.a.tx.log.empty());
    CHECK(p.a.peer->staged.empty());

    DevicePair unknown(PairOptions().a_unaware_of_b());
    CHECK_FALSE(unknown.send_tun(unknown.a, a_to_b(6)));
    CHECK(unknown.a.drops(Drop::no_endpoint) == 1);
    CHECK(unknown.a.tx.log.empty());
    CHECK(unknown.a.peer->staged.empty());
}

TEST_CASE("device: a TUN packet longer than the MTU is tun_oversized, staged or not") {
    DevicePair p;
    const Bytes big = a_to_b(1, p.opts.mtu + 1);
    CHECK_FALSE(p.send_tun(p.a, big));
    CHECK(p.a.drops(Drop::tun_oversized) == 1);
    CHECK(p.a.peer->staged.empty());

    p.establish();
    CHECK_FALSE(p.send_tun(p.a, big));
    CHECK(p.a.drops(Drop::tun_oversized) == 2);
    CHECK(p.a.drops(Drop::internal_error) == 0);
    // A packet of exactly the MTU still goes.
    CHECK(p.send_tun(p.a, a_to_b(2, p.opts.mtu)));
    p.deliver_all();
    REQUIRE(p.b.tun.size() == 1);
    CHECK(p.b.tun[0].size() == p.opts.mtu);
}

TEST_CASE("device: no transmit buffer drops the message and counts no_tx_buffer") {
    DevicePair p;
    p.establish();
    p.send_tun(p.b, b_to_a(1));
    p.deliver_all();  // A now owes B a keepalive in 10 s
    p.a.tx.fail_next = 1;
    p.advance(seconds_ns(10));
    CHECK(p.a.drops(Drop::no_tx_buffer) == 1);
    CHECK(p.a.counters().keepalives_sent == 0);
    CHECK(count_keepalives(p.a.tx.log) == 0);

    // Staged packets flushed while no buffer is free are dropped one by one.
    DevicePair q;
    q.send_tun(q.a, a_to_b(1));
    q.send_tun(q.a, a_to_b(2));
    q.deliver_one(q.a);
    q.a.tx.fail_next = 2;
    q.deliver_one(q.b);  // the response: A flushes two staged packets
    CHECK(q.a.drops(Drop::no_tx_buffer) == 2);
    CHECK(q.a.peer->staged.empty());
}

TEST_CASE("device: an initiation lost to no_tx_buffer is retried after REKEY_TIMEOUT") {
    DevicePair p;
    p.a.tx.fail_next = 1;
    CHECK_FALSE(p.send_tun(p.a, a_to_b(1)));
    CHECK(p.a.drops(Drop::no_tx_buffer) == 1);
    CHECK(p.a.tx.log.empty());
    // The staged packet must not wait for more traffic: the retransmit timer recovers it.
    p.advance(crypto::rekey_timeout + daemon::rekey_timeout_jitter_max);
    CHECK(count_type(p.a.tx.log, 1) == 1);
    REQUIRE(p.b.tun.size() == 1);
    CHECK(packet_id(p.b.tun[0]) == 1);
}

TEST_CASE("device: add_peer refuses our own key and a key already added") {
    DevicePair p;
    const crypto::SymmetricKey no_psk;
    CHECK(p.a.dev().add_peer(p.a.dev().identity().public_key, no_psk, 0, std::nullopt) == nullptr);
    CHECK(p.a.dev().add_peer(p.b.dev().identity().public_key, no_psk, 0, std::nullopt) == nullptr);
    CHECK(p.a.dev().peers().size() == 1);
    CHECK(p.a.dev().find_peer(p.b.dev().identity().public_key) == p.a.peer);
}
