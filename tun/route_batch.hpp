// The routes for the peers' allowed IPs, added many at a time: rtnetlink requests packed into a
// few datagrams, the kernel asked to answer only on error (and on each batch's last request, to
// tell that the batch is done). Ten thousand peers' routes take some hundred system calls,
// where one request and one acknowledgement per route (libnl's rtnl_route_add) took twenty
// thousand, each a chance for a busy machine to run something else. Each route goes through
// the interface with protocol 114 (route_protocol) and scope link, and never replaces a route
// that exists.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "util/result.hpp"

namespace ringtun::tun {

struct RouteSpec {
    int family = 0;                       // AF_INET or AF_INET6
    std::array<std::uint8_t, 16> addr{};  // network order; 4 bytes for AF_INET
    std::uint8_t prefix_len = 0;
    std::uint32_t table = 0;
};

// Adds every route of `routes` to `ifindex`. Fills `errors` with one errno per route: 0 added,
// EEXIST a route to that prefix was there already (someone else's: left as it is), anything
// else a failure. Every request is made whatever the others' outcome. Fails only when the
// requests cannot be made or their answers read (the socket, a send or a receive); needs
// CAP_NET_ADMIN.
util::Result<void> add_routes(int ifindex, std::span<const RouteSpec> routes,
                              std::vector<int>& errors);

}  // namespace ringtun::tun
