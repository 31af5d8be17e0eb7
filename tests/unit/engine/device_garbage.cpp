// Device pair fed garbage from the network and the TUN: every message lands in exactly one
// drop counter, nothing is answered or written to the TUN, and the tunnel keeps working.
#include <doctest/doctest.h>

#include "crypto/cookie.hpp"
#include "crypto/noise.hpp"
#include "crypto/transport.hpp"
#include "tests/unit/engine/device_harness.hpp"

using namespace ringtun;
using namespace ringtun::test;

namespace {

const Endpoint attacker = endpoint4("10.99.0.66", 666);

Bytes random_bytes(TestRng& rng, std::size_t n) {
    Bytes b(n);
    rng.fill(b);
    return b;
}

// A message of `type` with zero reserved bytes and random content.
Bytes random_message(TestRng& rng, std::uint8_t type, std::size_t n) {
    Bytes b = random_bytes(rng, n);
    b[0] = type;
    b[1] = b[2] = b[3] = 0;
    return b;
}

void set_u32(Bytes& b, std::size_t at, std::uint32_t v) {
    std::memcpy(b.data() + at, &v, 4);
}

// Injects `message` into `to` and checks it was dropped as `reason`, silently.
void expect_drop(DevicePair& p, Side& to, Bytes message, Drop reason) {
    CAPTURE(daemon::to_string(reason));
    CAPTURE(message.size());
    const auto before = to.drops(reason);
    const auto total = to.total_drops();
    const auto sent = to.tx.log.size();
    CHECK_FALSE(p.inject(to, std::move(message), attacker));
    CHECK(to.drops(reason) == before + 1);
    CHECK(to.total_drops() == total + 1);
    CHECK(to.tx.log.size() == sent);
}

// One packet each way must still arrive.
void check_tunnel(DevicePair& p, std::uint32_t id) {
    p.a.tun.clear();
    p.b.tun.clear();
    p.send_tun(p.a, a_to_b(id));
    p.send_tun(p.b, b_to_a(id));
    p.deliver_all();
    REQUIRE(p.a.tun.size() == 1);
    REQUIRE(p.b.tun.size() == 1);
    CHECK(packet_id(p.a.tun[0]) == id);
    CHECK(packet_id(p.b.tun[0]) == id);
}

}  // namespace

TEST_CASE("garbage: malformed messages of every type and length") {
    DevicePair p;
    p.establish();
    TestRng rng(7);
    expect_drop(p, p.b, {}, Drop::malformed);
    for (std::size_t n = 1; n < 4; ++n)
        expect_drop(p, p.b, Bytes(n, 1), Drop::malformed);
    const std::pair<std::uint8_t, std::size_t> wrong[] = {
        {1, 147}, {1, 149}, {1, 92}, {2, 91},  {2, 93}, {2, 148},  {3, 63}, {3, 65},
        {3, 32},  {4, 31},  {4, 16}, {0, 148}, {5, 92}, {255, 64}, {0, 32}};
    for (auto [type, n] : wrong)
        expect_drop(p, p.b, random_message(rng, type, n), Drop::malformed);
    // Right type and length, but nonzero reserved bytes.
    for (std::size_t at = 1; at < 4; ++at) {
        Bytes m = random_message(rng, 4, 64);
        m[at] = 1;
        expect_drop(p, p.b, m, Drop::malformed);
    }
    // Random bytes whose reserved bytes are never all zero.
    for (int i = 0; i < 200; ++i) {
        Bytes m = random_bytes(rng, 4 + static_cast<std::size_t>(rng.next() % 300));
        m[2] |= 0x40;
        expect_drop(p, p.a, m, Drop::malformed);
    }
    CHECK(p.b.total_drops() == 4 + 15 + 3);
    check_tunnel(p, 1);
}

TEST_CASE("garbage: right lengths, random content") {
    DevicePair p;
    p.establish();
    TestRng rng(8);
    const std::uint32_t known[] = {p.a.peer->current->local_index(),
                                   p.b.peer->current->local_index()};
    auto unknown_index = [&] {
        for (int tries = 0; tries < 100; ++tries) {
            const auto v = static_cast<std::uint32_t>(rng.next());
            if (v != known[0] && v != known[1]) return v;
        }
        FAIL("no unknown index");
        return std::uint32_t{0};
    };
    for (int i = 0; i < 20; ++i) {
        expect_drop(p, p.b, random_message(rng, 1, 148), Drop::invalid_mac1);
        expect_drop(p, p.a, random_message(rng, 2, 92), Drop::invalid_mac1);
        Bytes cookie = random_message(rng, 3, 64);
        set_u32(cookie, 4, unknown_index());
        expect_drop(p, p.a, cookie, Drop::unknown_index);
        Bytes data = random_message(rng, 4, 32 + 16 * (rng.next() % 10));
        set_u32(data, 4, unknown_index());
        expect_drop(p, p.b, data, Drop::unknown_index);
        // Known indices, content that does not authenticate.
        Bytes forged = random_message(rng, 4, 32 + 16 * (rng.next() % 10));
        set_u32(forged, 4, known[1]);
        expect_drop(p, p.b, forged, Drop::decrypt_failed);
        Bytes forged_cookie = random_message(rng, 3, 64);
        set_u32(forged_cookie, 4, known[0]);
        expect_drop(p, p.a, forged_cookie, Drop::decrypt_failed);
    }
    check_tunnel(p, 2);
}

