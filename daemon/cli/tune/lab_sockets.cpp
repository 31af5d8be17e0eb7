#include "daemon/cli/tune/lab_sockets.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>

#include <cerrno>
#include <thread>

#include "daemon/cli/tune/interrupt.hpp"

namespace ringtun::daemon::tune {

util::Result<util::UniqueFd> socket_in(int netns_fd, int type) {
    int fd = -1, err = 0;
    const char* where = "setns";
    std::thread t([&] {
        if (::setns(netns_fd, CLONE_NEWNET) != 0) {
            err = errno;
            return;
        }
        fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            where = "socket";
        }
    });
    t.join();
    if (fd < 0) return util::fail(util::sys_error(where, err));
    return util::UniqueFd(fd);
}

sockaddr_in ipv4(const char* dotted, std::uint16_t port) noexcept {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, dotted, &a.sin_addr);
    return a;
}

util::Result<void> set_timeouts(int fd, int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
        return util::fail(util::sys_error("setsockopt SO_RCVTIMEO/SO_SNDTIMEO", errno));
    return {};
}

util::Result<void> bind_to(int fd, const sockaddr_in& addr) {
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        return util::fail(util::sys_error("bind", errno));
    return {};
}

util::Result<void> connect_within(int fd, const sockaddr_in& addr, int ms) {
    const int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    int err = rc == 0 ? 0 : errno;
    for (int waited = 0; err == EINPROGRESS && waited < ms && !interrupted(); waited += 100) {
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, 100) == 1) {
            socklen_t len = sizeof err;
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        }
    }
    ::fcntl(fd, F_SETFL, flags);
    if (err == EINPROGRESS) err = ETIMEDOUT;
    if (err != 0) return util::fail(util::sys_error("connect", err));
    return {};
}

}  // namespace ringtun::daemon::tune
