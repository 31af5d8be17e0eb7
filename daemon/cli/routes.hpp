// Routes for the peers' allowed IPs through the TUN, as wg-quick's Table= gives them
// (wireguard-tools src/wg-quick/linux.bash, add_route and add_default):
//   - table "auto" (the default): each prefix in the main table, except a /0: that goes to
//     a table of its own T (the first from 51820 with no route in it, as wg-quick picks),
//     the daemon's sockets carry fwmark T, and two rules per family send every other packet
//     to T while the main table's more specific routes still win ("not fwmark T lookup T",
//     "lookup main suppress_prefixlength 0");
//   - table N: every prefix in table N, no rules; "off": none.
// Routes and rules carry protocol 114 (tun::route_protocol); a route that exists already is
// someone else's and is never replaced. A route whose answer a failed exchange lost may be
// ours or not: it is deleted (a delete names our protocol and the interface, so it removes
// only ours) before it is asked for again, or when no longer wanted. Routes go with the TUN; the
// rules are removed when the Routes goes (and a crashed run's rule for T by the next start).
// wg-quick's other default-route steps (the src_valid_mark sysctl, firewall marks) are left to the
// administrator.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_set>
#include <vector>

#include "daemon/cli/settings.hpp"
#include "tun/netlink.hpp"
#include "util/result.hpp"

namespace ringtun::daemon {

class Routes {
  public:
    static constexpr std::uint32_t first_default_route_table = 51820;
    // Marks the daemon's sockets (0: unmarks them), so that their packets skip the tunnel.
    using MarkFn = std::function<void(std::uint32_t mark)>;

    // Installs the routes and rules `s` asks for on the (up) interface `ifindex`, through `nl`
    // (kept). `set_mark` (may be empty at start, before the sockets exist: then ask fwmark()).
    static util::Result<Routes> install(tun::RouteSocket nl, int ifindex, const Settings& s,
                                        const MarkFn& set_mark);
    Routes(Routes&& o) noexcept;
    Routes& operator=(Routes&&) = delete;
    ~Routes();

    // The mark the daemon's sockets must carry (0: none).
    std::uint32_t fwmark() const noexcept { return mark_set_ ? default_table_ : 0; }
    // After a reload: adds and removes only what changed, so nothing is briefly missing.
    // Routes that exist already and are not ours are left alone (logged).
    util::Result<void> sync(const Settings& s, const MarkFn& set_mark);
    // The interface came back up: taking it down made the kernel drop every route through
    // it. Adds ours again (one still there stays ours) and retries those someone else held;
    // one that fails is logged and the rest are tried. The rules do not name the interface and
    // stay.
    struct Restored {
        std::size_t added = 0;
        std::size_t failed = 0;
    };
    Restored restore();
    // The rtnetlink socket the routes go through, for the link's other settings.
    tun::RouteSocket& socket() noexcept { return *nl_; }

  private:
    struct Route {
        int family;
        std::array<std::uint8_t, 16> addr;
        std::uint8_t length;
        std::uint32_t table;
        friend bool operator==(const Route&, const Route&) = default;
    };
    struct RouteHash {
        std::size_t operator()(const Route& r) const noexcept;
    };
    // Sets, not lists: 10,000 peers' routes are compared in linear time, not quadratic.
    using RouteSet = std::unordered_set<Route, RouteHash>;
    Routes(tun::RouteSocket nl, int ifindex) : nl_(std::move(nl)), ifindex_(ifindex) {}
    // The routes `s` asks for, each once, in the order of the peers.
    void wanted(const Settings& s, std::vector<Route>& routes, std::vector<int>& families);
    std::uint32_t default_table();
    // Adds those of `want` that are neither ours nor known to be someone else's, in batches
    // (tun/route_batch), and records each outcome.
    util::Result<void> add(const std::vector<Route>& want);
    // Files each of `fresh` by its outcome (tun::add_routes's `errors`); returns the first
    // failure's errno, or 0.
    int record(const std::vector<Route>& fresh, const std::vector<int>& errors);
    // Deletes our route `r`, if it is there (one through the interface with our protocol).
    void forget(const Route& r);
    // Deletes and drops from `set` every route not in `wanted`.
    void forget_unwanted(RouteSet& set, const RouteSet& wanted);
    // Files the outcome `error` of adding `r` again (restore; `ours`: it was ours before the
    // link went down) and counts it in `done`; a failure is logged.
    void record_restored(const Route& r, bool ours, int error, Restored& done);

    std::optional<tun::RouteSocket> nl_;
    int ifindex_;
    std::uint32_t default_table_ = 0;  // chosen at the first default route
    bool mark_set_ = false;
    RouteSet routes_;   // ours
    RouteSet foreign_;  // wanted, but someone else's route was there
    RouteSet unknown_;  // asked for, but the exchange failed before their answer: maybe ours
    std::vector<int> rule_families_;  // families with the default-route rules in place
};

}  // namespace ringtun::daemon
