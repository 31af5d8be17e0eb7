// PacketPool, the readiness loop's packet buffers: every buffer lent once, given back once,
// laid out [headroom | buffer | tailroom] like the io_uring buffer rings.
#include "daemon/backend/epoll/packet_pool.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace ringtun::daemon;

TEST_CASE("packet pool: lends each buffer once and takes it back once") {
    PacketPool pool(4, 1500, 64, 32);
    std::set<std::uint16_t> lent;
    while (auto bid = pool.take())
        CHECK(lent.insert(*bid).second);
    CHECK(lent.size() == 4);
    CHECK(pool.available() == 0);
    CHECK(pool.held() == 4);
    CHECK(pool.recycle(2));
    CHECK_FALSE(pool.recycle(2));  // twice
    CHECK_FALSE(pool.recycle(9));  // out of range
    CHECK(pool.take() == std::optional<std::uint16_t>(2));
}

TEST_CASE("packet pool: the buffer sits after the headroom, frames do not overlap") {
    PacketPool pool(3, 1500, 64, 32);
    for (std::uint16_t b = 0; b < 3; ++b) {
        CHECK(pool.buffer(b).data() == pool.frame(b).data() + 64);
        CHECK(pool.buffer(b).size() == 1500);
        CHECK(pool.frame(b).size() >= 64 + 1500 + 32);
        if (b > 0)
            CHECK(pool.frame(b).data() >= pool.frame(b - 1).data() + pool.frame(b - 1).size());
    }
}
