// network → TUN: handshake messages under the cookie/load rules, cookie replies, and data
// with session rotation, roaming and the inner-source check (kernel receive.c).
#include <cstring>

#include "crypto/transport.hpp"
#include "crypto/x25519.hpp"
#include "daemon/engine/device.hpp"
#include "util/log.hpp"

namespace ringtun::daemon {

namespace {

// Source address of a decrypted IP packet (already length-checked by open_data).
const std::uint8_t* source(std::span<const std::uint8_t> p, int& family) noexcept {
    if ((p[0] >> 4) == 4) {
        family = AF_INET;
        return p.data() + 12;
    }
    family = AF_INET6;
    return p.data() + 8;
}

}  // namespace

std::span<std::uint8_t> Device::on_network_packet(std::span<std::uint8_t> message,
                                                  const Endpoint& from, const Now& now) noexcept {
    last_authenticated_ = nullptr;
    const auto type = crypto::classify(message);
    if (!type) {
        counters_.drops.add(Drop::malformed);
        return {};
    }
    switch (*type) {
        case crypto::MessageType::initiation:
            if (handshake_admitted(message, from, now)) on_initiation(message, from, now);
            return {};
        case crypto::MessageType::response:
            if (handshake_admitted(message, from, now)) on_response(message, from, now);
            return {};
        case crypto::MessageType::cookie_reply:
            on_cookie_reply(message, now);
            return {};
        case crypto::MessageType::data:
            return on_data(message, from, now);
    }
    return {};
}

bool Device::handshake_admitted(std::span<std::uint8_t> message, const Endpoint& from,
                                const Now& now) noexcept {
    if (!cookie_checker_.mac1_valid(message)) {
        counters_.drops.add(Drop::invalid_mac1);
        return false;
    }
    if (!load_.count_and_check(now.mono)) return true;
    std::uint8_t src[18];
    const std::size_t src_len = from.source_bytes(src);
    if (!cookie_checker_.mac2_valid(message, {src, src_len}, now.mono, rng_)) {
        std::span<std::uint8_t> buf = tx_.acquire(sizeof(crypto::MessageCookieReply));
        if (!buf.empty()) {
            crypto::MessageCookieReply reply;
            cookie_checker_.create_reply(reply, message, {src, src_len}, now.mono, rng_);
            std::memcpy(buf.data(), &reply, sizeof reply);
            tx_.transmit(from, sizeof reply);
            ++counters_.cookie_replies_sent;
        } else {
            counters_.drops.add(Drop::no_tx_buffer);
        }
        counters_.drops.add(Drop::under_load_cookie);
        return false;
    }
    // The limit is per source address, whatever the port.
    if (!source_limiter_.allow({src, src_len - 2}, now.mono)) {
        counters_.drops.add(Drop::rate_limited);
        return false;
    }
    return true;
}

void Device::on_initiation(std::span<std::uint8_t> message, const Endpoint& from,
                           const Now& now) noexcept {
    const auto msg = crypto::read_message<crypto::MessageInitiation>(message);
    crypto::InitiationStage stage;
    if (crypto::Reject r = crypto::open_initiation(identity_, msg, stage);
        r != crypto::Reject::none) {
        counters_.drops.add(drop_from(r));
        return;
    }
    Peer* peer = find_peer(stage.remote_static);
    if (!peer) {
        counters_.drops.add(Drop::unknown_peer);
        return;
    }
    if (crypto::Reject r = peer->handshake.consume_initiation(stage, now.mono);
        r != crypto::Reject::none) {
        counters_.drops.add(drop_from(r));
        return;
    }
    update_endpoint(*peer, from);
    send_response(*peer, now);
    on_authenticated_receive(*peer, now);
}

void Device::send_response(Peer& peer, const Now& now) noexcept {
    std::span<std::uint8_t> buf = tx_.acquire(sizeof(crypto::MessageResponse));
    if (buf.empty()) {
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
    peer.cookies.add_macs(crypto::message_bytes(msg), now.mono);
    if (!begin_session(peer, now)) return;
    peer.timers.on_authenticated_packet_traversal(now.mono);
    peer.timers.on_authenticated_packet_sent();
    std::memcpy(buf.data(), &msg, sizeof msg);
    tx_.transmit(*peer.endpoint, sizeof msg);
    RT_LOG_DEBUG("%s: handshake response sent to %s (index %u)", peer.label().c_str(),
                 peer.endpoint->to_string().c_str(), index);
}

void Device::on_response(std::span<std::uint8_t> message, const Endpoint& from,
                         const Now& now) noexcept {
    const auto msg = crypto::read_message<crypto::MessageResponse>(message);
    Peer** found = index_.lookup(msg.receiver);
    if (!found) {
        counters_.drops.add(Drop::unknown_index);
        return;
    }
    Peer& peer = **found;
    if (crypto::Reject r = peer.handshake.consume_response(msg); r != crypto::Reject::none) {
        counters_.drops.add(drop_from(r));
        return;
    }
    update_endpoint(peer, from);
    if (!begin_session(peer, now)) return;
    handshake_completed(peer, now, "initiator");
    // Receive-side timer updates first: the flush below arms timers that must survive them.
    on_authenticated_receive(peer, now);
    send_keepalive(peer, now);  // confirms the session to the responder, flushes staged
}

void Device::on_cookie_reply(std::span<std::uint8_t> message, const Now& now) noexcept {
    const auto msg = crypto::read_message<crypto::MessageCookieReply>(message);
    Peer** found = index_.lookup(msg.receiver);
    if (!found) {
        counters_.drops.add(Drop::unknown_index);
        return;
    }
    if (crypto::Reject r = (*found)->cookies.consume_reply(msg, now.mono);
        r != crypto::Reject::none)
        counters_.drops.add(drop_from(r));
}

std::span<std::uint8_t> Device::on_data(std::span<std::uint8_t> message, const Endpoint& from,
                                        const Now& now) noexcept {
    const std::uint32_t index = crypto::data_receiver(message);
    Peer** found = index_.lookup(index);
    crypto::Session* session = found ? (*found)->session_by_index(index) : nullptr;
    if (!session) {
        counters_.drops.add(Drop::unknown_index);
        return {};
    }
    Peer& peer = **found;
    if (session->expired(now.mono)) {
        counters_.drops.add(Drop::session_expired);
        return {};
    }
    const crypto::OpenResult opened = crypto::open_data(*session, message);
    if (opened.reject != crypto::Reject::none) {
        counters_.drops.add(drop_from(opened.reject));
        return {};
    }
    update_endpoint(peer, from);
    // Receive-side timer updates before anything is sent in response, so that timers armed by
    // those sends (new_handshake) are not disarmed again.
    on_authenticated_receive(peer, now);
    if (peer.confirm_if_next(session, index_)) {
        handshake_completed(peer, now, "responder");
        send_staged(peer, now);
    }
    // Receive-side rekey: an initiator whose session nears REJECT_AFTER_TIME starts one
    // last handshake before the session dies.
    const crypto::Session* cur = peer.current ? &*peer.current : nullptr;
    if (cur && cur->initiator() && !peer.sent_lastminute_handshake &&
        now.mono - cur->created() >=
            crypto::reject_after_time - crypto::keepalive_timeout - crypto::rekey_timeout) {
        peer.sent_lastminute_handshake = true;
        send_initiation(peer, now, false);
    }
    peer.rx_bytes += message.size();
    if (opened.packet.empty()) return {};  // keepalive
    peer.timers.on_data_received(now.mono);
    int family = 0;
    const std::uint8_t* src = source(opened.packet, family);
    if (allowed_ips_.lookup(family, src) != &peer) {
        counters_.drops.add(Drop::source_mismatch);
        return {};
    }
    ++counters_.tun_tx_packets;
    counters_.tun_tx_bytes += opened.packet.size();
    return opened.packet;
}

bool Device::begin_session(Peer& peer, const Now& now) noexcept {
    auto keys = peer.handshake.derive_session_keys();
    auto session = keys ? crypto::Session::create(*keys, now.mono) : std::nullopt;
    if (!session) {
        counters_.drops.add(Drop::internal_error);
        return false;
    }
    peer.handshake_index_became_session();
    peer.install_session(std::move(*session), index_);
    peer.timers.on_session_derived(now.mono);
    return true;
}

void Device::handshake_completed(Peer& peer, const Now& now, const char* role) noexcept {
    peer.timers.on_handshake_complete();
    peer.sent_lastminute_handshake = false;
    peer.last_handshake_unix_ns = now.unix_ns;
    ++counters_.handshakes_completed;
    RT_LOG_INFO("%s: handshake complete (%s), endpoint %s", peer.label().c_str(), role,
                peer.endpoint->to_string().c_str());
}

void Device::update_endpoint(Peer& peer, const Endpoint& from) noexcept {
    // Roaming: only ever called after a packet from `from` authenticated.
    last_authenticated_ = &peer;
    if (peer.endpoint && peer.endpoint->same_address(from) && peer.endpoint->tcp == from.tcp &&
        peer.endpoint->tcp_connection == from.tcp_connection &&
        peer.endpoint->has_local == from.has_local &&
        std::memcmp(&peer.endpoint->local, &from.local, sizeof from.local) == 0)
        return;
    peer.endpoint = from;
}

void Device::on_authenticated_receive(Peer& peer, const Now& now) noexcept {
    peer.timers.on_authenticated_packet_received();
    peer.timers.on_authenticated_packet_traversal(now.mono);
}

}  // namespace ringtun::daemon
