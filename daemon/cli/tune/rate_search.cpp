#include "daemon/cli/tune/rate_search.hpp"

#include <algorithm>

namespace ringtun::daemon::tune {

namespace {
constexpr double kFloor = 1000;  // packets per second: the slowest rate worth offering
}  // namespace

void RateSearch::record(std::uint64_t sent, std::uint64_t received, double seconds) noexcept {
    if (seconds <= 0) seconds = 1e-9;
    const double rate = static_cast<double>(sent) / seconds;
    const bool held = sent > 0 && static_cast<double>(std::min(received, sent)) >=
                                      static_cast<double>(sent) * (1 - loss_limit_);
    if (held)
        held_ = std::max(held_, rate);
    else if (sent > 0)
        failed_ = failed_ == 0 ? rate : std::min(failed_, rate);
    if (first_) {
        first_ = false;
        done_ = held;
        const double delivered = static_cast<double>(received) / seconds;
        failed_ = std::min(failed_ == 0 ? rate : failed_, 1.2 * delivered);
        // Never 0 (flat out again), even when nothing got through.
        next_ = std::max(0.9 * delivered, kFloor);
        return;
    }
    if (held_ == 0)
        next_ = std::max(0.6 * rate, kFloor);
    else if (failed_ == 0)
        next_ = 1.3 * held_;
    else
        next_ = (held_ + failed_) / 2;
}

}  // namespace ringtun::daemon::tune