TEST_CASE("garbage: handshake messages with a valid mac1 but nothing behind it") {
    DevicePair p;
    p.send_tun(p.a, a_to_b(0));
    const Bytes first_initiation = p.a.tx.queue.front().bytes;
    p.deliver_all();
    REQUIRE(p.b.tun.size() == 1);
    TestRng rng(9);
    crypto::CookieMaker to_b(p.b.dev().identity().public_key);
    crypto::CookieMaker to_a(p.a.dev().identity().public_key);

    Bytes init = random_message(rng, 1, 148);
    to_b.add_macs(init, p.now.boot);
    expect_drop(p, p.b, init, Drop::decrypt_failed);

    Bytes response = random_message(rng, 2, 92);
    set_u32(response, 8, 0x0badf00d);
    to_a.add_macs(response, p.now.boot);
    expect_drop(p, p.a, response, Drop::unknown_index);
    // Addressed to a live session's index: no handshake is waiting for a response.
    Bytes stray = random_message(rng, 2, 92);
    set_u32(stray, 8, p.a.peer->current->local_index());
    to_a.add_macs(stray, p.now.boot);
    expect_drop(p, p.a, stray, Drop::unexpected_message);

    // A well-formed initiation from a key B does not know.
    TestRng key_rng(31337);
    crypto::Identity stranger = crypto::Identity::create(crypto::generate_private_key(key_rng));
    crypto::Handshake hs(stranger, p.b.dev().identity().public_key, crypto::SymmetricKey{});
    crypto::MessageInitiation m;
    REQUIRE(hs.create_initiation(m, crypto::generate_private_key(key_rng), 5,
                                 crypto::tai64n_from_unix_ns(p.now.unix_ns)) ==
            crypto::Reject::none);
    to_b.add_macs(crypto::message_bytes(m), p.now.boot);
    const auto mb = crypto::message_bytes(m);
    expect_drop(p, p.b, Bytes(mb.begin(), mb.end()), Drop::unknown_peer);

    // A genuine initiation, replayed.
    expect_drop(p, p.b, first_initiation, Drop::replayed_timestamp);
    check_tunnel(p, 3);
}

TEST_CASE("garbage: replayed and malformed data under a live session") {
    DevicePair p;
    p.establish();
    const Datagram d = p.seal_now(p.a, a_to_b(1));
    REQUIRE(p.inject(p.b, d.bytes, p.a.addr));
    expect_drop(p, p.b, d.bytes, Drop::replayed_counter);

    // Authentic, but the plaintext is not an IP packet.
    Bytes buf(crypto::sealed_length(48, p.opts.mtu));
    std::fill(buf.begin() + crypto::data_header_len, buf.end(), std::uint8_t{0x11});
    const auto sealed = crypto::seal_data(*p.a.peer->current, buf, 48, p.opts.mtu);
    REQUIRE(sealed.reject == crypto::Reject::none);
    buf.resize(sealed.length);
    expect_drop(p, p.b, buf, Drop::malformed_inner);
    check_tunnel(p, 4);
}

TEST_CASE("garbage: random TUN packets are sent or counted, one each") {
    DevicePair p;
    p.establish();
    TestRng rng(10);
    std::size_t sent = 0;
    const auto drops_before = p.a.total_drops();
    for (int i = 0; i < 300; ++i) {
        Bytes packet = random_bytes(rng, rng.next() % (p.opts.mtu + 1));
        if (i % 3 == 0 && packet.size() >= 40) packet[0] = (i % 2) ? 0x45 : 0x60;
        if (p.send_tun(p.a, packet)) ++sent;
    }
    CHECK(p.a.total_drops() - drops_before + sent == 300);
    CHECK(p.a.peer->staged.empty());
    p.a.tx.queue.clear();
    check_tunnel(p, 5);
}

TEST_CASE(
    "garbage: a TUN read cut short (the TUN's MTU raised above ours) is dropped and counted") {
    // Raising the TUN's MTU with `ip link` above the configured one makes reads of longer
    // packets stop at our buffer's end: the IP header then claims more than was read. Sealing
    // the stump would have the receiver drop it as malformed_inner, and count nothing here.
    DevicePair p;
    p.establish();
    Bytes cut = a_to_b(1, 3000);
    cut.resize(p.opts.mtu);  // what the read returned
    const std::size_t sent_before = p.a.tx.log.size();
    CHECK_FALSE(p.send_tun(p.a, cut));
    CHECK(p.a.drops(Drop::tun_oversized) == 1);
    CHECK(p.a.tx.log.size() == sent_before);
    Bytes cut6 = ipv6("fd00::1", "fd00::2", 2, 2000);
    cut6.resize(p.opts.mtu);
    CHECK_FALSE(p.send_tun(p.a, cut6));
    CHECK(p.a.drops(Drop::tun_oversized) == 2);
    // A whole packet still goes.
    CHECK(p.send_tun(p.a, a_to_b(3, p.opts.mtu)));
}
