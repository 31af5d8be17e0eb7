// What the kernel takes from the TUN when its link goes down, put back when it comes up.
//
// `ip link set rt0 down` makes the kernel drop the interface's IPv6 addresses
// (net.ipv6.conf.IF.keep_addr_on_down is 0 by default) and every route through it, of both
// families; `up` restores none of them. The daemon configured them, so it watches the link
// (tun::LinkWatch, read by the loop: RunHooks::link_watch) and, each time IFF_UP returns, adds
// the configured addresses and its routes again. Setting keep_addr_on_down instead would keep
// the IPv6 addresses but not the routes, and the systemd unit's ProtectKernelTunables=yes
// makes /proc/sys read-only to the daemon.
//
// Not under wireguard-go's command line: there the link, its addresses and routes are
// wg-quick's.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "daemon/cli/routes.hpp"
#include "tun/link_watch.hpp"
#include "tun/netlink.hpp"
#include "util/result.hpp"

namespace ringtun::daemon {

// Whether add_addresses gives up at the first failure.
enum class OnFailure : std::uint8_t {
    stop,  // returned at once (start-up: the daemon cannot run as configured)
    warn,  // logged, the rest tried (the link's return: put back what can be)
};

// Adds `addresses` to the interface `ifindex` named `name`; returns how many were added.
util::Result<std::size_t> add_addresses(tun::RouteSocket& nl, int ifindex, const std::string& name,
                                        const std::vector<conf::Prefix>& addresses,
                                        OnFailure on_failure);

class LinkRestore {
  public:
    // For the (up) interface `ifindex` named `name`, carrying `addresses`, whose news come
    // through `watch` (opened before the link went up: the kernel queued any change since);
    // `routes`, whose socket it also uses, outlives the LinkRestore.
    LinkRestore(tun::LinkWatch watch, int ifindex, std::string name,
                std::vector<conf::Prefix> addresses, Routes& routes);

    // The socket the loop reads (RunHooks::link_watch).
    int fd() const noexcept { return watch_.fd(); }
    // One datagram of it (RunHooks::on_link); empty when news were lost: the link's state is
    // then asked for. On the loop thread; failures are logged, never thrown.
    void on_datagram(std::span<const std::uint8_t> datagram) noexcept;

  private:
    // The link is up again: addresses and routes back.
    void restore() noexcept;

    tun::LinkWatch watch_;
    int ifindex_;
    std::string name_;
    std::vector<conf::Prefix> addresses_;
    Routes& routes_;
    bool up_ = true;  // configure_link brought it up
};

}  // namespace ringtun::daemon
