// The UDP transport's socket and its address conventions: one dual-stack socket
// (AF_INET6 with IPV6_V6ONLY off, so IPv4 peers appear as v4-mapped addresses) receiving the
// local destination address of every datagram (IP_PKTINFO / IPV6_RECVPKTINFO) so that replies
// can leave from it (sticky source).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

#include "util/result.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::daemon {

struct UdpSocket {
    util::UniqueFd fd;
    int family = AF_INET6;  // AF_INET only where the host has no IPv6
    std::uint16_t port = 0;

    // Binds the wildcard address on `port` (0: the kernel picks one).
    static util::Result<UdpSocket> open(std::uint16_t port);

    // Whether this kernel knows UDP_SEGMENT (getsockopt succeeds). Whether the egress device
    // can segment shows only when a send fails with EIO; the datapath handles that.
    bool gso_available() const noexcept;
    // Turns UDP_GRO on: datagrams of one flow may then arrive coalesced, with their segment
    // size in a UDP_GRO control message. getsockopt confirms it (Linux 5.12+; earlier
    // kernels' UDP_GRO is left alone, as wireguard-go does).
    util::Result<void> enable_gro() const;
};

}  // namespace ringtun::daemon
