// RouteSocket: rtnetlink requests through libnl-route-3, every libnl object owned by RAII.
#include "tun/netlink.hpp"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/inet6.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/route.h>
#include <netlink/route/tc.h>
#include <netlink/socket.h>

#include <string>

namespace ringtun::tun {
namespace {

// Deleter calling a libnl release function (put/free) on the owned object.
template <auto Release>
struct NlRelease {
    template <typename P>
    void operator()(P* p) const noexcept {
        Release(p);
    }
};

using LinkPtr = std::unique_ptr<rtnl_link, NlRelease<&rtnl_link_put>>;
using AddrPtr = std::unique_ptr<rtnl_addr, NlRelease<&rtnl_addr_put>>;
using NlAddrPtr = std::unique_ptr<nl_addr, NlRelease<&nl_addr_put>>;
using QdiscPtr = std::unique_ptr<rtnl_qdisc, NlRelease<&rtnl_qdisc_put>>;
using RoutePtr = std::unique_ptr<rtnl_route, NlRelease<&rtnl_route_put>>;
using MsgPtr = std::unique_ptr<nl_msg, NlRelease<&nlmsg_free>>;

// libnl reports negative NLE_* codes; map the ones with a clear errno so callers and logs see
// the usual strerror text.
int nle_to_errno(int nle) {
    switch (nle < 0 ? -nle : nle) {
        case NLE_PERM:
            return EPERM;
        case NLE_NOACCESS:
            return EACCES;
        case NLE_EXIST:
            return EEXIST;
        case NLE_NODEV:
            return ENODEV;
        case NLE_OBJ_NOTFOUND:
            return ENODEV;
        case NLE_INVAL:
            return EINVAL;
        case NLE_RANGE:
            return ERANGE;
        case NLE_NOMEM:
            return ENOMEM;
        case NLE_BUSY:
            return EBUSY;
        case NLE_OPNOTSUPP:
            return EOPNOTSUPP;
        case NLE_AF_NOSUPPORT:
            return EAFNOSUPPORT;
        case NLE_NOADDR:
            return EADDRNOTAVAIL;
        default:
            return 0;
    }
}

util::Error nl_error(std::string where, int nle, std::string detail) {
    const int err = nle_to_errno(nle);
    if (err == 0) detail += std::string(" [libnl: ") + nl_geterror(nle) + "]";
    if (err == EPERM || err == EACCES) detail += "; needs CAP_NET_ADMIN";
    return util::sys_error(std::move(where), err, std::move(detail));
}

std::string on_if(int ifindex) {
    return " on ifindex " + std::to_string(ifindex);
}

util::Result<LinkPtr> get_link(nl_sock* sock, int ifindex) {
    rtnl_link* raw = nullptr;
    const int rc = rtnl_link_get_kernel(sock, ifindex, nullptr, &raw);
    LinkPtr link(raw);
    if (rc < 0) return util::fail(nl_error("rtnl_link_get_kernel", rc, "lookup" + on_if(ifindex)));
    return link;
}

// Applies `change` to the link (rtnl_link_change falls back to RTM_SETLINK where needed).
util::Result<void> change_link(nl_sock* sock, int ifindex, const LinkPtr& change,
                               const std::string& what) {
    auto orig = get_link(sock, ifindex);
    if (!orig) return util::fail(orig.error());
    const int rc = rtnl_link_change(sock, orig->get(), change.get(), 0);
    if (rc < 0) return util::fail(nl_error("rtnl_link_change", rc, what + on_if(ifindex)));
    return {};
}

util::Result<LinkPtr> alloc_link() {
    LinkPtr link(rtnl_link_alloc());
    if (!link) return util::fail(util::sys_error("rtnl_link_alloc", ENOMEM));
    return link;
}

}  // namespace

void RouteSocket::SockFree::operator()(nl_sock* s) const noexcept {
    nl_socket_free(s);
}

util::Result<RouteSocket> RouteSocket::open() {
    SockPtr sock(nl_socket_alloc());
    if (!sock) return util::fail(util::sys_error("nl_socket_alloc", ENOMEM));
    const int rc = nl_connect(sock.get(), NETLINK_ROUTE);
    if (rc < 0) return util::fail(nl_error("nl_connect", rc, "NETLINK_ROUTE"));
    return RouteSocket(std::move(sock));
}

util::Result<void> RouteSocket::set_mtu(int ifindex, std::uint32_t mtu) {
    auto change = alloc_link();
    if (!change) return util::fail(change.error());
    rtnl_link_set_mtu(change->get(), mtu);
    return change_link(sock_.get(), ifindex, *change, "set MTU " + std::to_string(mtu));
}

util::Result<std::uint32_t> RouteSocket::mtu(int ifindex) {
    auto link = get_link(sock_.get(), ifindex);
    if (!link) return util::fail(link.error());
    return static_cast<std::uint32_t>(rtnl_link_get_mtu(link->get()));
}

util::Result<void> RouteSocket::set_up(int ifindex) {
    auto change = alloc_link();
    if (!change) return util::fail(change.error());
    rtnl_link_set_flags(change->get(), IFF_UP);
    return change_link(sock_.get(), ifindex, *change, "set link up");
}

util::Result<bool> RouteSocket::is_up(int ifindex) {
    auto link = get_link(sock_.get(), ifindex);
    if (!link) return util::fail(link.error());
    return (rtnl_link_get_flags(link->get()) & IFF_UP) != 0;
}

util::Result<void> RouteSocket::add_address(int ifindex, int family, const std::uint8_t* addr,
                                            std::uint8_t prefix_len) {
    const std::size_t len = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
    if (len == 0 || addr == nullptr || prefix_len > len * 8) {
        return util::fail(util::make_error("add_address", "bad family " + std::to_string(family) +
                                                              " or prefix length /" +
                                                              std::to_string(prefix_len)));
    }
    NlAddrPtr local(nl_addr_build(family, addr, len));
    AddrPtr req(rtnl_addr_alloc());
    if (!local || !req) return util::fail(util::sys_error("nl_addr_build", ENOMEM));
    nl_addr_set_prefixlen(local.get(), prefix_len);
    rtnl_addr_set_ifindex(req.get(), ifindex);
    // Takes its own reference to `local` and copies its prefix length.
    int rc = rtnl_addr_set_local(req.get(), local.get());
    if (rc < 0) return util::fail(nl_error("rtnl_addr_set_local", rc, "building request"));

    rc = rtnl_addr_add(sock_.get(), req.get(), 0);
    if (rc < 0 && rc != -NLE_EXIST) {
        char text[INET6_ADDRSTRLEN + 8] = {};
        nl_addr2str(local.get(), text, sizeof text);
        return util::fail(
            nl_error("rtnl_addr_add", rc, std::string("add ") + text + on_if(ifindex)));
    }
    return {};
}

util::Result<void> RouteSocket::set_no_link_local(int ifindex) {
    auto change = alloc_link();
    if (!change) return util::fail(change.error());
    const int rc = rtnl_link_inet6_set_addr_gen_mode(change->get(), IN6_ADDR_GEN_MODE_NONE);
    if (rc < 0) return util::fail(nl_error("rtnl_link_inet6_set_addr_gen_mode", rc, "none"));
    return change_link(sock_.get(), ifindex, *change, "set addrgenmode none");
}

util::Result<void> RouteSocket::set_no_queue(int ifindex) {
    QdiscPtr q(rtnl_qdisc_alloc());
    if (!q) return util::fail(util::sys_error("rtnl_qdisc_alloc", ENOMEM));
    rtnl_tc_set_ifindex(TC_CAST(q.get()), ifindex);
    rtnl_tc_set_parent(TC_CAST(q.get()), TC_H_ROOT);
    int rc = rtnl_tc_set_kind(TC_CAST(q.get()), "noqueue");
    if (rc < 0) return util::fail(nl_error("rtnl_tc_set_kind", rc, "noqueue"));
    rc = rtnl_qdisc_add(sock_.get(), q.get(), NLM_F_CREATE | NLM_F_REPLACE);
    if (rc < 0) return util::fail(nl_error("rtnl_qdisc_add", rc, "noqueue" + on_if(ifindex)));
    return {};
}

namespace {

std::size_t address_length(int family) {
    return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

// A route to the prefix through `ifindex` in `table`, as a request object.
util::Result<RoutePtr> route_request(int ifindex, int family, const std::uint8_t* addr,
                                     std::uint8_t prefix_len, std::uint32_t table) {
    const std::size_t len = address_length(family);
    if (len == 0 || prefix_len > len * 8)
        return util::fail(util::make_error("route", "bad family or prefix length"));
    RoutePtr route(rtnl_route_alloc());
    NlAddrPtr dst(nl_addr_build(family, addr, len));
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    if (!route || !dst || !nh) {
        if (nh) rtnl_route_nh_free(nh);
        return util::fail(util::sys_error("rtnl_route_alloc", ENOMEM));
    }
    nl_addr_set_prefixlen(dst.get(), prefix_len);
    rtnl_route_set_family(route.get(), static_cast<std::uint8_t>(family));
    rtnl_route_set_table(route.get(), table);
    rtnl_route_set_scope(route.get(), RT_SCOPE_LINK);
    rtnl_route_set_protocol(route.get(), route_protocol);
    rtnl_route_set_type(route.get(), RTN_UNICAST);
    rtnl_route_nh_set_ifindex(nh, ifindex);
    rtnl_route_add_nexthop(route.get(), nh);  // the route owns it now
    if (const int rc = rtnl_route_set_dst(route.get(), dst.get()); rc < 0)
        return util::fail(nl_error("rtnl_route_set_dst", rc, "building route"));
    return route;
}

// One rule request (RTM_NEWRULE or RTM_DELRULE) for wg-quick's default-route rules: with
// `mark`, "not fwmark MARK lookup TABLE"; without, "lookup TABLE suppress_prefixlength 0".
// Ours carry route_protocol, so that a delete never matches another owner's identical rule.
int send_rule(nl_sock* sock, int type, int flags, int family, std::uint32_t mark,
              std::uint32_t table) {
    MsgPtr msg(nlmsg_alloc_simple(type, flags));
    if (!msg) return -NLE_NOMEM;
    fib_rule_hdr hdr{};
    hdr.family = static_cast<std::uint8_t>(family);
    hdr.action = FR_ACT_TO_TBL;
    hdr.table =
        table < 256 ? static_cast<std::uint8_t>(table) : static_cast<std::uint8_t>(RT_TABLE_UNSPEC);
    if (mark != 0) hdr.flags = FIB_RULE_INVERT;
    int rc = nlmsg_append(msg.get(), &hdr, sizeof hdr, NLMSG_ALIGNTO);
    if (rc >= 0) rc = nla_put_u32(msg.get(), FRA_TABLE, table);
    if (rc >= 0) rc = nla_put_u8(msg.get(), FRA_PROTOCOL, route_protocol);
    if (rc >= 0 && mark != 0) rc = nla_put_u32(msg.get(), FRA_FWMARK, mark);
    if (rc >= 0 && mark == 0) rc = nla_put_u32(msg.get(), FRA_SUPPRESS_PREFIXLEN, 0);
    if (rc < 0) return rc;
    return nl_send_sync(sock, msg.release());  // frees the message, waits for the ack
}

}  // namespace

util::Result<void> RouteSocket::delete_route(int ifindex, int family, const std::uint8_t* addr,
                                             std::uint8_t prefix_len, std::uint32_t table) {
    auto route = route_request(ifindex, family, addr, prefix_len, table);
    if (!route) return util::fail(route.error());
    const int rc = rtnl_route_delete(sock_.get(), route->get(), 0);
    if (rc < 0 && rc != -NLE_OBJ_NOTFOUND && rc != -NLE_NODEV)
        return util::fail(nl_error("rtnl_route_delete", rc, "route" + on_if(ifindex)));
    return {};
}

bool RouteSocket::table_in_use(std::uint32_t table) {
    nl_cache* cache = nullptr;
    if (rtnl_route_alloc_cache(sock_.get(), AF_UNSPEC, 0, &cache) < 0) return true;  // unsure
    bool used = false;
    for (nl_object* o = nl_cache_get_first(cache); o != nullptr && !used; o = nl_cache_get_next(o))
        used = rtnl_route_get_table(reinterpret_cast<rtnl_route*>(o)) == table;
    nl_cache_free(cache);
    return used;
}

util::Result<void> RouteSocket::add_default_route_rules(int family, std::uint32_t mark,
                                                        std::uint32_t table) {
    // A crashed run's rule for this table (ours by protocol and table) goes first; the
    // suppress rule is not table-specific, and an identical one may be another tunnel's.
    for (int i = 0; i < 16 && send_rule(sock_.get(), RTM_DELRULE, 0, family, mark, table) >= 0;
         ++i) {
    }
    int rc = send_rule(sock_.get(), RTM_NEWRULE, NLM_F_CREATE, family, mark, table);
    if (rc < 0) return util::fail(nl_error("RTM_NEWRULE", rc, "not fwmark lookup table"));
    rc = send_rule(sock_.get(), RTM_NEWRULE, NLM_F_CREATE, family, 0, RT_TABLE_MAIN);
    if (rc < 0) {
        (void)send_rule(sock_.get(), RTM_DELRULE, 0, family, mark, table);
        return util::fail(nl_error("RTM_NEWRULE", rc, "suppress_prefixlength 0"));
    }
    return {};
}

void RouteSocket::delete_default_route_rules(int family, std::uint32_t mark,
                                             std::uint32_t table) noexcept {
    (void)send_rule(sock_.get(), RTM_DELRULE, 0, family, mark, table);
    (void)send_rule(sock_.get(), RTM_DELRULE, 0, family, 0, RT_TABLE_MAIN);
}

}  // namespace ringtun::tun
