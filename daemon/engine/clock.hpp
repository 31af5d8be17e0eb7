// The engine's time, passed in with every input: the engine reads no clock.
//
// Protocol time (session ages, REJECT_AFTER_TIME, the 540 s key wipe, every timer) runs on
// CLOCK_BOOTTIME, which keeps counting while the machine sleeps, as the kernel module and
// boringtun do: after a laptop wakes from ten minutes of suspend, its sessions are ten minutes
// older, so expired keys are neither used nor kept. The wall clock is for what peers and
// operators read: handshake timestamps (TAI64N) and last-handshake times.
#pragma once

#include <cstdint>

#include "crypto/messages.hpp"

namespace ringtun::daemon {

using crypto::Nanos;

struct Now {
    Nanos boot = 0;             // CLOCK_BOOTTIME: protocol time, counts through suspend
    std::uint64_t unix_ns = 0;  // CLOCK_REALTIME: handshake timestamps and statistics
};

}  // namespace ringtun::daemon
