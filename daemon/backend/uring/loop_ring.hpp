// The loop's ring, restricted to what the loop asks of it (opcodes.hpp): created disabled, with
// the operations this configuration submits, the register operations of a running loop and
// the SQE flags it sets registered as the ring's restrictions. Loop::setup registers its
// files and buffer rings, then enables it; from then on anything else is refused by the
// kernel with -EACCES, so a subverted daemon cannot make its ring open files, make sockets or
// do any other of io_uring's operations, which seccomp filters do not see.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "daemon/backend/io_backend.hpp"
#include "ring/ring.hpp"
#include "util/result.hpp"

namespace ringtun::daemon {

// What parts of the loop run, which decides the operations it submits (OpUse).
struct RingUses {
    bool tun_multishot = false;
    bool tcp = false;
    bool streams = false;
};

// The operations of kUringOpcodes that a loop with `uses` submits.
std::vector<std::uint8_t> loop_operations(const RingUses& uses);

// Creates the loop's ring for `params`, disabled and restricted for `uses`: enable() it once
// set-up's registrations are done.
util::Result<std::unique_ptr<ring::Ring>> create_loop_ring(const LoopParams& params,
                                                           const RingUses& uses);

}  // namespace ringtun::daemon
