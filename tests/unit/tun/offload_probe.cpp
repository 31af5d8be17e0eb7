// The scratch TUN and the TUNSETOFFLOAD probe. Runs as root in a private network namespace
// (see main.cpp).
#include "tun/offload_probe.hpp"

#include <doctest/doctest.h>
#include <net/if.h>
#include <sys/utsname.h>

#include <charconv>
#include <cstring>

#include "tun/tun_device.hpp"

using ringtun::tun::TunDevice;

namespace {

// The running kernel as major * 100 + minor (6.2 -> 602).
unsigned kernel_version() {
    utsname u{};
    REQUIRE(::uname(&u) == 0);
    unsigned major = 0, minor = 0;
    const char* end = u.release + std::strlen(u.release);
    auto r = std::from_chars(u.release, end, major);
    REQUIRE(r.ec == std::errc{});
    REQUIRE(*r.ptr == '.');
    std::from_chars(r.ptr + 1, end, minor);
    return major * 100 + minor;
}

}  // namespace

TEST_CASE("create_scratch: the kernel names a new interface, gone with the fd") {
    std::string name;
    {
        auto dev = TunDevice::create_scratch(true);
        REQUIRE_MESSAGE(dev.has_value(), dev.error().to_string());
        name = dev->name();
        CHECK(name.starts_with("tun"));
        CHECK(dev->vnet_hdr());
        CHECK(::if_nametoindex(name.c_str()) == static_cast<unsigned>(dev->ifindex()));
        // A second one is another interface, never the first attached twice.
        auto other = TunDevice::create_scratch(false);
        REQUIRE(other.has_value());
        CHECK(other->name() != name);
    }
    CHECK(::if_nametoindex(name.c_str()) == 0);
}

TEST_CASE("probe_tun_offloads: what the kernel's version promises") {
    auto s = ringtun::tun::probe_tun_offloads();
    REQUIRE_MESSAGE(s.has_value(), s.error().to_string());
    CHECK(s->vnet_hdr);
    CHECK(s->csum);
    CHECK(s->tso4);
    CHECK(s->tso6);
    if (kernel_version() >= 602) CHECK(s->uso);
}
