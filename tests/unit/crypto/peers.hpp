// Two in-memory WireGuard endpoints for protocol tests: identities, per-peer handshakes,
// cookie state, and helpers that run a full handshake and move data between them.
#pragma once

#include <doctest/doctest.h>

#include <cstring>
#include <optional>
#include <vector>

#include "crypto/cookie.hpp"
#include "crypto/noise.hpp"
#include "crypto/session.hpp"
#include "crypto/transport.hpp"
#include "crypto/x25519.hpp"

namespace ringtun::test {

using namespace ringtun::crypto;

// One side of the pair: our identity and our view of the other side.
struct Endpoint {
    Identity identity;
    CookieChecker checker;
    CookieMaker maker;
    Handshake handshake;

    Endpoint(const PrivateKey& priv, const PublicKey& remote, const SymmetricKey& psk)
        : identity(Identity::create(priv)),
          checker(identity),
          maker(remote),
          handshake(identity, remote, psk) {}
};

struct PeerPair {
    SystemRng rng;
    PrivateKey a_priv = generate_private_key(rng);
    PrivateKey b_priv = generate_private_key(rng);
    Endpoint a;
    Endpoint b;
    Nanos now = seconds_ns(1000);                          // monotonic
    std::uint64_t wall_ns = 1'700'000'000'000'000'000ULL;  // Unix time
    std::uint32_t next_index = 100;

    explicit PeerPair(const SymmetricKey& psk = {})
        : a(a_priv, derive_public_key(b_priv), psk), b(b_priv, derive_public_key(a_priv), psk) {}

    void advance(Nanos d) {
        now += d;
        wall_ns += d;
    }

    MessageInitiation initiation(Endpoint& from) {
        MessageInitiation m;
        PrivateKey e = generate_private_key(rng);
        REQUIRE(from.handshake.create_initiation(m, e, next_index++,
                                                 tai64n_from_unix_ns(wall_ns)) == Reject::none);
        from.maker.add_macs(message_bytes(m), now);
        return m;
    }

    // Responder side of message 1: mac1, phase 1, phase 2.
    Reject receive_initiation(Endpoint& to, const MessageInitiation& m) {
        if (!to.checker.mac1_valid(message_bytes(m))) return Reject::invalid_mac1;
        InitiationStage stage;
        if (Reject r = open_initiation(to.identity, m, stage); r != Reject::none) return r;
        if (!(stage.remote_static == to.handshake.remote_static())) return Reject::unknown_peer;
        return to.handshake.consume_initiation(stage, now);
    }

    MessageResponse response(Endpoint& from) {
        MessageResponse m;
        PrivateKey e = generate_private_key(rng);
        REQUIRE(from.handshake.create_response(m, e, next_index++) == Reject::none);
        from.maker.add_macs(message_bytes(m), now);
        return m;
    }

    Reject receive_response(Endpoint& to, const MessageResponse& m) {
        if (!to.checker.mac1_valid(message_bytes(m))) return Reject::invalid_mac1;
        return to.handshake.consume_response(m);
    }

    struct Sessions {
        Session initiator;
        Session responder;
    };

    // A full handshake, `i` initiating to `r`; returns both sessions.
    Sessions handshake(Endpoint& i, Endpoint& r) {
        MessageInitiation m1 = initiation(i);
        REQUIRE(receive_initiation(r, m1) == Reject::none);
        MessageResponse m2 = response(r);
        REQUIRE(receive_response(i, m2) == Reject::none);
        auto ki = i.handshake.derive_session_keys();
        auto kr = r.handshake.derive_session_keys();
        REQUIRE(ki);
        REQUIRE(kr);
        CHECK(ki->initiator);
        CHECK_FALSE(kr->initiator);
        CHECK(ki->send == kr->receive);
        CHECK(ki->receive == kr->send);
        CHECK(ki->remote_index == kr->local_index);
        CHECK(kr->remote_index == ki->local_index);
        CHECK(i.handshake.state() == HandshakeState::zeroed);
        CHECK(r.handshake.state() == HandshakeState::zeroed);
        auto si = Session::create(*ki, now);
        auto sr = Session::create(*kr, now);
        REQUIRE(si);
        REQUIRE(sr);
        return {std::move(*si), std::move(*sr)};
    }
};

// An IPv4 packet of `total` bytes (header + payload filled with `fill`).
inline std::vector<std::uint8_t> ipv4_packet(std::size_t total, std::uint8_t fill) {
    std::vector<std::uint8_t> p(total, fill);
    p[0] = 0x45;
    p[2] = static_cast<std::uint8_t>(total >> 8);
    p[3] = static_cast<std::uint8_t>(total);
    return p;
}

// Seals `packet` into a fresh message buffer; returns the wire message.
inline std::vector<std::uint8_t> seal(Session& s, const std::vector<std::uint8_t>& packet,
                                      std::size_t mtu = 1420) {
    std::vector<std::uint8_t> buf(sealed_length(packet.size(), mtu));
    if (!packet.empty()) std::memcpy(buf.data() + data_header_len, packet.data(), packet.size());
    SealResult r = seal_data(s, buf, packet.size(), mtu);
    REQUIRE(r.reject == Reject::none);
    buf.resize(r.length);
    return buf;
}

}  // namespace ringtun::test
