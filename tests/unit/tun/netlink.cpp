// RouteSocket on a real TUN interface: MTU, addresses, link up, and a packet routed into the
// TUN fd. Runs as root in a private network namespace (see tun_main.cpp).
#include "tun/netlink.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "tun/tun_device.hpp"

namespace {

using ringtun::tun::RouteSocket;
using ringtun::tun::TunDevice;
using ringtun::util::UniqueFd;

constexpr std::array<std::uint8_t, 4> kV4 = {10, 77, 0, 1};
constexpr std::array<std::uint8_t, 16> kV6 = {0xfd, 0x00, 0x77, 0, 0, 0, 0, 0,
                                              0,    0,    0,    0, 0, 0, 0, 1};

UniqueFd inet_socket() {
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    REQUIRE(s.valid());
    return s;
}

// The interface's MTU as SIOCGIFMTU reports it, independently of libnl.
int ioctl_mtu(const std::string& name) {
    UniqueFd s = inet_socket();
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    REQUIRE(::ioctl(s.get(), SIOCGIFMTU, &ifr) == 0);
    return ifr.ifr_mtu;
}

short ioctl_flags(const std::string& name) {
    UniqueFd s = inet_socket();
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    REQUIRE(::ioctl(s.get(), SIOCGIFFLAGS, &ifr) == 0);
    return ifr.ifr_flags;
}

int prefix_of(const std::uint8_t* mask, std::size_t len) {
    int bits = 0;
    for (std::size_t i = 0; i < len; ++i)
        bits += __builtin_popcount(mask[i]);
    return bits;
}

// How many addresses getifaddrs() lists on `name` equal to `addr` with `prefix`.
int count_address(const std::string& name, int family, const std::uint8_t* addr, int prefix) {
    ifaddrs* list = nullptr;
    REQUIRE(::getifaddrs(&list) == 0);
    int found = 0;
    for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
        if (a->ifa_addr == nullptr || a->ifa_netmask == nullptr) continue;
        if (name != a->ifa_name || a->ifa_addr->sa_family != family) continue;
        const std::uint8_t* bytes = nullptr;
        const std::uint8_t* mask = nullptr;
        std::size_t len = 0;
        if (family == AF_INET) {
            bytes = reinterpret_cast<const std::uint8_t*>(
                &reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr);
            mask = reinterpret_cast<const std::uint8_t*>(
                &reinterpret_cast<const sockaddr_in*>(a->ifa_netmask)->sin_addr);
            len = 4;
        } else {
            bytes = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr)->sin6_addr.s6_addr;
            mask = reinterpret_cast<const sockaddr_in6*>(a->ifa_netmask)->sin6_addr.s6_addr;
            len = 16;
        }
        if (std::memcmp(bytes, addr, len) == 0 && prefix_of(mask, len) == prefix) ++found;
    }
    ::freeifaddrs(list);
    return found;
}

struct Fixture {
    TunDevice dev;
    RouteSocket rs;
};

Fixture make(const char* name) {
    auto dev = TunDevice::create(name, false);
    REQUIRE_MESSAGE(dev.has_value(), dev.error().to_string());
    auto rs = RouteSocket::open();
    REQUIRE_MESSAGE(rs.has_value(), rs.error().to_string());
    return Fixture{std::move(*dev), std::move(*rs)};
}

// True if `pkt` is an IPv4 UDP datagram from 10.77.0.1 to 10.77.0.2:`port` carrying `payload`.
bool is_probe(const std::uint8_t* pkt, std::size_t n, std::uint16_t port, const char* payload) {
    if (n < 28 || (pkt[0] >> 4) != 4 || pkt[9] != IPPROTO_UDP) return false;
    const std::size_t ihl = (pkt[0] & 0x0f) * 4u;
    const std::uint8_t src[4] = {10, 77, 0, 1}, dst[4] = {10, 77, 0, 2};
    if (std::memcmp(pkt + 12, src, 4) != 0 || std::memcmp(pkt + 16, dst, 4) != 0) return false;
    if (n < ihl + 8 + std::strlen(payload)) return false;
    const std::uint16_t dport = static_cast<std::uint16_t>(pkt[ihl + 2] << 8 | pkt[ihl + 3]);
    return dport == port && std::memcmp(pkt + ihl + 8, payload, std::strlen(payload)) == 0;
}

}  // namespace

TEST_CASE("set_mtu: the kernel reports the new MTU") {
    Fixture f = make("rt-mtu0");
    REQUIRE(f.rs.set_mtu(f.dev.ifindex(), 1420).has_value());
    CHECK(ioctl_mtu(f.dev.name()) == 1420);
    auto read = f.rs.mtu(f.dev.ifindex());
    REQUIRE(read.has_value());
    CHECK(*read == 1420u);

    REQUIRE(f.rs.set_mtu(f.dev.ifindex(), 1280).has_value());
    CHECK(ioctl_mtu(f.dev.name()) == 1280);
}

