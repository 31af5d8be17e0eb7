#include "tun/route_batch.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

#include "tun/netlink.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::tun {
namespace {

// Requests per datagram. At most this many errors wait in the socket's receive queue at once
// (an error is about 700 bytes of buffer), well inside the default 208 KiB.
constexpr std::size_t batch = 128;

// Appends attribute `type` with `len` bytes to the message at `msg`.
void put_attr(nlmsghdr* msg, unsigned short type, const void* data, std::size_t len) {
    auto* attr =
        reinterpret_cast<rtattr*>(reinterpret_cast<char*>(msg) + NLMSG_ALIGN(msg->nlmsg_len));
    attr->rta_type = type;
    attr->rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
    std::memcpy(RTA_DATA(attr), data, len);
    msg->nlmsg_len = NLMSG_ALIGN(msg->nlmsg_len) + RTA_ALIGN(attr->rta_len);
}

// Writes the RTM_NEWROUTE request for `r` at `at` (room for 128 bytes); returns its length.
std::size_t build_request(char* at, int ifindex, const RouteSpec& r, std::uint32_t seq, bool ack) {
    auto* msg = reinterpret_cast<nlmsghdr*>(at);
    std::memset(at, 0, 128);
    msg->nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
    msg->nlmsg_type = RTM_NEWROUTE;
    msg->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | (ack ? NLM_F_ACK : 0);
    msg->nlmsg_seq = seq;
    auto* rt = static_cast<rtmsg*>(NLMSG_DATA(msg));
    rt->rtm_family = static_cast<unsigned char>(r.family);
    rt->rtm_dst_len = r.prefix_len;
    rt->rtm_table = static_cast<unsigned char>(r.table < 256 ? r.table : RT_TABLE_UNSPEC);
    rt->rtm_protocol = route_protocol;
    rt->rtm_scope = RT_SCOPE_LINK;
    rt->rtm_type = RTN_UNICAST;
    put_attr(msg, RTA_TABLE, &r.table, sizeof r.table);
    put_attr(msg, RTA_DST, r.addr.data(), r.family == AF_INET ? 4 : 16);
    const std::uint32_t oif = static_cast<std::uint32_t>(ifindex);
    put_attr(msg, RTA_OIF, &oif, sizeof oif);
    return NLMSG_ALIGN(msg->nlmsg_len);
}

util::Result<util::UniqueFd> open_socket() {
    util::UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd) return util::fail(util::sys_error("socket(NETLINK_ROUTE)", errno));
    const int one = 1;
    // Errors without a copy of the request; a receive that waits is a kernel that did not
    // answer, not something to wait for forever.
    (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    const timeval limit{5, 0};
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
        return util::fail(util::sys_error("bind(NETLINK_ROUTE)", errno));
    return fd;
}

// Reads answers until the one to `last`; records each error under its request's sequence
// number (first + index).
util::Result<void> read_answers(int fd, std::uint32_t first, std::uint32_t last,
                                std::vector<int>& errors) {
    alignas(nlmsghdr) char buf[32768];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return util::fail(util::sys_error("recv(NETLINK_ROUTE)", errno, "route answers"));
        // Each message where NLMSG_OK would find it (without its int/unsigned comparison).
        const auto len = static_cast<std::size_t>(n);
        for (std::size_t at = 0; at + sizeof(nlmsghdr) <= len;) {
            const auto* m = reinterpret_cast<const nlmsghdr*>(buf + at);
            if (m->nlmsg_len < sizeof(nlmsghdr) || m->nlmsg_len > len - at) break;
            at += NLMSG_ALIGN(m->nlmsg_len);
            if (m->nlmsg_type != NLMSG_ERROR || m->nlmsg_seq < first || m->nlmsg_seq > last)
                continue;
            if (m->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) continue;
            const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(m));
            errors[m->nlmsg_seq - first] = -e->error;
            if (m->nlmsg_seq == last) return {};
        }
    }
}

}  // namespace

util::Result<void> add_routes(int ifindex, std::span<const RouteSpec> routes,
                              std::vector<int>& errors) {
    errors.assign(routes.size(), 0);
    if (routes.empty()) return {};
    auto fd = open_socket();
    if (!fd) return util::fail(fd.error());
    std::vector<char> buf(batch * 128);
    for (std::size_t start = 0; start < routes.size(); start += batch) {
        const std::size_t count = std::min(batch, routes.size() - start);
        std::size_t len = 0;
        for (std::size_t i = 0; i < count; ++i)
            len += build_request(buf.data() + len, ifindex, routes[start + i],
                                 static_cast<std::uint32_t>(start + i + 1), i + 1 == count);
        sockaddr_nl kernel{};
        kernel.nl_family = AF_NETLINK;
        if (::sendto(fd->get(), buf.data(), len, 0, reinterpret_cast<sockaddr*>(&kernel),
                     sizeof kernel) != static_cast<ssize_t>(len))
            return util::fail(util::sys_error("sendto(NETLINK_ROUTE)", errno, "route requests"));
        std::vector<int> answers(count, 0);
        if (auto r = read_answers(fd->get(), static_cast<std::uint32_t>(start + 1),
                                  static_cast<std::uint32_t>(start + count), answers);
            !r)
            return r;
        std::copy(answers.begin(), answers.end(),
                  errors.begin() + static_cast<std::ptrdiff_t>(start));
    }
    return {};
}

}  // namespace ringtun::tun
