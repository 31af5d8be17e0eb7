// Which I/O backend `[ring] backend = "auto"` takes on this host, and why: io_uring where it
// is permitted and offers what the loop needs, else the readiness (epoll) backend. One rule,
// shared by the daemon's start and `ringtun probe`, so that the probe predicts the daemon.
#pragma once

#include <cstdint>
#include <string>

#include "ring/availability.hpp"
#include "ring/features.hpp"
#include "util/result.hpp"

namespace ringtun::daemon {

enum class Backend : std::uint8_t { io_uring, epoll };
const char* to_string(Backend b) noexcept;

struct BackendChoice {
    Backend backend = Backend::epoll;
    std::string reason;  // one line, for the start log ("backend epoll: io_uring_setup: ...")
};

// `features` is ring::probe_features()'s answer; only looked at when `availability` is usable.
BackendChoice choose_backend(const ring::IoUringAvailability& availability,
                             const util::Result<ring::Features>& features);

}  // namespace ringtun::daemon
