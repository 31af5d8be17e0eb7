#include "daemon/cli/routes.hpp"

#include <linux/rtnetlink.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "tun/route_batch.hpp"
#include "util/log.hpp"

namespace ringtun::daemon {

namespace {

template <typename T>
bool contains(const std::vector<T>& v, const T& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

std::size_t Routes::RouteHash::operator()(const Route& r) const noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
    const auto mix = [&h](std::uint64_t v) { h = (h ^ v) * 0x100000001b3ULL; };
    for (std::uint8_t b : r.addr)
        mix(b);
    mix(static_cast<std::uint64_t>(r.family) << 40 | std::uint64_t{r.length} << 32 | r.table);
    return static_cast<std::size_t>(h);
}

void Routes::wanted(const Settings& s, std::vector<Route>& routes, std::vector<int>& families) {
    if (s.table == 0u) return;  // "off"
    RouteSet seen;
    for (const PeerSettings& p : s.peers) {
        for (const conf::Prefix& ip : p.allowed_ips) {
            Route r{ip.family, ip.addr, ip.length, s.table.value_or(RT_TABLE_MAIN)};
            if (ip.length == 0 && !s.table) {
                r.table = default_table();
                if (!contains(families, ip.family)) families.push_back(ip.family);
            }
            if (seen.insert(r).second) routes.push_back(r);
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
      unknown_(std::move(o.unknown_)),
      rule_families_(std::move(o.rule_families_)) {
    o.nl_.reset();
    o.rule_families_.clear();
}

Routes::~Routes() {
    if (!nl_) return;
    for (int family : rule_families_)
        nl_->delete_default_route_rules(family, default_table_, default_table_);
}

util::Result<void> Routes::add(const std::vector<Route>& want) {
    std::vector<Route> fresh;
    std::vector<tun::RouteSpec> specs;
    for (const Route& r : want) {
        if (routes_.contains(r) || foreign_.contains(r)) continue;
        // Left unknown by a failed exchange: ours or not, gone before it is asked for again
        // (the delete names our protocol and interface, so it removes only ours).
        if (unknown_.erase(r) != 0) forget(r);
        fresh.push_back(r);
        specs.push_back({r.family, r.addr, r.length, r.table});
    }
    std::vector<int> errors;
    const auto sent = tun::add_routes(ifindex_, specs, errors);
    // Every outcome is recorded, also when the exchange failed part way, so that what was
    // added is known to be ours even when another route failed.
    const int failed = record(fresh, errors);
    if (!sent) return sent;
    if (failed != 0)
        return util::fail(util::sys_error("RTM_NEWROUTE", failed,
                                          "route through ifindex " + std::to_string(ifindex_)));
    return {};
}

int Routes::record(const std::vector<Route>& fresh, const std::vector<int>& errors) {
    int failed = 0;
    for (std::size_t i = 0; i < fresh.size(); ++i) {
        const Route& r = fresh[i];
        if (errors[i] == 0) {
            routes_.insert(r);
        } else if (errors[i] == tun::route_unknown) {
            unknown_.insert(r);
        } else if (errors[i] == EEXIST) {
            foreign_.insert(r);
            RT_LOG_WARN(
                "routes: a route to a %s/%u exists already in table %u and is not "
                "ringtun's; left as it is",
                r.family == AF_INET ? "IPv4" : "IPv6", r.length, r.table);
        } else if (errors[i] != tun::route_not_sent && failed == 0) {
            failed = errors[i];
        }
    }
    return failed;
}

void Routes::forget(const Route& r) {
    (void)nl_->delete_route(ifindex_, r.family, r.addr.data(), r.length, r.table);
}

void Routes::forget_unwanted(RouteSet& set, const RouteSet& wanted) {
    for (auto it = set.begin(); it != set.end();) {
        if (wanted.contains(*it)) {
            ++it;
            continue;
        }
        forget(*it);
        it = set.erase(it);
    }
}

Routes::Restored Routes::restore() {
    // Ours first, then those someone else held (and those whose answer was lost), in one
    // batched exchange like the first.
    std::vector<Route> again(routes_.begin(), routes_.end());
    const std::size_t ours = again.size();
    again.insert(again.end(), foreign_.begin(), foreign_.end());
    again.insert(again.end(), unknown_.begin(), unknown_.end());
    std::vector<tun::RouteSpec> specs;
    for (const Route& r : again)
        specs.push_back({r.family, r.addr, r.length, r.table});
    std::vector<int> errors;
    if (auto sent = tun::add_routes(ifindex_, specs, errors); !sent)
        RT_LOG_WARN("routes: putting them back: %s", sent.error().to_string().c_str());
    Restored done;
    for (std::size_t i = 0; i < again.size(); ++i)
        record_restored(again[i], i < ours, errors[i], done);
    return done;
}

void Routes::record_restored(const Route& r, bool ours, int error, Restored& done) {
    if (error == 0) {
        ++done.added;
        if (ours) return;
        foreign_.erase(r);
        unknown_.erase(r);
        routes_.insert(r);
        return;
    }
    if (error == EEXIST) return;                 // ours still there, or still someone else's
    if (!ours && error == tun::route_unknown) {  // may have become ours
        foreign_.erase(r);
        unknown_.insert(r);
    }
    ++done.failed;
    const std::string why = error == tun::route_unknown    ? "its answer was lost"
                            : error == tun::route_not_sent ? "not asked: an earlier batch failed"
                                                           : std::strerror(error);
    RT_LOG_WARN("routes: %s in table %u not put back: %s",
                conf::Prefix{r.family, r.addr, r.length}.to_string().c_str(), r.table, why.c_str());
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
    const RouteSet wanted_set(want.begin(), want.end());
    forget_unwanted(routes_, wanted_set);
    forget_unwanted(unknown_, wanted_set);
    // Then what is new: routes, the mark before any rule (or the tunnel's own packets would
    // be routed into it), the rules.
    if (auto r = add(want); !r) return r;
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
