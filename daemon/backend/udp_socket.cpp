#include "daemon/backend/udp_socket.hpp"

#include "daemon/backend/socket_setup.hpp"

#include <arpa/inet.h>
#include <netinet/udp.h>
#include <unistd.h>

#include <cerrno>

namespace ringtun::daemon {

util::Result<UdpSocket> UdpSocket::open(std::uint16_t port) {
    auto opened = open_dual_stack(SOCK_DGRAM, "UDP");
    if (!opened) return util::fail(opened.error());
    UdpSocket s;
    s.fd = std::move(opened->fd);
    s.family = opened->family;
    const int fd = s.fd.get();
    // On a dual-stack socket IPV6_PKTINFO covers IPv4 too (as a v4-mapped address); IP_PKTINFO
    // there reports stale data for v4-mapped datagrams (seen on 6.18), so enable it only on
    // an IPv4-only socket.
    auto r = s.family == AF_INET6
                 ? set_socket_option(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO")
                 : set_socket_option(fd, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO");
    if (!r) return util::fail(r.error());
    // Deep socket buffers absorb bursts while the loop is busy; failure only costs throughput.
    const int bytes = 8 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    auto bound = bind_wildcard(fd, s.family, port, "UDP");
    if (!bound) return util::fail(bound.error());
    s.port = *bound;
    return s;
}

bool UdpSocket::gso_available() const noexcept {
    int segment = 0;
    socklen_t len = sizeof segment;
    return getsockopt(fd.get(), SOL_UDP, UDP_SEGMENT, &segment, &len) == 0;
}

util::Result<void> UdpSocket::enable_gro() const {
    int on = 0;
    socklen_t len = sizeof on;
    if (getsockopt(fd.get(), SOL_UDP, UDP_GRO, &on, &len) != 0)
        return util::fail(util::sys_error("getsockopt(UDP_GRO)", errno, "needs Linux 5.12"));
    return set_socket_option(fd.get(), SOL_UDP, UDP_GRO, 1, "UDP_GRO");
}

}  // namespace ringtun::daemon
