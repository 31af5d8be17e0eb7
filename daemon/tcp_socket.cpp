#include "daemon/tcp_socket.hpp"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>

#include "daemon/udp_socket.hpp"

namespace ringtun::daemon {

namespace {

util::Result<void> set_int(int fd, int level, int name, int value, const char* what) {
    if (setsockopt(fd, level, name, &value, sizeof value) != 0)
        return util::fail(util::sys_error("setsockopt", errno, what));
    return {};
}

}  // namespace

util::Result<TcpListener> TcpListener::open(std::uint16_t port) {
    TcpListener l;
    int family = AF_INET6;
    l.fd.reset(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!l.fd && errno == EAFNOSUPPORT) {
        family = AF_INET;
        l.fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    }
    if (!l.fd) return util::fail(util::sys_error("socket", errno, "TCP listener"));
    const int fd = l.fd.get();
    if (auto r = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR"); !r)
        return util::fail(r.error());
    sockaddr_in6 a6{};
    sockaddr_in a4{};
    int rc;
    if (family == AF_INET6) {
        if (auto r = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0, "IPV6_V6ONLY"); !r)
            return util::fail(r.error());
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons(port);
        rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a6), sizeof a6);
    } else {
        a4.sin_family = AF_INET;
        a4.sin_port = htons(port);
        rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a4), sizeof a4);
    }
    if (rc != 0)
        return util::fail(util::sys_error("bind", errno, "TCP port " + std::to_string(port)));
    if (::listen(fd, 512) != 0) return util::fail(util::sys_error("listen", errno));
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0)
        return util::fail(util::sys_error("getsockname", errno));
    l.port = ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(bound).sin6_port
                                      : reinterpret_cast<sockaddr_in&>(bound).sin_port);
    return l;
}

util::Result<void> set_tunnel_options(int fd) {
    struct Option {
        int level, name, value;
        const char* what;
    };
    const Option options[] = {
        {IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY"},
        {SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE"},
        {IPPROTO_TCP, TCP_KEEPIDLE, 15, "TCP_KEEPIDLE"},
        {IPPROTO_TCP, TCP_KEEPINTVL, 5, "TCP_KEEPINTVL"},
        {IPPROTO_TCP, TCP_KEEPCNT, 3, "TCP_KEEPCNT"},
        {IPPROTO_TCP, TCP_USER_TIMEOUT, 30'000, "TCP_USER_TIMEOUT"},
    };
    for (const Option& o : options)
        if (auto r = set_int(fd, o.level, o.name, o.value, o.what); !r) return r;
    return {};
}

util::Result<util::UniqueFd> open_dialing_socket(const Endpoint& to) {
    util::UniqueFd fd(::socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return util::fail(util::sys_error("socket", errno, "TCP to " + to.to_string()));
    if (auto r = set_tunnel_options(fd.get()); !r) return util::fail(r.error());
    return fd;
}

Endpoint connected_peer(int fd) noexcept {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return {};
    msghdr none{};
    return endpoint_from_datagram(reinterpret_cast<sockaddr*>(&addr), len, none);
}

}  // namespace ringtun::daemon
