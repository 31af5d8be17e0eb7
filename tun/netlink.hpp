// RouteSocket: an rtnetlink socket (libnl-route-3) for configuring the TUN interface.
//
// Covers what bringing up a WireGuard interface needs: MTU, addresses, link up. Requests act
// on the calling thread's network namespace and wait for the kernel's acknowledgement.
// Addresses are passed as (family, network-order bytes, prefix length) so that tun/ shares
// no types with conf/.
#pragma once

#include <cstdint>
#include <memory>

#include "util/result.hpp"

struct nl_sock;

namespace ringtun::tun {

class RouteSocket {
  public:
    // Allocates and connects a NETLINK_ROUTE socket.
    static util::Result<RouteSocket> open();

    RouteSocket(RouteSocket&&) noexcept = default;
    RouteSocket& operator=(RouteSocket&&) noexcept = default;

    // Sets the interface's MTU. Needs CAP_NET_ADMIN.
    util::Result<void> set_mtu(int ifindex, std::uint32_t mtu);
    // Reads the interface's current MTU.
    util::Result<std::uint32_t> mtu(int ifindex);

    // Adds `addr` (4 bytes for AF_INET, 16 for AF_INET6, network order) with `prefix_len` to
    // the interface. An address that is already present is not an error. Needs CAP_NET_ADMIN.
    util::Result<void> add_address(int ifindex, int family, const std::uint8_t* addr,
                                   std::uint8_t prefix_len);

    // Sets IFF_UP on the interface. Needs CAP_NET_ADMIN.
    util::Result<void> set_up(int ifindex);

  private:
    struct SockFree {
        void operator()(nl_sock* s) const noexcept;
    };
    using SockPtr = std::unique_ptr<nl_sock, SockFree>;

    explicit RouteSocket(SockPtr sock) noexcept : sock_(std::move(sock)) {}

    SockPtr sock_;
};

}  // namespace ringtun::tun
