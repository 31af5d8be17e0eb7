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
};

}  // namespace ringtun::daemon
