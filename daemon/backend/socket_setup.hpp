// What the UDP and TCP transports share when opening their sockets: a dual-stack socket
// (AF_INET6 with IPV6_V6ONLY off, or AF_INET on a host without IPv6), options with errors
// that say which one failed, and binding the wildcard address.
#pragma once

#include <cstdint>

#include "util/result.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::daemon {

struct OpenedSocket {
    util::UniqueFd fd;
    int family = 0;
};

// SOCK_CLOEXEC is added to `type`. What names the socket in errors ("UDP", "TCP listener").
util::Result<OpenedSocket> open_dual_stack(int type, const char* what);

util::Result<void> set_socket_option(int fd, int level, int name, int value, const char* what);

// Binds the wildcard address of `family` on `port` (0: the kernel picks); returns the port.
util::Result<std::uint16_t> bind_wildcard(int fd, int family, std::uint16_t port, const char* what);

}  // namespace ringtun::daemon
