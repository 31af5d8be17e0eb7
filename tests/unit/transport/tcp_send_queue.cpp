// SendQueue: FIFO order across wrap-around, drop-oldest when full, clear.
#include "daemon/transport/send_queue.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <vector>

using ringtun::daemon::SendQueue;

TEST_CASE("tcp_send_queue: FIFO across many wrap-arounds matches a reference deque") {
    for (std::uint32_t capacity : {1u, 2u, 3u, 7u, 64u}) {
        CAPTURE(capacity);
        SendQueue q(capacity);
        std::deque<std::uint32_t> ref;
        std::mt19937 rng(capacity);
        std::uint32_t next_item = 0;
        for (int step = 0; step < 5000; ++step) {
            if (rng() % 3 != 0) {
                const std::optional<std::uint32_t> dropped = q.push(next_item);
                std::optional<std::uint32_t> expected;
                if (ref.size() == capacity) {
                    expected = ref.front();
                    ref.pop_front();
                }
                ref.push_back(next_item++);
                CHECK(dropped == expected);
            } else {
                const std::optional<std::uint32_t> front = q.front();
                const std::optional<std::uint32_t> popped = q.pop();
                CHECK(front == popped);
                if (ref.empty()) {
                    CHECK_FALSE(popped.has_value());
                } else {
                    CHECK(popped == ref.front());
                    ref.pop_front();
                }
            }
            REQUIRE(q.size() == ref.size());
        }
    }
}

TEST_CASE("tcp_send_queue: a full queue drops and returns the oldest item") {
    SendQueue q(3);
    CHECK_FALSE(q.push(1).has_value());
    CHECK_FALSE(q.push(2).has_value());
    CHECK_FALSE(q.push(3).has_value());
    CHECK(q.full());
    CHECK(q.push(4) == std::optional<std::uint32_t>(1));
    CHECK(q.push(5) == std::optional<std::uint32_t>(2));
    CHECK(q.size() == 3);
    CHECK(q.front() == std::optional<std::uint32_t>(3));
    CHECK(q.pop() == std::optional<std::uint32_t>(3));
    CHECK(q.pop() == std::optional<std::uint32_t>(4));
    CHECK(q.pop() == std::optional<std::uint32_t>(5));
    CHECK(q.empty());
    CHECK_FALSE(q.pop().has_value());
    CHECK_FALSE(q.front().has_value());
}

TEST_CASE("tcp_send_queue: clear hands back every item, oldest first, after wrap-around") {
    SendQueue q(4);
    for (std::uint32_t i = 0; i < 6; ++i)
        (void)q.push(i);  // holds 2, 3, 4, 5, wrapped
    CHECK(q.pop() == std::optional<std::uint32_t>(2));
    (void)q.push(6);
    std::vector<std::uint32_t> freed;
    CHECK(q.clear([&](std::uint32_t item) { freed.push_back(item); }) == 4);
    CHECK(freed == std::vector<std::uint32_t>{3, 4, 5, 6});
    CHECK(q.empty());
    CHECK(q.clear([&](std::uint32_t) { FAIL("empty queue cleared an item"); }) == 0);

    CHECK_FALSE(q.push(7).has_value());
    CHECK(q.pop() == std::optional<std::uint32_t>(7));
}

TEST_CASE("tcp_send_queue: capacity 0 is raised to 1") {
    SendQueue q(0);
    CHECK(q.capacity() == 1);
    CHECK_FALSE(q.push(1).has_value());
    CHECK(q.push(2) == std::optional<std::uint32_t>(1));
    CHECK(q.front() == std::optional<std::uint32_t>(2));
}
