#include "daemon/cli/link_restore.hpp"

#include "util/log.hpp"

namespace ringtun::daemon {

util::Result<LinkRestore> LinkRestore::open(int ifindex, std::string name,
                                            std::vector<conf::Prefix> addresses, Routes* routes) {
    auto watch = tun::LinkWatch::open();
    if (!watch) return util::fail(watch.error());
    auto nl = tun::RouteSocket::open();
    if (!nl) return util::fail(nl.error());
    return LinkRestore(std::move(*watch), std::move(*nl), ifindex, std::move(name),
                       std::move(addresses), routes);
}

LinkRestore::LinkRestore(tun::LinkWatch watch, tun::RouteSocket nl, int ifindex, std::string name,
                         std::vector<conf::Prefix> addresses, Routes* routes)
    : watch_(std::move(watch)),
      nl_(std::move(nl)),
      ifindex_(ifindex),
      name_(std::move(name)),
      addresses_(std::move(addresses)),
      routes_(routes) {}

void LinkRestore::on_datagram(std::span<const std::uint8_t> datagram) noexcept {
    std::optional<bool> up;
    if (datagram.empty()) {
        auto now = nl_.is_up(ifindex_);
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
    std::size_t failed = 0;
    for (const conf::Prefix& a : addresses_) {
        if (auto r = nl_.add_address(ifindex_, a.family, a.addr.data(), a.length); !r) {
            RT_LOG_WARN("%s: address %s: %s", name_.c_str(), a.to_string().c_str(),
                        r.error().to_string().c_str());
            ++failed;
        }
    }
    std::size_t routes = 0;
    if (routes_) {
        auto added = routes_->restore();
        if (added)
            routes = *added;
        else
            RT_LOG_WARN("%s: routes: %s", name_.c_str(), added.error().to_string().c_str());
    }
    RT_LOG_NOTICE("%s: link up again; %zu of %zu addresses and %zu routes put back", name_.c_str(),
                  addresses_.size() - failed, addresses_.size(), routes);
}

}  // namespace ringtun::daemon
