// Routes for the peers' allowed IPs through the TUN, as wg-quick's Table= gives them
// (wireguard-tools src/wg-quick/linux.bash, add_route and add_default):
//   - table "auto" (the default): each prefix in the main table, except a /0: that goes to
//     table 51820, the daemon's sockets carry fwmark 51820, and two rules per family send
//     every other packet to table 51820 while the main table's more specific routes still
//     win ("not fwmark 51820 lookup 51820", "lookup main suppress_prefixlength 0");
//   - table N: every prefix in table N, no rules; "off": none.
// Routes go with the TUN; the rules are removed when the Routes goes (and, after a crash, by
// the next start, before it adds its own). wg-quick's other default-route steps (the
// src_valid_mark sysctl, firewall marks) are left to the administrator.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "daemon/cli/settings.hpp"
#include "tun/netlink.hpp"
#include "util/result.hpp"

namespace ringtun::daemon {

class Routes {
  public:
    static constexpr std::uint32_t default_route_table = 51820;

    // Installs the routes and rules `s` asks for on the (up) interface `ifindex`.
    static util::Result<Routes> install(int ifindex, const Settings& s);
    Routes(Routes&& o) noexcept;
    Routes& operator=(Routes&&) = delete;
    ~Routes();

    // The mark the daemon's sockets must carry so their packets skip the tunnel (0: none).
    std::uint32_t fwmark() const noexcept {
        return rule_families_.empty() ? 0 : default_route_table;
    }
    // After a reload: adds and removes routes (and rules) so they match `s`.
    util::Result<void> sync(const Settings& s);

  private:
    struct Route {
        int family;
        std::array<std::uint8_t, 16> addr;
        std::uint8_t length;
        std::uint32_t table;
        friend bool operator==(const Route&, const Route&) = default;
    };
    Routes(tun::RouteSocket nl, int ifindex) : nl_(std::move(nl)), ifindex_(ifindex) {}
    static void wanted(const Settings& s, std::vector<Route>& routes, std::vector<int>& families);

    std::optional<tun::RouteSocket> nl_;
    int ifindex_;
    std::vector<Route> routes_;
    std::vector<int> rule_families_;  // families with the default-route rules in place
};

}  // namespace ringtun::daemon
