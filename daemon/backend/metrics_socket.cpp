#include "daemon/backend/metrics_socket.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include "daemon/backend/socket_setup.hpp"

namespace ringtun::daemon {

util::Result<util::UniqueFd> open_metrics_listener(const Endpoint& at) {
    const std::string where = "metrics listener on " + at.to_string();
    util::UniqueFd fd(::socket(at.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return util::fail(util::sys_error("socket", errno, where));
    if (auto r = set_socket_option(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR"); !r)
        return util::fail(r.error());
    if (at.family() == AF_INET6)
        if (auto r = set_socket_option(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY"); !r)
            return util::fail(r.error());
    if (::bind(fd.get(), &at.addr.sa, at.length()) != 0)
        return util::fail(util::sys_error("bind", errno, where));
    if (::listen(fd.get(), metrics_backlog) != 0)
        return util::fail(util::sys_error("listen", errno, where));
    return fd;
}

}  // namespace ringtun::daemon
