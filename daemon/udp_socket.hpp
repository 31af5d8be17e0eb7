// The UDP transport's socket and its address conventions: one dual-stack socket
// (AF_INET6 with IPV6_V6ONLY off, so IPv4 peers appear as v4-mapped addresses) receiving the
// local destination address of every datagram (IP_PKTINFO / IPV6_RECVPKTINFO) so that replies
// can leave from it (sticky source).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <span>

#include "daemon/endpoint.hpp"
#include "util/result.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::daemon {

struct UdpSocket {
    util::UniqueFd fd;
    int family = AF_INET6;  // AF_INET only where the host has no IPv6
    std::uint16_t port = 0;

    // Binds the wildcard address on `port` (0: the kernel picks one).
    static util::Result<UdpSocket> open(std::uint16_t port);
};

// Room for the control messages a received datagram carries (one pktinfo of either family).
inline constexpr std::size_t udp_control_space = 64;
static_assert(udp_control_space >= CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(2));

// The destination sockaddr for `to` on a socket of `family` (v4-mapped on a dual-stack socket).
socklen_t to_socket_address(const Endpoint& to, int family, sockaddr_in6& out) noexcept;

// An Endpoint for a datagram's source, with its local destination from the control messages.
// v4-mapped addresses become plain IPv4 so they compare equal to configured endpoints.
Endpoint endpoint_from_datagram(const sockaddr* name, socklen_t name_len,
                                const msghdr& control) noexcept;

// Writes the control messages of a send: pktinfo, so it leaves from `to.local` (when known),
// and UDP_SEGMENT when `segment` > 0 (GSO: the kernel cuts the payload into datagrams of
// that size, the last one possibly shorter). Returns their length (0: none needed).
std::size_t write_send_control(const Endpoint& to, std::uint16_t segment,
                               std::span<std::uint8_t> control) noexcept;

}  // namespace ringtun::daemon
