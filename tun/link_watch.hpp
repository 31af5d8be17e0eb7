// LinkWatch: the kernel's news of network links (an rtnetlink socket subscribed to
// RTNLGRP_LINK), and what one of its datagrams says about one interface.
//
// Taking a link down makes the kernel drop every route through it and its IPv6 addresses
// (net.ipv6.conf.IF.keep_addr_on_down is 0 by default); bringing it up again restores
// neither. Whoever configured them learns of the return here and puts them back. The socket
// is blocking, as the io_uring loop's reads want it; a readiness loop reads it with
// MSG_DONTWAIT. Acts on the calling thread's network namespace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "util/result.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::tun {

class LinkWatch {
  public:
    // A NETLINK_ROUTE socket bound to the link group, close-on-exec.
    static util::Result<LinkWatch> open();

    // A buffer this large holds any one datagram of it (rtnetlink sends at most a page or 8 KiB
    // at once; a shorter buffer would truncate a message).
    static constexpr std::size_t kDatagramBytes = 8192;

    int fd() const noexcept { return fd_.get(); }

  private:
    explicit LinkWatch(util::UniqueFd fd) noexcept : fd_(std::move(fd)) {}
    util::UniqueFd fd_;
};

// What the last message about `ifindex` in `datagram` (one read of a LinkWatch) says: true
// when the link is administratively up (IFF_UP), false when down or deleted; nullopt when no
// message in it is about that link. Malformed messages are skipped.
std::optional<bool> link_up_in(std::span<const std::uint8_t> datagram, int ifindex) noexcept;

}  // namespace ringtun::tun
