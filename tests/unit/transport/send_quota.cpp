// SendQuota: a connection that stops reading cannot hold every transmit slot (defect 1).
#include "daemon/transport/send_quota.hpp"

#include <doctest/doctest.h>

using namespace ringtun::daemon;

namespace {

// Fills `conn` with data frames of `bytes` until the quota says no; returns how many it took.
std::uint32_t fill(SendQuota& q, std::uint32_t conn, std::size_t bytes, TxClass c = TxClass::data) {
    std::uint32_t n = 0;
    while (q.admits(conn, c, bytes) && n < 100000) {
        q.take(conn, c, bytes);
        ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("send quota: an authenticated connection holds a bounded share, in frames and bytes") {
    SendQuota q(4, {.frames = 64, .bytes = 64 * 1500, .total_data_frames = 1000});
    q.set_authenticated(0, true);
    CHECK(fill(q, 0, 100) == 64);  // frames bound first for small frames
    q.set_authenticated(1, true);
    CHECK(fill(q, 1, 4000) == 24);  // bytes bound first for large ones (24 * 4000 <= 96000)
    // Control frames still get through a full connection, a few.
    CHECK(fill(q, 0, 148, TxClass::control) == 8);
    // Giving back one data frame admits one again.
    q.give_back(0, TxClass::data, 100);
    CHECK(q.admits(0, TxClass::data, 100));
}

TEST_CASE("send quota: stalled connections together leave data room for everyone else") {
    // 512 data slots, TCP may hold half: eight stalled peers cannot take the other half.
    SendQuota q(16, {.frames = 64, .bytes = 1 << 20, .total_data_frames = 256});
    std::uint32_t total = 0;
    for (std::uint32_t conn = 0; conn < 8; ++conn) {
        q.set_authenticated(conn, true);
        total += fill(q, conn, 1452);
    }
    CHECK(total == 256);
    CHECK(q.data_frames() == 256);
    q.set_authenticated(9, true);
    CHECK_FALSE(q.admits(9, TxClass::data, 1452));
    CHECK(q.admits(9, TxClass::control, 148));  // control is not data's to take
}

TEST_CASE("send quota: unauthenticated connections hold few frames, and few together") {
    SendQuota q(32, {.unauthenticated_frames = 8, .unauthenticated_total = 20});
    CHECK(fill(q, 0, 148, TxClass::control) == 8);
    CHECK(fill(q, 1, 148, TxClass::control) == 8);
    CHECK(fill(q, 2, 148, TxClass::control) == 4);  // the total is reached
    CHECK(fill(q, 3, 148, TxClass::control) == 0);
    // A peer authenticates on connection 0: its frames leave the unauthenticated total.
    q.set_authenticated(0, true);
    CHECK(q.unauthenticated_frames() == 12);
    CHECK(fill(q, 3, 148, TxClass::control) == 8);
    // Losing its peer puts them back.
    q.set_authenticated(0, false);
    CHECK(q.unauthenticated_frames() == 28);
}

TEST_CASE("send quota: a closed connection gives everything back at once") {
    SendQuota q(
        4, {.unauthenticated_frames = 8, .unauthenticated_total = 20, .total_data_frames = 100});
    fill(q, 0, 148, TxClass::control);
    q.set_authenticated(1, true);
    fill(q, 1, 1452);
    CHECK(q.unauthenticated_frames() == 8);
    CHECK(q.data_frames() == 64);
    q.reset(0);
    q.reset(1);
    CHECK(q.unauthenticated_frames() == 0);
    CHECK(q.data_frames() == 0);
    CHECK(q.frames(1) == 0);
    CHECK(fill(q, 1, 148, TxClass::control) == 8);  // unauthenticated again after a reset
}

TEST_CASE("send quota: a draining connection may exceed its bound; a stalled one may not") {
    // A connection whose sends complete is not dropped for bursts: the TUN pushes back once
    // the buffers run out. Only one that stopped draining is held to its bound.
    SendQuota q(2, {.frames = 4, .bytes = 1 << 20, .total_data_frames = 6});
    q.set_authenticated(0, true);
    CHECK(fill(q, 0, 1000) == 4);
    CHECK_FALSE(q.over(0));
    CHECK(q.admits(0, TxClass::data, 1000, true));
    for (int i = 0; i < 10; ++i)
        q.take(0, TxClass::data, 1000);
    CHECK(q.over(0));
    CHECK_FALSE(q.admits(0, TxClass::data, 1000, false));
    // Giving back below the bound ends it.
    for (int i = 0; i < 10; ++i)
        q.give_back(0, TxClass::data, 1000);
    CHECK_FALSE(q.over(0));
}

TEST_CASE("send quota: a draining connection over its data bound still takes control frames") {
    // Data admitted beyond the bound while draining must not use up the control allowance:
    // the rekey initiation and keepalives of a busy connection have to get through.
    SendQuota q(1, {.frames = 4, .bytes = 1 << 20, .control_extra = 8});
    q.set_authenticated(0, true);
    for (int i = 0; i < 50; ++i)
        q.take(0, TxClass::data, 1000);  // admitted while draining
    REQUIRE(q.over(0));
    CHECK(fill(q, 0, 148, TxClass::control) == 8);
}
