// Handshake flood defences (paper §5.3; kernel ratelimiter.c, cookie.c):
// - HandshakeLoad decides when we are "under load", which makes mac2 (a cookie) mandatory.
//   The kernel and wireguard-go measure their handshake queue; a single loop has no queue, so
//   we measure the rate of handshake messages instead: over `threshold` in one second means
//   under load, for that second and the next.
// - SourceRateLimiter: while under load, each source IP may start 20 handshakes per second
//   with a burst of 5. Fixed memory (no allocation per packet): a hashed table of token
//   buckets; sources whose keys collide share one (never reset it). IPv6 is keyed per /64.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "crypto/messages.hpp"

namespace ringtun::daemon {

class HandshakeLoad {
  public:
    static constexpr std::uint32_t default_threshold = 512;

    explicit HandshakeLoad(std::uint32_t threshold = default_threshold) noexcept
        : threshold_(threshold) {}

    // Counts one handshake message at `now`; true if we are under load.
    bool count_and_check(crypto::Nanos now) noexcept;

  private:
    std::uint32_t threshold_;
    crypto::Nanos window_start_ = 0;
    std::uint32_t in_window_ = 0;
    crypto::Nanos under_load_until_ = 0;
};

class SourceRateLimiter {
  public:
    static constexpr double per_second = 20;
    static constexpr double burst = 5;
    static constexpr std::size_t buckets = 4096;

    // `seed` keys the hash so a remote cannot aim collisions at one bucket.
    explicit SourceRateLimiter(std::uint64_t seed) noexcept : seed_(seed) {}

    // `ip` is the source address bytes (4 or 16). True if this handshake may proceed.
    bool allow(std::span<const std::uint8_t> ip, crypto::Nanos now) noexcept;

  private:
    struct Bucket {
        std::uint64_t key = 0;
        crypto::Nanos last = 0;
        double tokens = 0;
    };
    std::uint64_t seed_;
    std::array<Bucket, buckets> table_{};
};

}  // namespace ringtun::daemon
