// Sockets inside the lab's network namespaces, for `ringtun tune`'s traffic. A socket
// belongs for life to the namespace it was made in, whichever thread then uses it; so each
// is made on a short-lived thread that enters the namespace (setns(CLONE_NEWNET) changes only
// the calling thread's), and the measurements use them from wherever they run.
#pragma once

#include <netinet/in.h>

#include <cstdint>

#include "util/result.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::daemon::tune {

// An IPv4 socket of `type` (SOCK_STREAM, SOCK_DGRAM; close-on-exec added) in the namespace
// `netns_fd` refers to (an open /run/netns/NAME).
util::Result<util::UniqueFd> socket_in(int netns_fd, int type);

// `dotted`:`port` ("10.100.0.2", 5201).
sockaddr_in ipv4(const char* dotted, std::uint16_t port) noexcept;

// SO_RCVTIMEO and SO_SNDTIMEO: a blocked call returns EAGAIN after `ms`, so loops see the
// interrupt flag and their deadlines.
util::Result<void> set_timeouts(int fd, int ms);

util::Result<void> bind_to(int fd, const sockaddr_in& addr);
// connect(2) that gives up after `ms` (or when interrupted).
util::Result<void> connect_within(int fd, const sockaddr_in& addr, int ms);

}  // namespace ringtun::daemon::tune
