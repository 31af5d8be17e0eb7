#include "tun/link_watch.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace ringtun::tun {

util::Result<LinkWatch> LinkWatch::open() {
    util::UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd) return util::fail(util::sys_error("socket", errno, "NETLINK_ROUTE"));
    sockaddr_nl addr{};
    addr.nl_family = AF_NETLINK;
    addr.nl_groups = RTMGRP_LINK;
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        return util::fail(util::sys_error("bind", errno, "rtnetlink link group"));
    return LinkWatch(std::move(fd));
}

std::optional<bool> link_up_in(std::span<const std::uint8_t> datagram, int ifindex) noexcept {
    std::optional<bool> up;
    int left = static_cast<int>(datagram.size());
    // NLMSG_NEXT wants a mutable header pointer; nothing is written through it.
    auto* h = reinterpret_cast<nlmsghdr*>(const_cast<std::uint8_t*>(datagram.data()));
    for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
        if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) continue;
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) continue;
        ifinfomsg info;
        std::memcpy(&info, NLMSG_DATA(h), sizeof info);
        if (info.ifi_index != ifindex) continue;
        up = h->nlmsg_type == RTM_NEWLINK && (info.ifi_flags & IFF_UP) != 0;
    }
    return up;
}

}  // namespace ringtun::tun
