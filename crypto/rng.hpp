// Randomness as a parameter: the protocol core never reaches for a global generator, so tests
// can supply deterministic bytes and the daemon supplies SystemRng.
#pragma once

#include <concepts>
#include <cstdint>
#include <span>

namespace ringtun::crypto {

class Rng {
  public:
    virtual ~Rng() = default;
    virtual void fill(std::span<std::uint8_t> out) noexcept = 0;
};

// An unsigned integer of random bits from `rng`.
template <std::unsigned_integral T>
T random_value(Rng& rng) noexcept {
    T v = 0;
    rng.fill({reinterpret_cast<std::uint8_t*>(&v), sizeof v});
    return v;
}

// OpenSSL's DRBG (seeded by the kernel when OpenSSL first needs entropy), drawn a kilobyte at
// a time into a per-thread pool that wipes what it hands out and is emptied in a forked child
// (rng.cpp). Aborts if OpenSSL reports failure: a VPN must never continue with predictable keys.
class SystemRng final : public Rng {
  public:
    void fill(std::span<std::uint8_t> out) noexcept override;
};

}  // namespace ringtun::crypto
