// network → TUN: classifying a message, and data with session rotation, roaming and the
// inner-source check (kernel receive.c). Handshake messages go on to handshake.cpp.
#include <cstring>

#include "crypto/transport.hpp"
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

Device::Inbound Device::on_network_packet(std::span<std::uint8_t> message, const Endpoint& from,
                                          const Now& now) noexcept {
    // Only messages that authenticate touch a peer's timers: that peer is rescheduled.
    const Inbound in = classify_and_receive(message, from, now);
    if (in.peer) reschedule(*in.peer);
    return in;
}

Device::Inbound Device::classify_and_receive(std::span<std::uint8_t> message, const Endpoint& from,
                                             const Now& now) noexcept {
    const auto type = crypto::classify(message);
    if (!type) {
        counters_.drops.add(Drop::malformed);
        return {};
    }
    switch (*type) {
        case crypto::MessageType::initiation:
            if (!handshake_admitted(message, from, now)) return {};
            return {{}, on_initiation(message, from, now)};
        case crypto::MessageType::response:
            if (!handshake_admitted(message, from, now)) return {};
            return {{}, on_response(message, from, now)};
        case crypto::MessageType::cookie_reply:
            on_cookie_reply(message, now);
            return {};
        case crypto::MessageType::data:
            return on_data(message, from, now);
    }
    return {};
}

Device::Inbound Device::on_data(std::span<std::uint8_t> message, const Endpoint& from,
                                const Now& now) noexcept {
    const std::uint32_t index = crypto::data_receiver(message);
    Peer** found = index_.lookup(index);
    crypto::Session* session = found ? (*found)->session_by_index(index) : nullptr;
    if (!session) {
        counters_.drops.add(Drop::unknown_index);
        return {};
    }
    Peer& peer = **found;
    if (session->expired(now.boot)) {
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
        now.boot - cur->created() >=
            crypto::reject_after_time - crypto::keepalive_timeout - crypto::rekey_timeout) {
        peer.sent_lastminute_handshake = true;
        send_initiation(peer, now, false);
    }
    peer.rx_bytes += message.size();
    if (opened.packet.empty()) return {{}, &peer};  // keepalive
    peer.timers.on_data_received(now.boot);
    int family = 0;
    const std::uint8_t* src = source(opened.packet, family);
    if (allowed_ips_.lookup(family, src) != &peer) {
        counters_.drops.add(Drop::source_mismatch);
        return {{}, &peer};
    }
    ++counters_.tun_tx_packets;
    counters_.tun_tx_bytes += opened.packet.size();
    return {opened.packet, &peer};
}

void Device::update_endpoint(Peer& peer, const Endpoint& from) noexcept {
    // Roaming: only ever called after a packet from `from` authenticated.
    if (peer.endpoint && peer.endpoint->same_address(from) && peer.endpoint->tcp == from.tcp &&
        peer.endpoint->tcp_connection == from.tcp_connection &&
        peer.endpoint->has_local == from.has_local &&
        std::memcmp(&peer.endpoint->local, &from.local, sizeof from.local) == 0)
        return;
    peer.endpoint = from;
}

void Device::on_authenticated_receive(Peer& peer, const Now& now) noexcept {
    peer.timers.on_authenticated_packet_received();
    peer.timers.on_authenticated_packet_traversal(now.boot);
}

}  // namespace ringtun::daemon
