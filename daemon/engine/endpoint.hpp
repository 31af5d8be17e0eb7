// Where a peer is reached: its socket address, the local address its packets arrived at (so
// replies leave from that address — the "sticky source" of multi-homed hosts), and, for the
// TCP transport, the connection that carries it.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <span>
#include <string>

namespace ringtun::daemon {

struct Endpoint {
    union {
        sockaddr sa;
        sockaddr_in in4;
        sockaddr_in6 in6;
    } addr{};
    // Local source: valid when has_local; in6 holds IPv4 as a v4-mapped address.
    in6_addr local{};
    std::uint32_t local_ifindex = 0;
    bool has_local = false;
    // Reached over TCP (a configured `transport = "tcp"` peer, or one whose last authenticated
    // packet came over a TCP connection). tcp_connection names that connection
    // (ConnectionHandle: slot + generation); 0 = the dialer for this address decides.
    bool tcp = false;
    std::uint64_t tcp_connection = 0;

    int family() const noexcept { return addr.sa.sa_family; }
    bool valid() const noexcept { return family() == AF_INET || family() == AF_INET6; }
    socklen_t length() const noexcept {
        return family() == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    }

    // Same remote address and port (local source and transport ignored).
    bool same_address(const Endpoint& o) const noexcept;

    // "10.0.0.1:51820", "[fd00::1]:51820" or, scoped, "[fe80::1%3]:51820" (the interface's
    // index); with "/tcp" for a TCP endpoint.
    std::string to_string() const;

    // Address bytes then port, the identity a cookie binds to. Returns bytes written (6 or 18).
    std::size_t source_bytes(std::span<std::uint8_t, 18> out) const noexcept;

    static Endpoint from_sockaddr(const sockaddr* sa, socklen_t len) noexcept;
};

}  // namespace ringtun::daemon
