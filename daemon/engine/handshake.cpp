// Handshakes (kernel noise.c, cookie.c and the handshake half of send.c/receive.c): admitting a
// handshake message under the cookie and load rules, answering initiations, completing on
// responses, consuming cookie replies, sending initiations, and turning a completed handshake
// into a session.
#include <algorithm>
#include <cstring>

#include "crypto/transport.hpp"
#include "crypto/x25519.hpp"
#include "daemon/engine/device.hpp"
#include "util/log.hpp"

namespace ringtun::daemon {

bool Device::handshake_admitted(std::span<std::uint8_t> message, const Endpoint& from,
                                const Now& now) noexcept {
    // Without a key (wg's all zero, before `wg setconf` gave one) there is no identity to
    // answer as: wireguard-go refuses every handshake then too.
    if (identity_.private_key.is_zero()) {
        counters_.drops.add(Drop::no_private_key);
        return false;
    }
    if (!cookie_checker_.mac1_valid(message)) {
        counters_.drops.add(Drop::invalid_mac1);
        return false;
    }
    if (!load_.count_and_check(now.boot)) return true;
    std::uint8_t src[18];
    const std::size_t src_len = from.source_bytes(src);
    if (!cookie_checker_.mac2_valid(message, {src, src_len}, now.boot, rng_)) {
        if (SinkLease out(sink_, sizeof(crypto::MessageCookieReply), TxClass::control); out) {
            crypto::MessageCookieReply reply;
            cookie_checker_.create_reply(reply, message, {src, src_len}, now.boot, rng_);
            std::memcpy(out.message().data(), &reply, sizeof reply);
            out.commit(from, sizeof reply);
            ++counters_.cookie_replies_sent;
        } else {
            counters_.drops.add(Drop::no_tx_buffer);
        }
        counters_.drops.add(Drop::under_load_cookie);
        return false;
    }
    // The limit is per source address, whatever the port.
    if (!source_limiter_.allow({src, src_len - 2}, now.boot)) {
        counters_.drops.add(Drop::rate_limited);
        return false;
    }
    return true;
}

Peer* Device::on_initiation(std::span<std::uint8_t> message, const Endpoint& from,
                            const Now& now) noexcept {
    const auto msg = crypto::read_message<crypto::MessageInitiation>(message);
    crypto::InitiationStage stage;
    if (crypto::Reject r = crypto::open_initiation(identity_, msg, stage);
        r != crypto::Reject::none) {
        counters_.drops.add(drop_from(r));
        return nullptr;
    }
    Peer* peer = find_peer(stage.remote_static);
    if (!peer) {
        counters_.drops.add(Drop::unknown_peer);
        return nullptr;
    }
    if (crypto::Reject r = peer->handshake.consume_initiation(stage, now.boot);
        r != crypto::Reject::none) {
        counters_.drops.add(drop_from(r));
        return nullptr;
    }
    update_endpoint(*peer, from);
    send_response(*peer, now);
    on_authenticated_receive(*peer, now);
    return peer;
}

void Device::send_response(Peer& peer, const Now& now) noexcept {
    SinkLease out(sink_, sizeof(crypto::MessageResponse), TxClass::control);
    if (!out) {
        counters_.drops.add(Drop::no_tx_buffer);
        return;
    }
    crypto::MessageResponse msg;
    const crypto::PrivateKey ephemeral = crypto::generate_private_key(rng_);
    const std::uint32_t index = peer.register_handshake_index(index_, rng_);
    if (crypto::Reject r = peer.handshake.create_response(msg, ephemeral, index);
        r != crypto::Reject::none) {
        counters_.drops.add(drop_from(r));
        return;
    }
    peer.cookies.add_macs(crypto::message_bytes(msg), now.boot);
    if (!begin_session(peer, now)) return;
    peer.timers.on_authenticated_packet_traversal(now.boot);
    peer.timers.on_authenticated_packet_sent();
    std::memcpy(out.message().data(), &msg, sizeof msg);
    out.commit(*peer.endpoint, sizeof msg);
    RT_LOG_DEBUG("%s: handshake response sent to %s (index %u)", peer.label().c_str(),
                 peer.endpoint->to_string().c_str(), index);
}

Peer* Device::on_response(std::span<std::uint8_t> message, const Endpoint& from,
                          const Now& now) noexcept {
    const auto msg = crypto::read_message<crypto::MessageResponse>(message);
    Peer** found = index_.lookup(msg.receiver);
    if (!found) {
        counters_.drops.add(Drop::unknown_index);
        return nullptr;
    }
    Peer& peer = **found;
    if (crypto::Reject r = peer.handshake.consume_response(msg); r != crypto::Reject::none) {
        counters_.drops.add(drop_from(r));
        return nullptr;
    }
    update_endpoint(peer, from);
    if (!begin_session(peer, now)) return &peer;  // authenticated, though OpenSSL failed us
    handshake_completed(peer, now, "initiator");
    // Receive-side timer updates first: the flush below arms timers that must survive them.
    on_authenticated_receive(peer, now);
    send_keepalive(peer, now);  // confirms the session to the responder, flushes staged
    return &peer;
}

void Device::on_cookie_reply(std::span<std::uint8_t> message, const Now& now) noexcept {
    const auto msg = crypto::read_message<crypto::MessageCookieReply>(message);
    Peer** found = index_.lookup(msg.receiver);
    if (!found) {
        counters_.drops.add(Drop::unknown_index);
        return;
    }
    if (crypto::Reject r = (*found)->cookies.consume_reply(msg, now.boot);
        r != crypto::Reject::none)
        counters_.drops.add(drop_from(r));
}

void Device::send_initiation(Peer& peer, const Now& now, bool is_retry,
                             bool fresh_connection) noexcept {
    if (!is_retry) peer.timers.reset_handshake_attempts();
    if (!fresh_connection && peer.last_initiation_sent &&
        now.boot - *peer.last_initiation_sent < crypto::rekey_timeout)
        return;
    if (!peer.endpoint || identity_.private_key.is_zero()) return;
    peer.last_initiation_sent = now.boot;
    if (peer.unanswered_since_unix_ns == 0) peer.unanswered_since_unix_ns = now.unix_ns;
    SinkLease out(sink_, sizeof(crypto::MessageInitiation), TxClass::control);
    if (!out) {
        // Count it as sent for the timers, so the retransmit timer tries again.
        counters_.drops.add(Drop::no_tx_buffer);
        peer.timers.on_handshake_initiated(now.boot, jitter());
        return;
    }
    crypto::MessageInitiation msg;
    const crypto::PrivateKey ephemeral = crypto::generate_private_key(rng_);
    const std::uint32_t index = peer.register_handshake_index(index_, rng_);
    const crypto::Reject r = peer.handshake.create_initiation(
        msg, ephemeral, index, crypto::tai64n_from_unix_ns(now.unix_ns));
    if (r != crypto::Reject::none) {
        counters_.drops.add(drop_from(r));
        return;
    }
    peer.cookies.add_macs(crypto::message_bytes(msg), now.boot);
    std::memcpy(out.message().data(), &msg, sizeof msg);
    peer.timers.on_authenticated_packet_traversal(now.boot);
    peer.timers.on_authenticated_packet_sent();
    out.commit(*peer.endpoint, sizeof msg);
    peer.timers.on_handshake_initiated(now.boot, jitter());
    ++counters_.handshakes_initiated;
    RT_LOG_DEBUG("%s: handshake initiation sent (index %u)", peer.label().c_str(), index);
}

bool Device::begin_session(Peer& peer, const Now& now) noexcept {
    auto keys = peer.handshake.derive_session_keys();
    auto session = keys ? crypto::Session::create(*keys, now.boot) : std::nullopt;
    // Out of keys or out of memory: the handshake's index stays the handshake's (removed at
    // the next one), as no session took it over.
    if (!session || !peer.install_session(std::move(*session), index_)) {
        counters_.drops.add(Drop::internal_error);
        return false;
    }
    peer.handshake_index_became_session();
    peer.timers.on_session_derived(now.boot);
    return true;
}

void Device::handshake_completed(Peer& peer, const Now& now, const char* role) noexcept {
    peer.timers.on_handshake_complete();
    peer.sent_lastminute_handshake = false;
    ++counters_.handshakes_completed;
    // The first handshake and a peer answering again are news; a rekey every two minutes is
    // routine.
    if (peer.reported_silent) {
        RT_LOG_NOTICE("%s: answering again after %llu s, endpoint %s", peer.label().c_str(),
                      static_cast<unsigned long long>(
                          (now.unix_ns - std::min(now.unix_ns, peer.unanswered_since_unix_ns)) /
                          1'000'000'000),
                      peer.endpoint->to_string().c_str());
    } else if (peer.last_handshake_unix_ns == 0) {
        RT_LOG_INFO("%s: handshake complete (%s), endpoint %s", peer.label().c_str(), role,
                    peer.endpoint->to_string().c_str());
    } else {
        RT_LOG_DEBUG("%s: handshake complete (%s), a rekey, endpoint %s", peer.label().c_str(),
                     role, peer.endpoint->to_string().c_str());
    }
    peer.reported_silent = false;
    peer.unanswered_since_unix_ns = 0;
    peer.last_handshake_unix_ns = now.unix_ns;
}

}  // namespace ringtun::daemon
