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
    // Messages are read by copying their headers out: the buffer may have any alignment.
    std::optional<bool> up;
    std::size_t at = 0;
    while (datagram.size() - at >= sizeof(nlmsghdr)) {
        nlmsghdr h;
        std::memcpy(&h, datagram.data() + at, sizeof h);
        if (h.nlmsg_len < sizeof h || h.nlmsg_len > datagram.size() - at) break;
        if ((h.nlmsg_type == RTM_NEWLINK || h.nlmsg_type == RTM_DELLINK) &&
            h.nlmsg_len >= NLMSG_LENGTH(sizeof(ifinfomsg))) {
            ifinfomsg info;
            std::memcpy(&info, datagram.data() + at + NLMSG_HDRLEN, sizeof info);
            if (info.ifi_index == ifindex)
                up = h.nlmsg_type == RTM_NEWLINK && (info.ifi_flags & IFF_UP) != 0;
        }
        at += NLMSG_ALIGN(h.nlmsg_len);
        if (at > datagram.size()) break;
    }
    return up;
}

}  // namespace ringtun::tun
