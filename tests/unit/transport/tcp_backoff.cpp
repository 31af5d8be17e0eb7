// Backoff: the nominal sequence up to the cap, the jitter bounds of each attempt, reset.
#include "daemon/transport/backoff.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>

using ringtun::crypto::millis_ns;
using ringtun::crypto::Nanos;
using ringtun::crypto::seconds_ns;
using ringtun::daemon::Backoff;
using ringtun::daemon::BackoffParams;

namespace {

// The delays the default backoff gives the n-th failure, n = 1..10.
const Nanos nominal_ms[] = {250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};

}  // namespace

TEST_CASE("tcp_backoff: every attempt lies within ±20% of its nominal delay") {
    // The lowest, middle and highest random values of the jitter range, then wrapped ones.
    struct Pick {
        int tenths_of_range;  // random = range * tenths / 10
        int percent;          // expected delay, percent of nominal
    };
    const Pick picks[] = {{0, 80}, {10, 100}, {20, 120}};
    for (const Pick p : picks) {
        Backoff b;
        for (unsigned n = 1; n <= 10; ++n) {
            CAPTURE(n);
            const Nanos nominal = millis_ns(nominal_ms[n - 1]);
            CHECK(b.next_nominal() == nominal);
            const Nanos range = nominal / 5;
            const std::uint64_t random = range * static_cast<unsigned>(p.tenths_of_range) / 10;
            CHECK(b.next_delay(random) == nominal / 100 * static_cast<unsigned>(p.percent));
            CHECK(b.failures() == n);
        }
    }
}

TEST_CASE("tcp_backoff: any random value stays in bounds; one past the range wraps to its start") {
    Backoff b;
    const std::uint64_t randoms[] = {0, 1, 0xdeadbeef, std::numeric_limits<std::uint64_t>::max()};
    for (unsigned n = 1; n <= 10; ++n) {
        const Nanos nominal = millis_ns(nominal_ms[n - 1]);
        const Nanos range = nominal / 5;
        for (const std::uint64_t r : randoms) {
            Backoff probe = b;
            const Nanos d = probe.next_delay(r);
            CHECK(d >= nominal - range);
            CHECK(d <= nominal + range);
        }
        Backoff probe = b;
        CHECK(probe.next_delay(2 * range + 1) == nominal - range);
        (void)b.next_delay(0);
    }
}

TEST_CASE("tcp_backoff: reset starts again from base") {
    Backoff b;
    for (int i = 0; i < 20; ++i)
        (void)b.next_delay(0);
    CHECK(b.next_nominal() == seconds_ns(30));
    b.reset();
    CHECK(b.failures() == 0);
    CHECK(b.next_nominal() == millis_ns(250));
    CHECK(b.next_delay(millis_ns(50)) == millis_ns(250));
    CHECK(b.next_nominal() == millis_ns(500));
}

TEST_CASE("tcp_backoff: no jitter gives the exact nominal; an uneven cap is never overshot") {
    Backoff b(BackoffParams{.base = 5, .cap = 21, .jitter_percent = 0});
    const Nanos expected[] = {5, 10, 20, 21, 21};
    for (const Nanos e : expected)
        CHECK(b.next_delay(0xffffffffffffULL) == e);

    Backoff clamped(BackoffParams{.base = 100, .cap = 50, .jitter_percent = 250});
    CHECK(clamped.next_delay(0) == 0);  // cap raised to base; jitter lowered to 100%
    CHECK(clamped.next_delay(200) == 200);
}
