// HandshakeLoad (when mac2 becomes mandatory) and SourceRateLimiter (20/s, burst 5, per
// source address) on explicit times.
#include "daemon/engine/ratelimiter.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>

using namespace ringtun;
using crypto::millis_ns;
using crypto::Nanos;
using crypto::seconds_ns;
using daemon::HandshakeLoad;
using daemon::SourceRateLimiter;

namespace {

constexpr Nanos t0 = seconds_ns(1000);

std::array<std::uint8_t, 4> v4(std::uint8_t last) {
    return {10, 0, 0, last};
}

}  // namespace

TEST_CASE("handshake load: up to the threshold per second is not load") {
    HandshakeLoad load(3);
    CHECK_FALSE(load.count_and_check(t0));
    CHECK_FALSE(load.count_and_check(t0 + millis_ns(100)));
    CHECK_FALSE(load.count_and_check(t0 + millis_ns(200)));
    CHECK(load.count_and_check(t0 + millis_ns(300)));  // the fourth in this second
    CHECK(load.count_and_check(t0 + millis_ns(900)));  // extends to 1.9 s
    // A new one-second window starts at t0 + 1 s, but the load lasts until 1.9 s.
    CHECK(load.count_and_check(t0 + millis_ns(1000)));
    CHECK(load.count_and_check(t0 + millis_ns(1899)));
    CHECK_FALSE(load.count_and_check(t0 + millis_ns(1900)));
}

TEST_CASE("handshake load: the count starts over each window") {
    HandshakeLoad load(3);
    for (int second = 0; second < 10; ++second)
        for (int i = 0; i < 3; ++i)
            CHECK_FALSE(load.count_and_check(t0 + seconds_ns(second) + millis_ns(300 * i)));
}

TEST_CASE("handshake load: threshold 0 means always under load; the default allows 512 a second") {
    HandshakeLoad always(0);
    CHECK(always.count_and_check(t0));
    CHECK(always.count_and_check(t0 + seconds_ns(10)));

    HandshakeLoad normal;
    for (std::uint32_t i = 0; i < HandshakeLoad::default_threshold; ++i)
        REQUIRE_FALSE(normal.count_and_check(t0 + i * 1000));
    CHECK(normal.count_and_check(t0 + millis_ns(999)));
}

TEST_CASE("rate limiter: a burst of 5, then one per 50 ms") {
    SourceRateLimiter limiter(42);
    const auto ip = v4(1);
    for (int i = 0; i < 5; ++i)
        CHECK(limiter.allow(ip, t0));
    CHECK_FALSE(limiter.allow(ip, t0));
    CHECK_FALSE(limiter.allow(ip, t0 + millis_ns(45)));
    CHECK(limiter.allow(ip, t0 + millis_ns(60)));
    CHECK_FALSE(limiter.allow(ip, t0 + millis_ns(61)));
}

TEST_CASE("rate limiter: idle time refills to the burst, never beyond") {
    SourceRateLimiter limiter(42);
    const auto ip = v4(1);
    for (int i = 0; i < 5; ++i)
        REQUIRE(limiter.allow(ip, t0));
    const Nanos later = t0 + seconds_ns(60);
    for (int i = 0; i < 5; ++i)
        CHECK(limiter.allow(ip, later));
    CHECK_FALSE(limiter.allow(ip, later));
}

TEST_CASE("rate limiter: sustained requests get 20 per second after the burst") {
    SourceRateLimiter limiter(42);
    const auto ip = v4(1);
    int allowed = 0;
    for (int i = 0; i < 1000; ++i)  // one every 10 ms for 10 s
        if (limiter.allow(ip, t0 + millis_ns(10) * static_cast<Nanos>(i))) ++allowed;
    CHECK(allowed >= 5 + 199);
    CHECK(allowed <= 5 + 200);
}

TEST_CASE("rate limiter: each source address has its own bucket") {
    SourceRateLimiter limiter(42);
    for (std::uint8_t host = 1; host <= 50; ++host) {
        const auto ip = v4(host);
        for (int i = 0; i < 5; ++i)
            CHECK(limiter.allow(ip, t0));
        CHECK_FALSE(limiter.allow(ip, t0));
    }
    std::array<std::uint8_t, 16> v6{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1};
    for (int i = 0; i < 5; ++i)
        CHECK(limiter.allow(v6, t0));
    CHECK_FALSE(limiter.allow(v6, t0));
}
