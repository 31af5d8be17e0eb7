// RouteSocket: an rtnetlink socket (libnl-route-3) for configuring the TUN interface.
//
// Covers what bringing up a WireGuard interface needs: MTU, addresses, link up, and the
// link settings kernel WireGuard uses (no IPv6 link-local, no queue discipline). Requests act
// on the calling thread's network namespace and wait for the kernel's acknowledgement.
// Addresses are passed as (family, network-order bytes, prefix length) so that tun/ shares
// no types with conf/.
#pragma once

#include <cstdint>
#include <memory>

#include "util/result.hpp"

struct nl_sock;

namespace ringtun::tun {

// The protocol (RTPROT) of ringtun's routes and rules, so they are told apart from anyone
// else's ("proto 114" in `ip route` and `ip rule`).
inline constexpr std::uint8_t route_protocol = 114;

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
    // Whether IFF_UP is set on the interface now.
    util::Result<bool> is_up(int ifindex);

    // As kernel WireGuard's interfaces: no IPv6 link-local address (addrgenmode none), so no
    // router solicitations go into the tunnel; call before the link goes up.
    util::Result<void> set_no_link_local(int ifindex);
    // As kernel WireGuard's interfaces: no queue discipline of its own (noqueue). The TUN's
    // ring drops when full either way; a pfifo_fast in front of it only adds a lock.
    util::Result<void> set_no_queue(int ifindex);

    // Removes the route to the prefix (family, network-order bytes, length) through the
    // interface in routing table `table` (254: main), as tun::add_routes adds it; one already
    // gone is not an error.
    util::Result<void> delete_route(int ifindex, int family, const std::uint8_t* addr,
                                    std::uint8_t prefix_len, std::uint32_t table);
    // Whether any route of either family is in `table` (true when it cannot tell).
    bool table_in_use(std::uint32_t table);
    // wg-quick's two rules for a default route through the tunnel, for `family`: "not fwmark
    // MARK lookup TABLE" (all but the tunnel's own packets use TABLE) and "lookup main
    // suppress_prefixlength 0" (the main table's specific routes still win). Ours carry
    // route_protocol; a crashed run's rule for TABLE is removed first.
    util::Result<void> add_default_route_rules(int family, std::uint32_t mark, std::uint32_t table);
    // Removes one of each of those rules (ours: the protocol matches); gone is not an error.
    void delete_default_route_rules(int family, std::uint32_t mark, std::uint32_t table) noexcept;

  private:
    struct SockFree {
        void operator()(nl_sock* s) const noexcept;
    };
    using SockPtr = std::unique_ptr<nl_sock, SockFree>;

    explicit RouteSocket(SockPtr sock) noexcept : sock_(std::move(sock)) {}

    SockPtr sock_;
};

}  // namespace ringtun::tun
