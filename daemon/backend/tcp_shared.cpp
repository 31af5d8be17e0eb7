#include "daemon/backend/tcp_shared.hpp"

#include <algorithm>

#include "daemon/datapath/layout.hpp"
#include "util/log.hpp"

namespace ringtun::daemon {

TcpTransportParams tcp_transport_params(const LoopParams& p, unsigned data_slots) noexcept {
    TcpTransportParams t;
    t.max_connections = p.tcp_max_connections;
    t.max_payload = layout::largest_peer_message(p.mtu);  // peers may use a larger MTU
    // A connection may hold half the data slots (bursts from the TUN must not be dropped while
    // the outer stream keeps up), all of them together three quarters: one stalled connection
    // leaves the rest to UDP peers and other connections.
    t.quota.frames = std::max(64u, data_slots / 2);
    t.quota.bytes = t.quota.frames * layout::message_capacity(p.mtu);
    t.quota.total_data_frames = std::max(t.quota.frames, data_slots * 3 / 4);
    return t;
}

void tcp_forget_peer(TcpTransport* tcp, Peer& peer) noexcept {
    if (tcp) tcp->forget_peer(peer);
}

bool tcp_dials(const TcpTransport* tcp, const Peer& peer) noexcept {
    return tcp && tcp->dials(peer.public_key());
}

control::UapiError tcp_redial(TcpTransport* tcp, const Peer& peer, const Endpoint& now) {
    if (now.tcp && !tcp) {
        RT_LOG_WARN("%s: the TCP transport is not running; restart to add a TCP peer",
                    peer.label().c_str());
        return control::UapiError::invalid;
    }
    if (!tcp) return control::UapiError::none;
    if (now.tcp)
        tcp->add_dialer({.to = now, .peer = peer.public_key()});
    else
        tcp->remove_dialer(peer.public_key());
    return control::UapiError::none;
}

}  // namespace ringtun::daemon