TEST_CASE("set_mtu: kernel refusals come back as errors") {
    Fixture f = make("rt-mtu1");
    auto too_big = f.rs.set_mtu(f.dev.ifindex(), 70000);
    REQUIRE_FALSE(too_big.has_value());
    CHECK(too_big.error().sys_errno == EINVAL);
    CHECK(ioctl_mtu(f.dev.name()) == 1500);

    auto missing = f.rs.set_mtu(999999, 1420);
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().sys_errno != 0);
}

TEST_CASE("add_address: IPv4 and IPv6 appear, and adding twice is not an error") {
    Fixture f = make("rt-addr0");
    const int idx = f.dev.ifindex();
    REQUIRE(f.rs.add_address(idx, AF_INET, kV4.data(), 24).has_value());
    auto v6 = f.rs.add_address(idx, AF_INET6, kV6.data(), 64);
    REQUIRE_MESSAGE(v6.has_value(), v6.error().to_string());
    CHECK(count_address(f.dev.name(), AF_INET, kV4.data(), 24) == 1);
    CHECK(count_address(f.dev.name(), AF_INET6, kV6.data(), 64) == 1);

    CHECK(f.rs.add_address(idx, AF_INET, kV4.data(), 24).has_value());
    CHECK(f.rs.add_address(idx, AF_INET6, kV6.data(), 64).has_value());
    CHECK(count_address(f.dev.name(), AF_INET, kV4.data(), 24) == 1);
    CHECK(count_address(f.dev.name(), AF_INET6, kV6.data(), 64) == 1);

    const std::array<std::uint8_t, 4> host = {10, 77, 1, 9};
    REQUIRE(f.rs.add_address(idx, AF_INET, host.data(), 32).has_value());
    CHECK(count_address(f.dev.name(), AF_INET, host.data(), 32) == 1);
}

TEST_CASE("add_address: bad arguments are refused") {
    Fixture f = make("rt-addr1");
    const int idx = f.dev.ifindex();
    CHECK_FALSE(f.rs.add_address(idx, AF_PACKET, kV4.data(), 24).has_value());
    CHECK_FALSE(f.rs.add_address(idx, AF_INET, kV4.data(), 33).has_value());
    CHECK_FALSE(f.rs.add_address(idx, AF_INET6, kV6.data(), 129).has_value());
    CHECK_FALSE(f.rs.add_address(idx, AF_INET, nullptr, 24).has_value());
    CHECK_FALSE(f.rs.add_address(999999, AF_INET, kV4.data(), 24).has_value());
}

TEST_CASE("set_up: the link is administratively up") {
    Fixture f = make("rt-up0");
    CHECK((ioctl_flags(f.dev.name()) & IFF_UP) == 0);
    REQUIRE(f.rs.set_up(f.dev.ifindex()).has_value());
    CHECK((ioctl_flags(f.dev.name()) & IFF_UP) != 0);
    CHECK(f.rs.set_up(f.dev.ifindex()).has_value());
}

TEST_CASE("a datagram routed to the interface is readable on the TUN fd") {
    Fixture f = make("rt-pkt0");
    REQUIRE(f.rs.add_address(f.dev.ifindex(), AF_INET, kV4.data(), 24).has_value());
    REQUIRE(f.rs.set_up(f.dev.ifindex()).has_value());

    constexpr std::uint16_t kPort = 51999;
    constexpr const char* kPayload = "ringtun tun probe";
    UniqueFd s = inet_socket();
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(kPort);
    REQUIRE(::inet_pton(AF_INET, "10.77.0.2", &dst.sin_addr) == 1);
    const auto sent = ::sendto(s.get(), kPayload, std::strlen(kPayload), 0,
                               reinterpret_cast<const sockaddr*>(&dst), sizeof dst);
    REQUIRE(sent == static_cast<ssize_t>(std::strlen(kPayload)));

    // The kernel may also emit IPv6 neighbour discovery or MLD packets; skip those.
    bool found = false;
    for (int i = 0; i < 32 && !found; ++i) {
        pollfd p{f.dev.fd(), POLLIN, 0};
        if (::poll(&p, 1, 2000) != 1) break;
        std::uint8_t pkt[2048];
        const ssize_t n = ::read(f.dev.fd(), pkt, sizeof pkt);
        REQUIRE(n > 0);
        found = is_probe(pkt, static_cast<std::size_t>(n), kPort, kPayload);
    }
    CHECK(found);
}
