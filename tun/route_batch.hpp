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

// An outcome of add_routes besides an errno: the request went out but its answer did not come
// (a send or a receive failed), so the route may or may not have been added.
inline constexpr int route_unknown = -1;
// An outcome of add_routes: the request was never made (an earlier batch failed).
inline constexpr int route_not_sent = -2;

// Adds every route of `routes` to `ifindex`. Fills `errors` with one outcome per route, also
// when it fails: 0 added, EEXIST a route to that prefix was there already (someone else's:
// left as it is), route_unknown or route_not_sent, any other errno a failure. Every request is
// made whatever the others' outcome. Fails when the requests cannot be made or their answers
// read (the socket, a send or a receive): then the batch that failed has its unanswered
// requests route_unknown and the later batches route_not_sent, so that the caller still knows
// which routes are its own. Needs CAP_NET_ADMIN.
util::Result<void> add_routes(int ifindex, std::span<const RouteSpec> routes,
                              std::vector<int>& errors);

namespace detail {
// The answers in one received datagram (sans-IO, for the tests): for requests with sequence
// numbers first..last, records each error at outcomes[seq - first]. Only errors and the last
// request are answered, so once the last's answer is in, every request still route_unknown
// was added (0): returns true then, false while it is still awaited.
bool read_answers(std::span<const char> datagram, std::uint32_t first, std::uint32_t last,
                  std::span<int> outcomes) noexcept;
}  // namespace detail

}  // namespace ringtun::tun
