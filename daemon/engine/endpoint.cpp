#include "daemon/engine/endpoint.hpp"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

namespace ringtun::daemon {

bool Endpoint::same_address(const Endpoint& o) const noexcept {
    if (family() != o.family()) return false;
    if (family() == AF_INET)
        return addr.in4.sin_port == o.addr.in4.sin_port &&
               addr.in4.sin_addr.s_addr == o.addr.in4.sin_addr.s_addr;
    if (family() == AF_INET6)
        return addr.in6.sin6_port == o.addr.in6.sin6_port &&
               std::memcmp(&addr.in6.sin6_addr, &o.addr.in6.sin6_addr, 16) == 0 &&
               addr.in6.sin6_scope_id == o.addr.in6.sin6_scope_id;
    return true;
}

std::string Endpoint::to_string() const {
    // snprintf, not string concatenation: GCC 12 at -O3 warns falsely (-Wrestrict) on the
    // latter.
    char host[INET6_ADDRSTRLEN] = "?";
    char text[INET6_ADDRSTRLEN + 16];
    const char* suffix = tcp ? "/tcp" : "";
    if (family() == AF_INET) {
        inet_ntop(AF_INET, &addr.in4.sin_addr, host, sizeof host);
        std::snprintf(text, sizeof text, "%s:%u%s", host, ntohs(addr.in4.sin_port), suffix);
    } else if (family() == AF_INET6) {
        inet_ntop(AF_INET6, &addr.in6.sin6_addr, host, sizeof host);
        // A link-local address means nothing without its interface: the scope goes with it,
        // by number (the engine looks up no names), which wg and getaddrinfo(3) read back.
        char scope[16] = "";
        if (addr.in6.sin6_scope_id != 0)
            std::snprintf(scope, sizeof scope, "%%%u", addr.in6.sin6_scope_id);
        std::snprintf(text, sizeof text, "[%s%s]:%u%s", host, scope, ntohs(addr.in6.sin6_port),
                      suffix);
    } else {
        std::snprintf(text, sizeof text, "(none)%s", suffix);
    }
    return text;
}

std::size_t Endpoint::source_bytes(std::span<std::uint8_t, 18> out) const noexcept {
    if (family() == AF_INET) {
        std::memcpy(out.data(), &addr.in4.sin_addr, 4);
        std::memcpy(out.data() + 4, &addr.in4.sin_port, 2);
        return 6;
    }
    std::memcpy(out.data(), &addr.in6.sin6_addr, 16);
    std::memcpy(out.data() + 16, &addr.in6.sin6_port, 2);
    return 18;
}

Endpoint Endpoint::from_sockaddr(const sockaddr* sa, socklen_t len) noexcept {
    Endpoint e;
    if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in))
        std::memcpy(&e.addr.in4, sa, sizeof(sockaddr_in));
    else if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6))
        std::memcpy(&e.addr.in6, sa, sizeof(sockaddr_in6));
    return e;
}

}  // namespace ringtun::daemon
