// TUN → network: sealing data, staging while no session is usable, and keepalives
// (kernel send.c).
#include <cstring>

#include "crypto/transport.hpp"
#include "daemon/engine/device.hpp"
#include "util/log.hpp"

namespace ringtun::daemon {

namespace {

// Destination address of an IP packet, or null if it is not IPv4/IPv6 of a sane length.
const std::uint8_t* destination(std::span<const std::uint8_t> p, int& family) noexcept {
    if (p.size() >= 20 && (p[0] >> 4) == 4) {
        family = AF_INET;
        return p.data() + 16;
    }
    if (p.size() >= 40 && (p[0] >> 4) == 6) {
        family = AF_INET6;
        return p.data() + 24;
    }
    return nullptr;
}

// The length the IP header of a packet of `family` claims.
std::size_t claimed_length(std::span<const std::uint8_t> p, int family) noexcept {
    if (family == AF_INET) return std::size_t{p[2]} << 8 | p[3];
    return 40 + (std::size_t{p[4]} << 8 | p[5]);
}

}  // namespace

Nanos Device::jitter() noexcept {
    return crypto::random_value<std::uint32_t>(rng_) % rekey_timeout_jitter_max;
}

Device::Outbound Device::on_tun_packet(std::span<std::uint8_t> buffer, std::size_t packet_len,
                                       const Now& now) noexcept {
    ++counters_.tun_rx_packets;
    counters_.tun_rx_bytes += packet_len;
    if (packet_len > mtu_) {
        // Whole (a read with the virtio-net header takes up to 64 KiB) but over our MTU: the
        // TUN's MTU was raised above the configured one.
        counters_.drops.add(Drop::tun_oversized);
        return {};
    }
    const auto packet = buffer.subspan(crypto::data_header_len, packet_len);
    int family = 0;
    const std::uint8_t* dst = destination(packet, family);
    if (!dst) {
        counters_.drops.add(Drop::tun_malformed);
        return {};
    }
    if (claimed_length(packet, family) > packet_len) {
        counters_.drops.add(Drop::tun_oversized);  // the read stopped at our buffer's end
        return {};
    }
    Peer* peer = allowed_ips_.lookup(family, dst);
    if (!peer) {
        counters_.drops.add(Drop::no_route);
        return {};
    }
    if (!peer->endpoint) {
        counters_.drops.add(Drop::no_endpoint);
        return {};
    }
    const Outbound out = seal_for(*peer, buffer, packet, now);
    reschedule(*peer);
    return out;
}

Device::Outbound Device::seal_for(Peer& peer, std::span<std::uint8_t> buffer,
                                  std::span<const std::uint8_t> packet, const Now& now) noexcept {
    crypto::Session* session = peer.sending_session(now.boot);
    if (!session || !peer.staged.empty()) {
        // Keep order behind packets already waiting, and get a session. The packet always
        // finds room (StagedPackets takes a slot from the peer holding the most if need be).
        stage(peer, packet);
        send_staged(peer, now);
        return {};
    }
    const crypto::SealResult sealed = crypto::seal_data(*session, buffer, packet.size(), mtu_);
    if (sealed.reject != crypto::Reject::none) {
        counters_.drops.add(Drop::internal_error);
        return {};
    }
    peer.tx_bytes += sealed.length;
    after_data_sent(peer, *session, false, now);
    return {&peer, sealed.length};
}

void Device::after_data_sent(Peer& peer, const crypto::Session& session, bool keepalive,
                             const Now& now) noexcept {
    peer.timers.on_authenticated_packet_traversal(now.boot);
    peer.timers.on_authenticated_packet_sent();
    // Draw jitter only when the timer is actually armed: not once per packet.
    if (!keepalive && !peer.timers.armed(Timer::new_handshake))
        peer.timers.on_data_sent(now.boot, jitter());
    // Keep the key fresh: rekey after REKEY_AFTER_MESSAGES, or REKEY_AFTER_TIME if we
    // initiated the session (the responder waits, so both sides do not rekey at once).
    const bool old =
        session.initiator() && now.boot - session.created() >= crypto::rekey_after_time;
    if (session.send_counter() > crypto::rekey_after_messages || old)
        send_initiation(peer, now, false);
}

void Device::stage(Peer& peer, std::span<const std::uint8_t> packet) noexcept {
    switch (peer.staged.push(packet)) {
        case StagedPackets::Push::stored:
            break;
        case StagedPackets::Push::stored_dropping_oldest:
            counters_.drops.add(Drop::staged_overflow);
            break;
        case StagedPackets::Push::stored_pool_empty:
        case StagedPackets::Push::dropped:
            counters_.drops.add(Drop::staged_pool_empty);
            break;
        case StagedPackets::Push::too_long:
            counters_.drops.add(Drop::tun_malformed);
            break;
    }
}

bool Device::send_sealed(Peer& peer, crypto::Session& session, std::span<const std::uint8_t> packet,
                         const Now& now) noexcept {
    SinkLease out(sink_, crypto::sealed_length(packet.size(), mtu_),
                  packet.empty() ? TxClass::control : TxClass::data);
    if (!out) {
        counters_.drops.add(Drop::no_tx_buffer);
        // The persistent keepalive is rearmed only by a packet that traverses; without this,
        // one keepalive that found no buffer would end them until other traffic flows. (The
        // kernel's timers count a keepalive once it is sealed, whatever the socket makes of it.)
        if (packet.empty()) peer.timers.on_authenticated_packet_traversal(now.boot);
        return false;
    }
    if (!packet.empty())
        std::memcpy(out.message().data() + crypto::data_header_len, packet.data(), packet.size());
    const crypto::SealResult sealed =
        crypto::seal_data(session, out.message(), packet.size(), mtu_);
    if (sealed.reject != crypto::Reject::none) {
        counters_.drops.add(Drop::internal_error);
        return false;
    }
    out.commit(*peer.endpoint, sealed.length);
    peer.tx_bytes += sealed.length;
    if (packet.empty()) ++counters_.keepalives_sent;
    after_data_sent(peer, session, packet.empty(), now);
    return true;
}

void Device::send_staged(Peer& peer, const Now& now) noexcept {
    if (peer.staged.empty()) return;
    crypto::Session* session = peer.sending_session(now.boot);
    if (!session || !peer.endpoint) {
        send_initiation(peer, now, false);
        return;
    }
    while (!peer.staged.empty()) {
        // A session replaced while flushing (rekey) is re-read each time.
        session = peer.sending_session(now.boot);
        if (!session) break;
        send_sealed(peer, *session, peer.staged.front(), now);
        peer.staged.pop();
    }
}

void Device::send_keepalive(Peer& peer, const Now& now) noexcept {
    // Waiting packets are keepalive enough; a keepalive request takes no slot of the pool.
    if (peer.staged.empty()) (void)peer.staged.push({});
    send_staged(peer, now);
}

}  // namespace ringtun::daemon
