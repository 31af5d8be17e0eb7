// The replay window against the cases of the kernel's counter self-test
// (drivers/net/wireguard/selftest/counter.c), re-expressed as tables.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "crypto/messages.hpp"
#include "crypto/replay.hpp"

using ringtun::crypto::reject_after_messages;
using ringtun::crypto::ReplayWindow;

namespace {

constexpr std::uint64_t window = ReplayWindow::window_size;  // 8128
constexpr std::uint64_t lim = window + 1;
constexpr std::uint64_t reject = reject_after_messages;

struct Step {
    std::uint64_t counter;
    bool accepted;
};

void run(ReplayWindow& w, const std::vector<Step>& steps) {
    for (std::size_t i = 0; i < steps.size(); ++i) {
        CAPTURE(i + 1);
        CAPTURE(steps[i].counter);
        CHECK(w.check(steps[i].counter) == steps[i].accepted);
        CHECK(w.accept(steps[i].counter) == steps[i].accepted);
    }
}

}  // namespace

TEST_CASE("replay window: the kernel's 34 ordered cases") {
    ReplayWindow w;
    run(w, {{0, true},
            {1, true},
            {1, false},
            {9, true},
            {8, true},
            {7, true},
            {7, false},
            {lim, true},
            {lim - 1, true},
            {lim - 1, false},
            {lim - 2, true},
            {2, true},
            {2, false},
            {lim + 16, true},
            {3, false},
            {lim + 16, false},
            {lim * 4, true},
            {lim * 4 - (lim - 1), true},
            {10, false},
            {lim * 4 - lim, false},
            {lim * 4 - (lim + 1), false},
            {lim * 4 - (lim - 2), true},
            {lim * 4 + 1 - lim, false},
            {0, false},
            {reject, false},
            {reject - 1, true},
            {reject, false},
            {reject - 1, false},
            {reject - 2, true},
            {reject + 1, false},
            {reject + 2, false},
            {reject - 2, false},
            {reject - 3, true},
            {0, false}});
}

TEST_CASE("replay window: a full window in order, then the oldest slot") {
    ReplayWindow w;
    for (std::uint64_t i = 1; i <= window; ++i)
        REQUIRE(w.accept(i));
    CHECK(w.accept(0));
    CHECK_FALSE(w.accept(0));
}

TEST_CASE("replay window: one past the window pushes 0 out") {
    ReplayWindow w;
    for (std::uint64_t i = 2; i <= window + 1; ++i)
        REQUIRE(w.accept(i));
    CHECK(w.accept(1));
    CHECK_FALSE(w.accept(0));
}

TEST_CASE("replay window: descending from the top, all within the window") {
    ReplayWindow w;
    for (std::uint64_t i = window + 1; i-- > 0;)
        REQUIRE(w.accept(i));
}

TEST_CASE("replay window: descending from one further, 0 falls out") {
    ReplayWindow w;
    for (std::uint64_t i = window + 2; i-- > 1;)
        REQUIRE(w.accept(i));
    CHECK_FALSE(w.accept(0));
}

TEST_CASE("replay window: re-raising the top after a descent") {
    ReplayWindow w;
    for (std::uint64_t i = window + 1; i-- > 1;)
        REQUIRE(w.accept(i));
    CHECK(w.accept(window + 1));
    CHECK_FALSE(w.accept(0));
}

TEST_CASE("replay window: bottom then top after a descent") {
    ReplayWindow w;
    for (std::uint64_t i = window + 1; i-- > 1;)
        REQUIRE(w.accept(i));
    CHECK(w.accept(0));
    CHECK(w.accept(window + 1));
}

TEST_CASE("replay window: the bitmap ring wraps many times without stale bits") {
    ReplayWindow w;
    // Advance by varying strides through several full turns of the 8192-bit ring; a counter
    // seen once must never be accepted again while inside the window, and a never-seen one in
    // the window must be accepted.
    std::uint64_t top = 0;
    for (int round = 0; round < 200; ++round) {
        top += 37 + static_cast<std::uint64_t>(round) * 61;
        REQUIRE(w.accept(top));
        CHECK_FALSE(w.accept(top));
        if (top >= 64) {
            CHECK(w.accept(top - 63));  // unseen, inside the window
            CHECK_FALSE(w.accept(top - 63));
        }
    }
    CHECK_FALSE(w.accept(top - window - 1));  // just behind the window
}
