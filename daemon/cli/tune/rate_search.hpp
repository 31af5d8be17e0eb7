// The small-packet capacity search of `ringtun tune`, sans-IO: the highest offered rate at
// which less than 1% of the datagrams are lost, found in a fixed, small number of steps.
//
// Step 1 sends flat out: what arrives then (D) is about what the tunnel can carry, and rates
// much above it will not hold, so the search runs below 1.2 D: first 0.9 D, then up halfway
// to the lowest rate that failed while the last one held, down to 60% while none has held.
// If the flat-out step itself held, the sender, not the tunnel, was the limit: the search is
// done and its rate is the answer (a lower bound).
#pragma once

#include <cstdint>

namespace ringtun::daemon::tune {

class RateSearch {
  public:
    explicit RateSearch(double loss_limit = 0.01) noexcept : loss_limit_(loss_limit) {}

    // The rate to offer next, in packets per second; 0 means flat out (the first step).
    double next() const noexcept { return next_; }
    // What the step offered at next() gave: datagrams sent and received over `seconds`.
    void record(std::uint64_t sent, std::uint64_t received, double seconds) noexcept;
    // The flat-out step held: nothing left to search.
    bool done() const noexcept { return done_; }
    // The highest rate sent with less than the loss limit, packets per second; 0 if none.
    double best() const noexcept { return held_; }

  private:
    double loss_limit_;
    double next_ = 0;
    double held_ = 0;    // highest rate that held
    double failed_ = 0;  // lowest rate that did not (0: none yet)
    bool first_ = true;
    bool done_ = false;
};

}  // namespace ringtun::daemon::tune
