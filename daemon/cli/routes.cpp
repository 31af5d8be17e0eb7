#include "daemon/cli/routes.hpp"

#include <linux/rtnetlink.h>

#include <algorithm>

#include "util/log.hpp"

namespace ringtun::daemon {

namespace {

template <typename T>
bool contains(const std::vector<T>& v, const T& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

void Routes::wanted(const Settings& s, std::vector<Route>& routes, std::vector<int>& families) {
    if (s.table == 0u) return;  // "off"
    for (const PeerSettings& p : s.peers) {
        for (const conf::Prefix& ip : p.allowed_ips) {
            Route r{ip.family, ip.addr, ip.length, s.table.value_or(RT_TABLE_MAIN)};
            if (ip.length == 0 && !s.table) {
                r.table = default_table();
                if (!contains(families, ip.family)) families.push_back(ip.family);
            }
            if (!contains(routes, r)) routes.push_back(r);
        }
    }
}

std::uint32_t Routes::default_table() {
    // wg-quick's choice: the first table from 51820 on with no route in it, kept for the
    // daemon's life; its number is also the sockets' mark.
    if (default_table_ == 0) {
        default_table_ = first_default_route_table;
        while (default_table_ < first_default_route_table + 1000 &&
               nl_->table_in_use(default_table_))
            ++default_table_;
    }
    return default_table_;
}

util::Result<Routes> Routes::install(tun::RouteSocket nl, int ifindex, const Settings& s,
                                     const MarkFn& set_mark) {
    Routes routes(std::move(nl), ifindex);
    if (auto r = routes.sync(s, set_mark); !r) return util::fail(r.error());
    return routes;
}

Routes::Routes(Routes&& o) noexcept
    : nl_(std::move(o.nl_)),
      ifindex_(o.ifindex_),
      default_table_(o.default_table_),
      mark_set_(o.mark_set_),
      routes_(std::move(o.routes_)),
      foreign_(std::move(o.foreign_)),
      rule_families_(std::move(o.rule_families_)) {
    o.nl_.reset();
    o.rule_families_.clear();
}

Routes::~Routes() {
    if (!nl_) return;
    for (int family : rule_families_)
        nl_->delete_default_route_rules(family, default_table_, default_table_);
}

bool Routes::add_again(const Route& r, Restored& done) {
    auto a = nl_->add_route(ifindex_, r.family, r.addr.data(), r.length, r.table);
    if (a) return *a;
    RT_LOG_WARN("routes: %s in table %u not put back: %s",
                conf::Prefix{r.family, r.addr, r.length}.to_string().c_str(), r.table,
                a.error().to_string().c_str());
    ++done.failed;
    return false;
}

Routes::Restored Routes::restore() {
    Restored done;
    for (const Route& r : routes_)
        done.added += add_again(r, done) ? 1 : 0;
    for (const Route& r : std::vector<Route>(foreign_)) {
        if (!add_again(r, done)) continue;  // still someone else's, or failed
        routes_.push_back(r);
        std::erase(foreign_, r);
        ++done.added;
    }
    return done;
}

util::Result<void> Routes::sync(const Settings& s, const MarkFn& set_mark) {
    std::vector<Route> want;
    std::vector<int> families;
    wanted(s, want, families);
    // Away first: rules, then the routes; the mark goes once no rule needs it.
    for (int family : std::vector<int>(rule_families_))
        if (!contains(families, family)) {
            nl_->delete_default_route_rules(family, default_table_, default_table_);
            std::erase(rule_families_, family);
        }
    if (rule_families_.empty() && families.empty() && mark_set_) {
        if (set_mark) set_mark(0);
        mark_set_ = false;
    }
    for (const Route& r : std::vector<Route>(routes_))
        if (!contains(want, r)) {
            (void)nl_->delete_route(ifindex_, r.family, r.addr.data(), r.length, r.table);
            std::erase(routes_, r);
        }
    // Then what is new: routes, the mark before any rule (or the tunnel's own packets would
    // be routed into it), the rules.
    for (const Route& r : want) {
        if (contains(routes_, r) || contains(foreign_, r)) continue;
        auto added = nl_->add_route(ifindex_, r.family, r.addr.data(), r.length, r.table);
        if (!added) return util::fail(added.error());
        if (*added) {
            routes_.push_back(r);
        } else {
            foreign_.push_back(r);
            RT_LOG_WARN(
                "routes: a route to a %s/%u exists already in table %u and is not "
                "ringtun's; left as it is",
                r.family == AF_INET ? "IPv4" : "IPv6", r.length, r.table);
        }
    }
    if (!families.empty() && !mark_set_) {
        if (set_mark) set_mark(default_table_);
        mark_set_ = true;
    }
    for (int family : families) {
        if (contains(rule_families_, family)) continue;
        if (auto added = nl_->add_default_route_rules(family, default_table_, default_table_);
            !added)
            return util::fail(added.error());
        rule_families_.push_back(family);
    }
    if (!routes_.empty())
        RT_LOG_NOTICE("routes: %zu for the peers' allowed IPs%s", routes_.size(),
                      rule_families_.empty() ? "" : "; the default route in its own table");
    return {};
}

}  // namespace ringtun::daemon
