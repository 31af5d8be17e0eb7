#include "daemon/backend/socket_setup.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>

namespace ringtun::daemon {

util::Result<OpenedSocket> open_dual_stack(int type, const char* what) {
    OpenedSocket s{util::UniqueFd(::socket(AF_INET6, type | SOCK_CLOEXEC, 0)), AF_INET6};
    if (!s.fd && errno == EAFNOSUPPORT) {
        s.family = AF_INET;
        s.fd.reset(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    }
    if (!s.fd) return util::fail(util::sys_error("socket", errno, what));
    if (s.family == AF_INET6)
        if (auto r = set_socket_option(s.fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 0, "IPV6_V6ONLY"); !r)
            return util::fail(r.error());
    return s;
}

util::Result<void> set_socket_option(int fd, int level, int name, int value, const char* what) {
    if (setsockopt(fd, level, name, &value, sizeof value) != 0)
        return util::fail(util::sys_error("setsockopt", errno, what));
    return {};
}

util::Result<std::uint16_t> bind_wildcard(int fd, int family, std::uint16_t port,
                                          const char* what) {
    sockaddr_storage addr{};
    socklen_t len;
    if (family == AF_INET6) {
        auto& a = reinterpret_cast<sockaddr_in6&>(addr);
        a.sin6_family = AF_INET6;
        a.sin6_addr = in6addr_any;
        a.sin6_port = htons(port);
        len = sizeof a;
    } else {
        auto& a = reinterpret_cast<sockaddr_in&>(addr);
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        len = sizeof a;
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
        // `run` keeps CAP_NET_BIND_SERVICE only when it starts with such a port (cli/privileges).
        const char* why = errno == EACCES && port != 0 && port < 1024
                              ? " (below 1024: needs CAP_NET_BIND_SERVICE, which ringtun run "
                                "keeps only when its configuration starts with such a port)"
                              : "";
        return util::fail(util::sys_error(
            "bind", errno, std::string(what) + " port " + std::to_string(port) + why));
    }
    len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return util::fail(util::sys_error("getsockname", errno, what));
    return static_cast<std::uint16_t>(ntohs(family == AF_INET6
                                                ? reinterpret_cast<sockaddr_in6&>(addr).sin6_port
                                                : reinterpret_cast<sockaddr_in&>(addr).sin_port));
}

}  // namespace ringtun::daemon
