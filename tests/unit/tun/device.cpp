// TunDevice: creation, names, blocking mode and adoption of inherited fds. Runs as root in a
// private network namespace (see tun_main.cpp).
#include "tun/tun_device.hpp"
#include "tun/virtio_net_hdr.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using ringtun::tun::TunDevice;
using ringtun::util::UniqueFd;

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

bool has_nonblock(int fd) {
    return (::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
}

// A /dev/net/tun fd attached with arbitrary flags, for adopt() to judge.
UniqueFd raw_tun(const char* name, short flags) {
    UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    REQUIRE(fd.valid());
    ifreq ifr{};
    ifr.ifr_flags = flags;
    std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    REQUIRE(::ioctl(fd.get(), TUNSETIFF, &ifr) == 0);
    return fd;
}

}  // namespace

TEST_CASE("create: name and ifindex match the kernel's view") {
    auto dev = TunDevice::create("rt-create0", false);
    REQUIRE_MESSAGE(dev.has_value(), dev.error().to_string());
    CHECK(dev->name() == "rt-create0");
    CHECK(dev->fd() >= 0);
    CHECK(dev->ifindex() > 0);
    CHECK(static_cast<unsigned>(dev->ifindex()) == ::if_nametoindex("rt-create0"));
    CHECK((::fcntl(dev->fd(), F_GETFD) & FD_CLOEXEC) != 0);
}

TEST_CASE("create: the interface goes away with the fd") {
    {
        auto dev = TunDevice::create("rt-gone0", false);
        REQUIRE(dev.has_value());
        CHECK(::if_nametoindex("rt-gone0") != 0);
    }
    CHECK(::if_nametoindex("rt-gone0") == 0);
}

TEST_CASE("create: a name of exactly 15 bytes is accepted") {
    auto dev = TunDevice::create("abcdefghijklmno", false);
    REQUIRE_MESSAGE(dev.has_value(), dev.error().to_string());
    CHECK(dev->name() == "abcdefghijklmno");
}

TEST_CASE("create: bad names are refused before touching the kernel") {
    const char* bad[] = {"", "abcdefghijklmnop", ".", "..", "a/b", "a:b", "a b", "tun%d", "a\tb"};
    for (const char* name : bad) {
        CAPTURE(name);
        auto dev = TunDevice::create(name, false);
        REQUIRE_FALSE(dev.has_value());
        CHECK(dev.error().where == "interface name");
        CHECK(dev.error().sys_errno == 0);
    }
    CHECK_FALSE(ringtun::tun::validate_name(std::string_view("a\0b", 3)).has_value());
    CHECK(ringtun::tun::validate_name("wg0").has_value());
}

TEST_CASE("create: errors say why") {
    SUBCASE("an existing non-TUN interface") {
        auto dev = TunDevice::create("lo", false);
        REQUIRE_FALSE(dev.has_value());
        CHECK(dev.error().sys_errno == EINVAL);
        CHECK(contains(dev.error().to_string(), "not a single-queue TUN"));
    }
    SUBCASE("a TUN interface another fd holds") {
        auto first = TunDevice::create("rt-busy0", false);
        REQUIRE(first.has_value());
        auto second = TunDevice::create("rt-busy0", false);
        REQUIRE_FALSE(second.has_value());
        CHECK(second.error().sys_errno == EBUSY);
        CHECK(contains(second.error().to_string(), "rt-busy0"));
    }
}

TEST_CASE("blocking mode is honoured and can be changed") {
    auto nb = TunDevice::create("rt-nonblock0", false);
    REQUIRE(nb.has_value());
    CHECK(has_nonblock(nb->fd()));
    REQUIRE(nb->is_blocking().has_value());
    CHECK_FALSE(*nb->is_blocking());
    char buf[2048];
    errno = 0;
    CHECK(::read(nb->fd(), buf, sizeof buf) == -1);
    CHECK(errno == EAGAIN);

    auto bl = TunDevice::create("rt-block0", true);
    REQUIRE(bl.has_value());
    CHECK_FALSE(has_nonblock(bl->fd()));
    CHECK(*bl->is_blocking());

    REQUIRE(bl->set_blocking(false).has_value());
    CHECK(has_nonblock(bl->fd()));
    errno = 0;
    CHECK(::read(bl->fd(), buf, sizeof buf) == -1);
    CHECK(errno == EAGAIN);
    REQUIRE(bl->set_blocking(true).has_value());
    CHECK_FALSE(has_nonblock(bl->fd()));
}

