// LinkWatch on a real TUN interface: what its datagrams say when the link goes up and down
// (ip link set ... up/down), and RouteSocket::is_up. Runs as root in a private network
// namespace (see main.cpp).
#include "tun/link_watch.hpp"

#include <doctest/doctest.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "tun/netlink.hpp"
#include "tun/tun_device.hpp"

namespace {

using ringtun::tun::link_up_in;
using ringtun::tun::LinkWatch;
using ringtun::tun::RouteSocket;
using ringtun::tun::TunDevice;
using ringtun::util::UniqueFd;

// Clears IFF_UP with SIOCSIFFLAGS, as `ip link set NAME down` does through netlink.
void take_down(const std::string& name) {
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    REQUIRE(s.valid());
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    REQUIRE(::ioctl(s.get(), SIOCGIFFLAGS, &ifr) == 0);
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags & ~IFF_UP);
    REQUIRE(::ioctl(s.get(), SIOCSIFFLAGS, &ifr) == 0);
}

// Reads the watch for up to 2 s until a datagram says `ifindex` is up (`want`) or down.
bool saw(const LinkWatch& w, int ifindex, bool want) {
    std::array<std::uint8_t, 8192> buf{};
    for (int i = 0; i < 20; ++i) {
        pollfd p{w.fd(), POLLIN, 0};
        if (::poll(&p, 1, 100) != 1) continue;
        const ssize_t n = ::recv(w.fd(), buf.data(), buf.size(), MSG_DONTWAIT);
        if (n <= 0) continue;
        const auto up = link_up_in({buf.data(), static_cast<std::size_t>(n)}, ifindex);
        if (up && *up == want) return true;
    }
    return false;
}

}  // namespace

TEST_CASE("link watch: a link going up and down, as its datagrams and is_up say") {
    auto dev = TunDevice::create("rt-watch0", false);
    REQUIRE_MESSAGE(dev.has_value(), dev.error().to_string());
    auto rs = RouteSocket::open();
    REQUIRE(rs.has_value());
    auto w = LinkWatch::open();
    REQUIRE_MESSAGE(w.has_value(), w.error().to_string());
    const int idx = dev->ifindex();
    CHECK_FALSE(rs->is_up(idx).value());

    REQUIRE(rs->set_up(idx).has_value());
    CHECK(saw(*w, idx, true));
    CHECK(rs->is_up(idx).value());
    take_down(dev->name());
    CHECK(saw(*w, idx, false));
    CHECK_FALSE(rs->is_up(idx).value());
    CHECK_FALSE(rs->is_up(999999).has_value());
}

TEST_CASE("link watch: datagrams about other links, or malformed, say nothing") {
    struct {
        nlmsghdr h;
        ifinfomsg info;
    } msg{};
    msg.h.nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg));
    msg.h.nlmsg_type = RTM_NEWLINK;
    msg.info.ifi_index = 7;
    msg.info.ifi_flags = IFF_UP;
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(&msg);
    CHECK(link_up_in({bytes, sizeof msg}, 7) == std::optional<bool>(true));
    CHECK_FALSE(link_up_in({bytes, sizeof msg}, 8).has_value());
    CHECK_FALSE(link_up_in({bytes, sizeof msg - 1}, 7).has_value());  // truncated
    CHECK_FALSE(link_up_in({}, 7).has_value());
    // At any alignment: a datagram need not start at a 4-byte boundary.
    std::array<std::uint8_t, sizeof msg + 1> odd{};
    std::memcpy(odd.data() + 1, &msg, sizeof msg);
    CHECK(link_up_in({odd.data() + 1, sizeof msg}, 7) == std::optional<bool>(true));
    msg.h.nlmsg_type = RTM_DELLINK;
    CHECK(link_up_in({bytes, sizeof msg}, 7) == std::optional<bool>(false));
    msg.h.nlmsg_type = RTM_NEWADDR;
    CHECK_FALSE(link_up_in({bytes, sizeof msg}, 7).has_value());
}
