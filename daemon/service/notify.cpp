#include "daemon/service/notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "util/unique_fd.hpp"

namespace ringtun::daemon {

void notify_systemd(std::string_view state) noexcept {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || (path[0] != '/' && path[0] != '@')) return;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::size_t len = std::strlen(path);
    if (len >= sizeof addr.sun_path) return;
    std::memcpy(addr.sun_path, path, len);
    if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
    util::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) return;
    const auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
    // Never waits: the loop's heartbeat sends from here.
    (void)::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                   reinterpret_cast<const sockaddr*>(&addr), addr_len);
}

std::uint64_t watchdog_usec() noexcept {
    const char* usec = std::getenv("WATCHDOG_USEC");
    if (usec == nullptr) return 0;
    if (const char* pid = std::getenv("WATCHDOG_PID");
        pid != nullptr && std::strtoll(pid, nullptr, 10) != static_cast<long long>(::getpid()))
        return 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(usec, &end, 10);
    return end != usec && *end == '\0' ? v : 0;
}

}  // namespace ringtun::daemon
