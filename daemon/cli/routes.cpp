#include "daemon/cli/routes.hpp"

#include <linux/rtnetlink.h>

#include <algorithm>

#include "util/log.hpp"

namespace ringtun::daemon {

void Routes::wanted(const Settings& s, std::vector<Route>& routes, std::vector<int>& families) {
    if (s.table == 0u) return;  // "off"
    for (const PeerSettings& p : s.peers) {
        for (const conf::Prefix& ip : p.allowed_ips) {
            Route r{ip.family, ip.addr, ip.length, s.table.value_or(RT_TABLE_MAIN)};
            if (ip.length == 0 && !s.table) {
                r.table = default_route_table;
                if (std::find(families.begin(), families.end(), ip.family) == families.end())
                    families.push_back(ip.family);
            }
            if (std::find(routes.begin(), routes.end(), r) == routes.end()) routes.push_back(r);
        }
    }
}

util::Result<Routes> Routes::install(int ifindex, const Settings& s) {
    auto nl = tun::RouteSocket::open();
    if (!nl) return util::fail(nl.error());
    Routes routes(std::move(*nl), ifindex);
    if (auto r = routes.sync(s); !r) return util::fail(r.error());
    return routes;
}

Routes::Routes(Routes&& o) noexcept
    : nl_(std::move(o.nl_)),
      ifindex_(o.ifindex_),
      routes_(std::move(o.routes_)),
      rule_families_(std::move(o.rule_families_)) {
    o.nl_.reset();
    o.rule_families_.clear();
}

Routes::~Routes() {
    if (!nl_) return;
    for (int family : rule_families_)
        nl_->delete_default_route_rules(family, default_route_table, default_route_table);
}

util::Result<void> Routes::sync(const Settings& s) {
    std::vector<Route> want;
    std::vector<int> families;
    wanted(s, want, families);
    for (const Route& r : routes_)
        if (std::find(want.begin(), want.end(), r) == want.end())
            (void)nl_->delete_route(ifindex_, r.family, r.addr.data(), r.length, r.table);
    for (int family : rule_families_)
        if (std::find(families.begin(), families.end(), family) == families.end())
            nl_->delete_default_route_rules(family, default_route_table, default_route_table);
    routes_.clear();
    rule_families_.clear();
    for (const Route& r : want) {
        if (auto added = nl_->add_route(ifindex_, r.family, r.addr.data(), r.length, r.table);
            !added)
            return util::fail(added.error());
        routes_.push_back(r);
    }
    for (int family : families) {
        if (auto added =
                nl_->add_default_route_rules(family, default_route_table, default_route_table);
            !added)
            return util::fail(added.error());
        rule_families_.push_back(family);
    }
    if (!routes_.empty())
        RT_LOG_NOTICE("routes: %zu for the peers' allowed IPs%s", routes_.size(),
                      rule_families_.empty() ? "" : "; default route in table 51820, fwmark 51820");
    return {};
}

}  // namespace ringtun::daemon
