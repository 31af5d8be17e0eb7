// Human-readable statistics for SIGUSR1 and shutdown: device counters, drops by reason and
// per-peer state. Never prints key material (peers appear as peer(AbCd…wXyZ)).
#pragma once

#include "daemon/engine/device.hpp"

namespace ringtun::daemon {

void log_device_statistics(const Device& device);

}  // namespace ringtun::daemon
