// Loop::size: what `check` and `run` both refuse about the [ring] sizes.
#include <doctest/doctest.h>

#include "daemon/backend/uring/loop.hpp"

using ringtun::daemon::Loop;
using ringtun::daemon::LoopParams;

TEST_CASE("loop size: the defaults fit, with and without TCP; buffer counts become powers of two") {
    LoopParams p;
    p.udp_rx_slots = 200;
    auto sized = Loop::size(p, false);
    REQUIRE(sized);
    CHECK(sized->udp_rx_slots == 256);
    CHECK(Loop::size(LoopParams{}, true));
}

TEST_CASE("loop size: a completion queue too small for what may be pending is refused") {
    LoopParams p;
    p.entries = 64;
    auto sized = Loop::size(p, false);
    REQUIRE_FALSE(sized);
    CHECK(sized.error().to_string().find("entries = 64 gives a completion queue of 512") !=
          std::string::npos);
}

TEST_CASE("loop size: SQPOLL is refused with the TCP transport") {
    // A closed connection's fd and buffers are reused at once; under SQPOLL its last requests
    // may not have been read by the kernel thread yet.
    LoopParams p;
    p.sqpoll_idle_ms = 100;
    CHECK(Loop::size(p, false));
    auto sized = Loop::size(p, true);
    REQUIRE_FALSE(sized);
    CHECK(sized.error().to_string().find("SQPOLL cannot be used with the TCP transport") !=
          std::string::npos);
}

TEST_CASE("loop size: with offloads possible, the bound holds whatever the kernel grants") {
    // check cannot know what the TUN and the UDP socket will accept: the completion queue
    // must hold the batched TUN writes and the larger of each buffer count either way.
    LoopParams p;
    p.entries = 128;  // a completion queue of 1024
    p.tx_slots = 64;
    CHECK(Loop::size(p, false));
    p.may_offload = true;
    auto sized = Loop::size(p, false);
    REQUIRE_FALSE(sized);
    CHECK(sized.error().to_string().find("TUN writes 1024") != std::string::npos);
    // The same with the offloads granted: no smaller.
    p.offloads = {.vnet_hdr = true, .tun_tso = true, .tun_gro = true, .udp_gro = true};
    CHECK_FALSE(Loop::size(p, false));
}
