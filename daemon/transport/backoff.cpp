#include "daemon/transport/backoff.hpp"

#include <algorithm>
#include <limits>

namespace ringtun::daemon {

namespace {

// floor(n * percent / 100) without overflowing for any n.
crypto::Nanos percent_of(crypto::Nanos n, unsigned percent) noexcept {
    return n / 100 * percent + n % 100 * percent / 100;
}

}  // namespace

Backoff::Backoff(const BackoffParams& params) noexcept
    : params_{params.base, std::max(params.base, params.cap),
              std::min(params.jitter_percent, 100u)},
      nominal_(params_.base) {}

crypto::Nanos Backoff::next_delay(std::uint64_t random) noexcept {
    const crypto::Nanos nominal = nominal_;
    if (failures_ < std::numeric_limits<unsigned>::max()) ++failures_;
    nominal_ = nominal > params_.cap / 2 ? params_.cap : nominal * 2;

    const crypto::Nanos range = percent_of(nominal, params_.jitter_percent);
    return nominal - range + random % (2 * range + 1);
}

void Backoff::reset() noexcept {
    nominal_ = params_.base;
    failures_ = 0;
}

}  // namespace ringtun::daemon
