// Sockets of the TCP transport: the dual-stack listener, dialing sockets, and the options
// every tunnel connection gets (no Nagle delay; keepalive and a user timeout so a dead path
// is noticed in ~30 s rather than the kernel's 15 minutes).
#pragma once

#include <cstdint>

#include "daemon/engine/endpoint.hpp"
#include "util/result.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::daemon {

struct TcpListener {
    util::UniqueFd fd;
    std::uint16_t port = 0;

    // Listens on the wildcard address (IPv4 and IPv6) on `port`.
    static util::Result<TcpListener> open(std::uint16_t port);
};

// TCP_NODELAY, SO_KEEPALIVE (15 s idle, 5 s interval, 3 probes), TCP_USER_TIMEOUT 30 s.
util::Result<void> set_tunnel_options(int fd);

// A socket to dial `to` with, options set.
util::Result<util::UniqueFd> open_dialing_socket(const Endpoint& to);

// The remote end of a connected socket, v4-mapped addresses made plain IPv4.
Endpoint connected_peer(int fd) noexcept;

}  // namespace ringtun::daemon
