// Backoff: the delay before redialling a TCP peer after a failed connection.
//
// Capped exponential backoff with jitter: the n-th failure since the last reset() waits
// nominal(n) = min(base * 2^(n-1), cap), moved by up to ±jitter_percent of itself so that
// peers that lost their connections together do not redial together. The cap bounds the
// nominal delay, so the longest wait is cap * (1 + jitter_percent / 100) — 36 s by default.
// The randomness is a parameter, so tests are exact; no clock read, no allocation.
#pragma once

#include <cstdint>

#include "crypto/messages.hpp"

namespace ringtun::daemon {

struct BackoffParams {
    crypto::Nanos base = crypto::millis_ns(250);
    crypto::Nanos cap = crypto::seconds_ns(30);
    unsigned jitter_percent = 20;  // 0..100
};

class Backoff {
  public:
    // Preconditions: 0 < base <= cap < 2^62; jitter_percent <= 100 (cap below base is raised to
    // base, jitter_percent above 100 lowered to 100).
    explicit Backoff(const BackoffParams& params = {}) noexcept;

    // Counts one failed attempt and returns how long to wait before the next one:
    // nominal - range + random % (2 * range + 1), range = nominal * jitter_percent / 100, so
    // any 64-bit random value picks a point of [nominal - range, nominal + range] (near
    // uniformly: the modulo bias is below 2^-30).
    [[nodiscard]] crypto::Nanos next_delay(std::uint64_t random) noexcept;

    // The connection succeeded: the next failure starts again from base.
    void reset() noexcept;

    // Failures counted since the last reset().
    unsigned failures() const noexcept { return failures_; }
    // The nominal (unjittered) delay the next failure will get.
    crypto::Nanos next_nominal() const noexcept { return nominal_; }

  private:
    BackoffParams params_;
    crypto::Nanos nominal_;
    unsigned failures_ = 0;
};

}  // namespace ringtun::daemon