TEST_CASE("adopt: an fd from create() is accepted and made close-on-exec") {
    auto dev = TunDevice::create("rt-adopt0", false);
    REQUIRE(dev.has_value());
    const int copy = ::dup(dev->fd());
    REQUIRE(copy >= 0);
    REQUIRE((::fcntl(copy, F_GETFD) & FD_CLOEXEC) == 0);

    auto adopted = TunDevice::adopt(copy);
    REQUIRE_MESSAGE(adopted.has_value(), adopted.error().to_string());
    CHECK(adopted->fd() == copy);
    CHECK(adopted->name() == "rt-adopt0");
    CHECK(adopted->ifindex() == dev->ifindex());
    CHECK((::fcntl(copy, F_GETFD) & FD_CLOEXEC) != 0);
}

TEST_CASE("adopt: fds that are not a usable TUN are refused and left open") {
    SUBCASE("a pipe") {
        int p[2];
        REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
        UniqueFd r(p[0]), w(p[1]);
        auto dev = TunDevice::adopt(r.get());
        REQUIRE_FALSE(dev.has_value());
        CHECK(contains(dev.error().to_string(), "is not a TUN device"));
        CHECK(::fcntl(r.get(), F_GETFD) >= 0);
    }
    SUBCASE("a closed fd") {
        auto dev = TunDevice::adopt(-1);
        REQUIRE_FALSE(dev.has_value());
        CHECK(dev.error().sys_errno == EBADF);
    }
    SUBCASE("/dev/net/tun not attached to an interface") {
        UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
        REQUIRE(fd.valid());
        auto dev = TunDevice::adopt(fd.get());
        REQUIRE_FALSE(dev.has_value());
        CHECK(dev.error().sys_errno == EBADFD);
    }
    SUBCASE("a TAP device") {
        UniqueFd fd = raw_tun("rt-tap0", IFF_TAP | IFF_NO_PI);
        auto dev = TunDevice::adopt(fd.get());
        REQUIRE_FALSE(dev.has_value());
        CHECK(contains(dev.error().to_string(), "TAP"));
    }
}

TEST_CASE("adopt: a TUN with virtio-net headers is taken with them, one without as it is") {
    UniqueFd with = raw_tun("rt-vnet0", IFF_TUN | IFF_NO_PI | IFF_VNET_HDR);
    auto dev = TunDevice::adopt(with.release());
    REQUIRE(dev.has_value());
    CHECK(dev->vnet_hdr());
    UniqueFd without = raw_tun("rt-vnet1", IFF_TUN | IFF_NO_PI);
    auto plain = TunDevice::adopt(without.release());
    REQUIRE(plain.has_value());
    CHECK_FALSE(plain->vnet_hdr());
}

TEST_CASE("set_offload: support is probed by trying; segmentation needs checksum offload") {
    using namespace ringtun::tun;
    auto dev = TunDevice::create("rt-off0", false, true);
    REQUIRE(dev.has_value());
    CHECK(dev->vnet_hdr());
    CHECK(dev->set_offload(tun_f_csum | tun_f_tso4 | tun_f_tso6).has_value());
    CHECK(dev->set_offload(0).has_value());
    // TSO without CSUM is a bit the kernel does not consume: EINVAL.
    auto bad = dev->set_offload(tun_f_tso4);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().sys_errno == EINVAL);
}

TEST_CASE("adopt_from_env: reads RINGTUN_TUN_FD") {
    ::unsetenv(ringtun::tun::kTunFdEnv);
    auto none = TunDevice::adopt_from_env();
    REQUIRE(none.has_value());
    CHECK_FALSE(none->has_value());

    for (const char* bad : {"", "abc", "12x", "-3", " 4"}) {
        CAPTURE(bad);
        ::setenv(ringtun::tun::kTunFdEnv, bad, 1);
        auto dev = TunDevice::adopt_from_env();
        REQUIRE_FALSE(dev.has_value());
        CHECK(dev.error().where == ringtun::tun::kTunFdEnv);
    }

    auto created = TunDevice::create("rt-env0", false);
    REQUIRE(created.has_value());
    const int copy = ::dup(created->fd());
    REQUIRE(copy >= 0);
    ::setenv(ringtun::tun::kTunFdEnv, std::to_string(copy).c_str(), 1);
    auto dev = TunDevice::adopt_from_env();
    ::unsetenv(ringtun::tun::kTunFdEnv);
    REQUIRE_MESSAGE(dev.has_value(), dev.error().to_string());
    REQUIRE(dev->has_value());
    CHECK((*dev)->fd() == copy);
    CHECK((*dev)->name() == "rt-env0");
}
