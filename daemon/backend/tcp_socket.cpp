#include "daemon/backend/tcp_socket.hpp"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>

#include "daemon/backend/socket_setup.hpp"
#include "daemon/datapath/udp_cmsg.hpp"

namespace ringtun::daemon {

util::Result<TcpListener> TcpListener::open(std::uint16_t port) {
    auto opened = open_dual_stack(SOCK_STREAM, "TCP listener");
    if (!opened) return util::fail(opened.error());
    TcpListener l;
    l.fd = std::move(opened->fd);
    const int fd = l.fd.get();
    if (auto r = set_socket_option(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR"); !r)
        return util::fail(r.error());
    auto bound = bind_wildcard(fd, opened->family, port, "TCP");
    if (!bound) return util::fail(bound.error());
    if (::listen(fd, 512) != 0) return util::fail(util::sys_error("listen", errno));
    l.port = *bound;
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
        if (auto r = set_socket_option(fd, o.level, o.name, o.value, o.what); !r) return r;
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
