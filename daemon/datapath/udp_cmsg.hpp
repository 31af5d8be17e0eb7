// A UDP datagram's addressing, sans-IO: the dual-stack conventions (IPv4 peers appear as
// v4-mapped addresses on the AF_INET6 socket and become plain IPv4 again in an Endpoint), the
// control messages of a send (pktinfo for the sticky source, UDP_SEGMENT for GSO) and of a
// receive (the local address the datagram arrived at).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "daemon/engine/endpoint.hpp"

namespace ringtun::daemon {

// Room for the control messages a received datagram carries (one pktinfo of either family, and
// UDP_GRO's segment size, an int), and a send's (pktinfo and UDP_SEGMENT's u16).
inline constexpr std::size_t udp_control_space = 64;
static_assert(udp_control_space >= CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(int)));

// The destination sockaddr for `to` on a socket of `family` (v4-mapped on a dual-stack socket).
socklen_t to_socket_address(const Endpoint& to, int family, sockaddr_in6& out) noexcept;

// An Endpoint for a datagram's source, with its local destination from the control messages.
// v4-mapped addresses become plain IPv4 so they compare equal to configured endpoints.
Endpoint endpoint_from_datagram(const sockaddr* name, socklen_t name_len,
                                const msghdr& control) noexcept;

// The segment size of a datagram that UDP GRO coalesced (its SOL_UDP/UDP_GRO control message,
// wherever it is among the others), or 0: a single datagram.
std::size_t gro_segment_size(const msghdr& control) noexcept;

// Writes the control messages of a send: pktinfo, so it leaves from `to.local` (when known),
// and UDP_SEGMENT when `segment` > 0 (GSO: the kernel cuts the payload into datagrams of
// that size, the last one possibly shorter). Returns their length (0: none needed).
std::size_t write_send_control(const Endpoint& to, std::uint16_t segment,
                               std::span<std::uint8_t> control) noexcept;

}  // namespace ringtun::daemon
