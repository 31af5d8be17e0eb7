// StagedPackets: a fixed ring of up to 128 packets per peer, oldest dropped first.
#include "daemon/engine/staged.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

using ringtun::daemon::StagedPackets;

namespace {

std::vector<std::uint8_t> packet(std::size_t len, std::uint8_t tag) {
    std::vector<std::uint8_t> p(len, tag);
    if (len > 0) p[len - 1] = static_cast<std::uint8_t>(tag ^ 0xff);
    return p;
}

bool front_is(const StagedPackets& s, const std::vector<std::uint8_t>& p) {
    const auto f = s.front();
    return f.size() == p.size() && std::equal(f.begin(), f.end(), p.begin());
}

}  // namespace

TEST_CASE("staged: packets come out in order with their own lengths") {
    StagedPackets s(1420);
    CHECK(s.empty());
    bool dropped = true;
    for (std::uint8_t i = 0; i < 10; ++i) {
        CHECK(s.push(packet(20 + i * 100, i), dropped));
        CHECK_FALSE(dropped);
    }
    CHECK(s.size() == 10);
    for (std::uint8_t i = 0; i < 10; ++i) {
        CHECK(front_is(s, packet(20 + i * 100, i)));
        s.pop();
    }
    CHECK(s.empty());
    s.pop();  // popping nothing is harmless
    CHECK(s.size() == 0);
}

TEST_CASE("staged: an empty packet (a keepalive request) is kept as such") {
    StagedPackets s(1420);
    bool dropped = false;
    CHECK(s.push({}, dropped));
    CHECK(s.size() == 1);
    CHECK(s.front().empty());
}

TEST_CASE("staged: the ring wraps around without mixing up slots") {
    StagedPackets s(64);
    bool dropped = false;
    for (int round = 0; round < 5; ++round) {
        for (int i = 0; i < 100; ++i)
            REQUIRE(s.push(packet(1 + (i + round) % 64, static_cast<std::uint8_t>(i)), dropped));
        for (int i = 0; i < 100; ++i) {
            CHECK(front_is(s, packet(1 + (i + round) % 64, static_cast<std::uint8_t>(i))));
            s.pop();
        }
        CHECK(s.empty());
    }
}

TEST_CASE("staged: when full the oldest is dropped for the newest") {
    StagedPackets s(100);
    bool dropped = false;
    for (int i = 0; i < 128; ++i) {
        REQUIRE(s.push(packet(50, static_cast<std::uint8_t>(i)), dropped));
        CHECK_FALSE(dropped);
    }
    CHECK(s.size() == StagedPackets::capacity);
    CHECK(s.push(packet(50, 128), dropped));
    CHECK(dropped);
    CHECK(s.push(packet(50, 129), dropped));
    CHECK(dropped);
    CHECK(s.size() == 128);
    for (int i = 2; i < 130; ++i) {
        CHECK(front_is(s, packet(50, static_cast<std::uint8_t>(i))));
        s.pop();
    }
    CHECK(s.empty());
}

TEST_CASE("staged: a packet longer than max_packet is refused and nothing changes") {
    StagedPackets s(100);
    bool dropped = true;
    CHECK(s.push(packet(100, 1), dropped));
    CHECK_FALSE(s.push(packet(101, 2), dropped));
    CHECK_FALSE(dropped);
    CHECK(s.size() == 1);
    CHECK(front_is(s, packet(100, 1)));
    // Refused even when full: the oldest stays.
    for (int i = 0; i < 127; ++i)
        REQUIRE(s.push(packet(10, 3), dropped));
    CHECK_FALSE(s.push(packet(101, 4), dropped));
    CHECK_FALSE(dropped);
    CHECK(front_is(s, packet(100, 1)));
}

TEST_CASE("staged: clear() drops everything and says how many") {
    StagedPackets s(100);
    bool dropped = false;
    CHECK(s.clear() == 0);
    for (int i = 0; i < 70; ++i)
        REQUIRE(s.push(packet(10, static_cast<std::uint8_t>(i)), dropped));
    s.pop();
    CHECK(s.clear() == 69);
    CHECK(s.empty());
    CHECK(s.push(packet(30, 9), dropped));
    CHECK(front_is(s, packet(30, 9)));
    CHECK(s.size() == 1);
}
