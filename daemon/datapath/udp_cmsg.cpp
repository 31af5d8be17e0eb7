#include "daemon/datapath/udp_cmsg.hpp"

#include <netinet/udp.h>

#include <cstring>

namespace ringtun::daemon {

namespace {

bool v4_mapped(const in6_addr& a) noexcept {
    return IN6_IS_ADDR_V4MAPPED(&a);
}

in6_addr map_v4(in_addr v4) noexcept {
    in6_addr a{};
    a.s6_addr[10] = a.s6_addr[11] = 0xff;
    std::memcpy(&a.s6_addr[12], &v4, 4);
    return a;
}

}  // namespace

socklen_t to_socket_address(const Endpoint& to, int family, sockaddr_in6& out) noexcept {
    if (family == AF_INET || to.family() == AF_INET6) {
        std::memcpy(&out, &to.addr, to.length());
        return to.length();
    }
    out = sockaddr_in6{};
    out.sin6_family = AF_INET6;
    out.sin6_port = to.addr.in4.sin_port;
    out.sin6_addr = map_v4(to.addr.in4.sin_addr);
    return sizeof out;
}

Endpoint endpoint_from_datagram(const sockaddr* name, socklen_t name_len,
                                const msghdr& control) noexcept {
    Endpoint e = Endpoint::from_sockaddr(name, name_len);
    if (e.family() == AF_INET6 && v4_mapped(e.addr.in6.sin6_addr)) {
        const sockaddr_in6 v6 = e.addr.in6;
        e = Endpoint{};
        e.addr.in4.sin_family = AF_INET;
        e.addr.in4.sin_port = v6.sin6_port;
        std::memcpy(&e.addr.in4.sin_addr, &v6.sin6_addr.s6_addr[12], 4);
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&control); c;
         c = CMSG_NXTHDR(const_cast<msghdr*>(&control), c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo info;
            std::memcpy(&info, CMSG_DATA(c), sizeof info);
            e.local = map_v4(info.ipi_addr);
            e.local_ifindex = static_cast<std::uint32_t>(info.ipi_ifindex);
            e.has_local = true;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            in6_pktinfo info;
            std::memcpy(&info, CMSG_DATA(c), sizeof info);
            e.local = info.ipi6_addr;
            e.local_ifindex = info.ipi6_ifindex;
            e.has_local = true;
        }
    }
    return e;
}

std::size_t gro_segment_size(const msghdr& control) noexcept {
    for (cmsghdr* c = CMSG_FIRSTHDR(&control); c;
         c = CMSG_NXTHDR(const_cast<msghdr*>(&control), c)) {
        if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_GRO) continue;
        if (c->cmsg_len < CMSG_LEN(sizeof(int))) return 0;
        int size = 0;  // an int, not the u16 of UDP_SEGMENT
        std::memcpy(&size, CMSG_DATA(c), sizeof size);
        return size > 0 ? static_cast<std::size_t>(size) : 0;
    }
    return 0;
}

std::size_t write_send_control(const Endpoint& to, std::uint16_t segment,
                               std::span<std::uint8_t> control) noexcept {
    if (!to.has_local && segment == 0) return 0;
    std::memset(control.data(), 0, control.size());
    msghdr m{};
    m.msg_control = control.data();
    m.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&m);
    std::size_t used = 0;
    auto put = [&](int level, int type, const void* data, std::size_t len) {
        c->cmsg_level = level;
        c->cmsg_type = type;
        c->cmsg_len = CMSG_LEN(len);
        std::memcpy(CMSG_DATA(c), data, len);
        used += CMSG_SPACE(len);
        c = reinterpret_cast<cmsghdr*>(reinterpret_cast<std::uint8_t*>(c) + CMSG_SPACE(len));
    };
    if (to.has_local && to.family() == AF_INET) {
        in_pktinfo info{};
        std::memcpy(&info.ipi_spec_dst, &to.local.s6_addr[12], 4);
        put(IPPROTO_IP, IP_PKTINFO, &info, sizeof info);
    } else if (to.has_local) {
        in6_pktinfo info{};
        info.ipi6_addr = to.local;
        // A link-local source is ambiguous without its interface; others route normally.
        if (IN6_IS_ADDR_LINKLOCAL(&to.local)) info.ipi6_ifindex = to.local_ifindex;
        put(IPPROTO_IPV6, IPV6_PKTINFO, &info, sizeof info);
    }
    if (segment > 0) put(SOL_UDP, UDP_SEGMENT, &segment, sizeof segment);
    return used;
}

}  // namespace ringtun::daemon
