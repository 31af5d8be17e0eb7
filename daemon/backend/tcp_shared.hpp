// What both loops do alike for the TCP transport: its parameters from [ring], and the part of
// the UAPI's socket settings that is the transport's (which peers it dials).
#pragma once

#include "daemon/backend/io_backend.hpp"
#include "daemon/control/uapi_line.hpp"
#include "daemon/engine/peer.hpp"
#include "daemon/transport/tcp_transport.hpp"

namespace ringtun::daemon {

// `data_slots`: the [ring] tx_slots the connections share.
TcpTransportParams tcp_transport_params(const LoopParams& p, unsigned data_slots) noexcept;

// control::SocketSettings' forget_peer, dials and redial over `tcp` (null: no transport).
void tcp_forget_peer(TcpTransport* tcp, Peer& peer) noexcept;
bool tcp_dials(const TcpTransport* tcp, const Peer& peer) noexcept;
control::UapiError tcp_redial(TcpTransport* tcp, const Peer& peer, const Endpoint& now);

}  // namespace ringtun::daemon
