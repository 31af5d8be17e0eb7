#include "tun/route_batch.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tun/netlink.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::tun {
namespace {

// Requests per datagram. At most this many errors wait in the socket's receive queue at once
// (an error is about 700 bytes of buffer), inside receive_buffer.
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

// Room for the errors of a whole batch, set explicitly: the default (net.core.rmem_default)
// is the administrator's to lower, and a receive queue that overflows loses answers.
constexpr int receive_buffer = 256 << 10;

util::Result<util::UniqueFd> open_socket() {
    util::UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd) return util::fail(util::sys_error("socket(NETLINK_ROUTE)", errno));
    const int one = 1;
    // Errors without a copy of the request; a receive that waits is a kernel that did not
    // answer, not something to wait for forever.
    (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    const timeval limit{5, 0};
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    // SO_RCVBUFFORCE passes net.core.rmem_max (we have CAP_NET_ADMIN); SO_RCVBUF otherwise.
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer,
                     sizeof receive_buffer) != 0)
        (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
        return util::fail(util::sys_error("bind(NETLINK_ROUTE)", errno));
    return fd;
}

// Receives answers until the one to `last`, into `outcomes` (requests first..last).
util::Result<void> receive_answers(int fd, std::uint32_t first, std::uint32_t last,
                                   std::span<int> outcomes) {
    alignas(nlmsghdr) char buf[32768];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return util::fail(util::sys_error("recv(NETLINK_ROUTE)", errno, "route answers"));
        if (detail::read_answers({buf, static_cast<std::size_t>(n)}, first, last, outcomes))
            return {};
    }
}

// Sends the requests for routes[start, start + count) in one datagram and reads their answers
// into errors[start, start + count), each route_unknown until answered.
util::Result<void> add_batch(int fd, int ifindex, std::span<const RouteSpec> routes,
                             std::size_t start, std::size_t count, std::vector<char>& buf,
                             std::vector<int>& errors) {
    std::size_t len = 0;
    for (std::size_t i = 0; i < count; ++i)
        len += build_request(buf.data() + len, ifindex, routes[start + i],
                             static_cast<std::uint32_t>(start + i + 1), i + 1 == count);
    const auto outcomes = std::span<int>(errors).subspan(start, count);
    std::fill(outcomes.begin(), outcomes.end(), route_unknown);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd, buf.data(), len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) !=
        static_cast<ssize_t>(len))
        return util::fail(util::sys_error("sendto(NETLINK_ROUTE)", errno, "route requests"));
    return receive_answers(fd, static_cast<std::uint32_t>(start + 1),
                           static_cast<std::uint32_t>(start + count), outcomes);
}

}  // namespace

bool detail::read_answers(std::span<const char> datagram, std::uint32_t first, std::uint32_t last,
                          std::span<int> outcomes) noexcept {
    // Each message where NLMSG_OK would find it (without its int/unsigned comparison).
    const char* buf = datagram.data();
    const std::size_t len = datagram.size();
    for (std::size_t at = 0; at + sizeof(nlmsghdr) <= len;) {
        const auto* m = reinterpret_cast<const nlmsghdr*>(buf + at);
        if (m->nlmsg_len < sizeof(nlmsghdr) || m->nlmsg_len > len - at) break;
        at += NLMSG_ALIGN(m->nlmsg_len);
        if (m->nlmsg_type != NLMSG_ERROR || m->nlmsg_seq < first || m->nlmsg_seq > last) continue;
        if (m->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) continue;
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(m));
        outcomes[m->nlmsg_seq - first] = -e->error;
        if (m->nlmsg_seq != last) continue;
        // The kernel handles a datagram's requests in order: those not answered were added.
        for (int& o : outcomes)
            if (o == route_unknown) o = 0;
        return true;
    }
    return false;
}

util::Result<void> add_routes(int ifindex, std::span<const RouteSpec> routes,
                              std::vector<int>& errors) {
    errors.assign(routes.size(), route_not_sent);
    if (routes.empty()) return {};
    auto fd = open_socket();
    if (!fd) return util::fail(fd.error());
    std::vector<char> buf(batch * 128);
    for (std::size_t start = 0; start < routes.size(); start += batch) {
        const std::size_t count = std::min(batch, routes.size() - start);
        if (auto r = add_batch(fd->get(), ifindex, routes, start, count, buf, errors); !r) return r;
    }
    return {};
}

}  // namespace ringtun::tun
