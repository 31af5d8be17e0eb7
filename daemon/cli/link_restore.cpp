#include "daemon/cli/link_restore.hpp"

#include "util/log.hpp"

namespace ringtun::daemon {

util::Result<std::size_t> add_addresses(tun::RouteSocket& nl, int ifindex, const std::string& name,
                                        const std::vector<conf::Prefix>& addresses,
                                        OnFailure on_failure) {
    std::size_t added = 0;
    for (const conf::Prefix& a : addresses) {
        auto r = nl.add_address(ifindex, a.family, a.addr.data(), a.length);
        if (r) {
            ++added;
            continue;
        }
        if (on_failure == OnFailure::stop) return util::fail(r.error());
        RT_LOG_WARN("%s: address %s: %s", name.c_str(), a.to_string().c_str(),
                    r.error().to_string().c_str());
    }
    return added;
}

LinkRestore::LinkRestore(tun::LinkWatch watch, int ifindex, std::string name,
                         std::vector<conf::Prefix> addresses, Routes& routes)
    : watch_(std::move(watch)),
      ifindex_(ifindex),
      name_(std::move(name)),
      addresses_(std::move(addresses)),
      routes_(routes) {}

void LinkRestore::on_datagram(std::span<const std::uint8_t> datagram) noexcept {
    std::optional<bool> up;
    if (datagram.empty()) {
        auto now = routes_.socket().is_up(ifindex_);
        if (!now) {
            RT_LOG_WARN("%s: link state unknown: %s", name_.c_str(),
                        now.error().to_string().c_str());
            return;
        }
        up = *now;
        if (*up) up_ = false;  // news were lost: put everything back to be sure
    } else {
        up = tun::link_up_in(datagram, ifindex_);
    }
    if (!up || *up == up_) return;
    up_ = *up;
    if (up_) {
        restore();
    } else {
        RT_LOG_NOTICE("%s: link down; its routes and IPv6 addresses go with it until it is up",
                      name_.c_str());
    }
}

void LinkRestore::restore() noexcept {
    auto added = add_addresses(routes_.socket(), ifindex_, name_, addresses_, OnFailure::warn);
    const Routes::Restored routes = routes_.restore();
    const std::string failed =
        routes.failed != 0 ? " (" + std::to_string(routes.failed) + " failed)" : std::string();
    RT_LOG_NOTICE("%s: link up again; %zu of %zu addresses and %zu routes put back%s",
                  name_.c_str(), added ? *added : 0, addresses_.size(), routes.added,
                  failed.c_str());
}

}  // namespace ringtun::daemon
