// TxSlots: the control reserve that data can never take, chains freed in one walk, stale
// completions recognised.
#include <doctest/doctest.h>

#include <set>
#include <vector>

#include "daemon/datapath/tx_slots.hpp"

using namespace ringtun::daemon;

TEST_CASE("tx slots: data stops at the control reserve; control may take every slot") {
    TxSlots slots({.data = 8, .control_reserve = 3, .mtu = 1420});
    REQUIRE(slots.capacity() == 11);
    std::vector<std::uint32_t> data;
    while (auto s = slots.acquire(TxClass::data))
        data.push_back(*s);
    CHECK(data.size() == 8);
    CHECK(slots.data_in_use() == 8);
    for (int i = 0; i < 3; ++i)
        CHECK(slots.acquire(TxClass::control).has_value());
    CHECK_FALSE(slots.acquire(TxClass::control).has_value());
    // Freeing one data slot lets data in again, up to its limit.
    slots.release(data.back());
    CHECK(slots.acquire(TxClass::data).has_value());
    CHECK_FALSE(slots.acquire(TxClass::data).has_value());
}

TEST_CASE("tx slots: data at its limit leaves exactly the reserve to control") {
    TxSlots slots({.data = 4, .control_reserve = 2, .mtu = 1420});
    for (int i = 0; i < 4; ++i)
        REQUIRE(slots.acquire(TxClass::data).has_value());
    CHECK_FALSE(slots.acquire(TxClass::data).has_value());
    CHECK(slots.acquire(TxClass::control).has_value());
    CHECK(slots.acquire(TxClass::control).has_value());
    CHECK_FALSE(slots.acquire(TxClass::control).has_value());
}

TEST_CASE("tx slots: can_acquire() foretells acquire() for both classes") {
    // What the device's timers ask before building a message (MessageSink::has_room).
    TxSlots slots({.data = 4, .control_reserve = 2, .mtu = 1420});
    std::vector<std::uint32_t> held;
    // Data up to its limit, control into the reserve, then one of each freed and taken again.
    const TxClass order[] = {TxClass::data,    TxClass::data,    TxClass::data,
                             TxClass::data,    TxClass::data,    TxClass::control,
                             TxClass::control, TxClass::control, TxClass::data};
    for (const TxClass c : order) {
        const bool foretold = slots.can_acquire(c);
        const auto s = slots.acquire(c);
        CHECK(foretold == s.has_value());
        if (s) held.push_back(*s);
    }
    CHECK(held.size() == 6);
    CHECK_FALSE(slots.can_acquire(TxClass::control));
    slots.release(held.front());  // a data slot
    CHECK(slots.can_acquire(TxClass::data));
    CHECK(slots.can_acquire(TxClass::control));
    slots.release(held.back());  // a control slot: data stays at its limit
    REQUIRE(slots.acquire(TxClass::data).has_value());
    CHECK_FALSE(slots.can_acquire(TxClass::data));
    CHECK(slots.can_acquire(TxClass::control));
}

TEST_CASE("tx slots: a chain is freed in one walk and hands back each TUN buffer once") {
    TxSlots slots({.data = 16, .control_reserve = 0, .mtu = 1420});
    std::vector<std::uint32_t> chain;
    for (int i = 0; i < 5; ++i)
        chain.push_back(*slots.acquire(TxClass::data));
    for (std::size_t i = 0; i + 1 < chain.size(); ++i)
        slots[chain[i]].next = static_cast<std::int32_t>(chain[i + 1]);
    slots[chain[1]].tun_bid = 7;
    slots[chain[3]].tun_bid = 9;
    const std::uint16_t generation = slots[chain[0]].generation;
    std::multiset<std::uint16_t> buffers;
    CHECK(slots.release_chain(chain[0], [&](std::uint16_t b) { buffers.insert(b); }) == 5);
    CHECK(buffers == std::multiset<std::uint16_t>{7, 9});
    CHECK(slots.in_use() == 0);
    CHECK(slots.data_in_use() == 0);
    CHECK_FALSE(slots.is_current(chain[0], generation));  // a late completion is stale
    // Freeing again is a no-op: nothing double-counted.
    CHECK(slots.release(chain[0]) == -1);
    CHECK(slots.in_use() == 0);
}

TEST_CASE("tx slots: own buffers hold our largest message after the frame prefix") {
    TxSlots slots({.data = 2, .control_reserve = 1, .mtu = 1420});
    const auto a = *slots.acquire(TxClass::control);
    const auto b = *slots.acquire(TxClass::data);
    CHECK(slots.own_message(a).size() == layout::message_capacity(1420));
    // Frames do not overlap: each message has its prefix room before it.
    const auto distance = slots.own_message(b).data() - slots.own_message(a).data();
    CHECK(static_cast<std::size_t>(distance < 0 ? -distance : distance) >=
          layout::frame_size(1420));
}
