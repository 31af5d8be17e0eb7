// user_data packing and the slot pool: pure logic, no io_uring needed.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <set>

#include "ring/user_data.hpp"
#include "util/slot_pool.hpp"

using namespace ringtun::ring;
using ringtun::util::SlotPool;

TEST_CASE("user_data round-trips edge values in every field") {
    const std::uint8_t kinds[] = {0, 1, 0x7f, 0x80, 0xfe, 0xff};
    const std::uint16_t gens[] = {0, 1, 0x7fff, 0x8000, 0xffff};
    const std::uint32_t slots[] = {0, 1, 0xffff, 0x10000, kMaxSlot - 1, kMaxSlot};
    const std::uint16_t bids[] = {0, 1, 0x8000, 0xffff};
    for (auto k : kinds) {
        for (auto g : gens) {
            for (auto s : slots) {
                for (auto b : bids) {
                    const UserData d{.kind = k, .generation = g, .slot = s, .buffer_id = b};
                    const std::uint64_t v = encode(d);
                    CHECK(decode(v) == d);
                    CHECK(kind_of(v) == k);
                }
            }
        }
    }
}

TEST_CASE("user_data fields do not bleed into each other") {
    CHECK(encode({.kind = 0xff}) == 0xff00'0000'0000'0000ull);
    CHECK(encode({.generation = 0xffff}) == 0x00ff'ff00'0000'0000ull);
    CHECK(encode({.slot = kMaxSlot}) == 0x0000'00ff'ffff'0000ull);
    CHECK(encode({.buffer_id = 0xffff}) == 0x0000'0000'0000'ffffull);
    // A slot beyond 24 bits is truncated rather than corrupting the generation.
    CHECK(decode(encode({.generation = 7, .slot = kMaxSlot + 2})) ==
          UserData{.generation = 7, .slot = 1});
}

TEST_CASE("slot pool: exhaustion, generations, double release") {
    SlotPool pool(3);
    CHECK(pool.capacity() == 3);
    std::set<std::uint32_t> seen;
    for (int i = 0; i < 3; ++i) {
        auto s = pool.acquire();
        REQUIRE(s);
        CHECK(s->generation == 0);
        CHECK(seen.insert(s->index).second);
    }
    CHECK(pool.in_use() == 3);
    CHECK_FALSE(pool.acquire().has_value());

    const std::uint32_t idx = *seen.begin();
    CHECK(pool.is_current(idx, 0));
    CHECK(pool.release(idx));
    CHECK_FALSE(pool.release(idx));  // double release is refused
    CHECK_FALSE(pool.release(3));    // out of range
    CHECK_FALSE(pool.is_current(idx, 0));
    auto again = pool.acquire();
    REQUIRE(again);
    CHECK(again->index == idx);
    CHECK(again->generation == 1);
    CHECK_FALSE(pool.is_current(idx, 0));  // a stale CQE for the old use is recognised
    CHECK(pool.is_current(idx, 1));
}

TEST_CASE("slot pool matches a reference model under random acquire/release") {
    constexpr std::uint32_t kCap = 17;
    SlotPool pool(kCap);
    std::map<std::uint32_t, std::uint16_t> in_use;    // index -> generation handed out
    std::map<std::uint32_t, std::uint16_t> next_gen;  // index -> generation of its next use
    std::mt19937 rng(12345);
    for (int step = 0; step < 20000; ++step) {
        const bool acquire = in_use.empty() || rng() % 2 == 0;
        if (acquire) {
            auto s = pool.acquire();
            if (in_use.size() == kCap) {
                CHECK_FALSE(s.has_value());
                continue;
            }
            REQUIRE(s);
            REQUIRE(s->index < kCap);
            REQUIRE(in_use.count(s->index) == 0);
            REQUIRE(s->generation == next_gen[s->index]);
            in_use[s->index] = s->generation;
        } else {
            auto it = in_use.begin();
            std::advance(it, static_cast<long>(rng() % in_use.size()));
            REQUIRE(pool.is_current(it->first, it->second));
            REQUIRE(pool.release(it->first));
            REQUIRE_FALSE(pool.is_current(it->first, it->second));
            next_gen[it->first] = static_cast<std::uint16_t>(it->second + 1);
            in_use.erase(it);
        }
        REQUIRE(pool.in_use() == in_use.size());
    }
    for (auto [idx, gen] : in_use)
        REQUIRE(pool.release(idx));
    CHECK(pool.in_use() == 0);
    // No slot was lost: all capacity can be acquired again, each index once.
    std::set<std::uint32_t> all;
    for (std::uint32_t i = 0; i < kCap; ++i) {
        auto s = pool.acquire();
        REQUIRE(s);
        all.insert(s->index);
    }
    CHECK(all.size() == kCap);
    CHECK_FALSE(pool.acquire().has_value());
}
