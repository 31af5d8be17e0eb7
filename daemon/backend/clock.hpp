// The backend's clock: the one place the daemon reads time for the engine (engine/clock.hpp
// says which clocks and why).
#pragma once

#include "daemon/engine/clock.hpp"

namespace ringtun::daemon {

Now read_clock() noexcept;

}  // namespace ringtun::daemon
