// Randomness as a parameter: the protocol core never reaches for a global generator, so tests
// can supply deterministic bytes and the daemon supplies SystemRng.
#pragma once

#include <cstdint>
#include <span>

namespace ringtun::crypto {

class Rng {
  public:
    virtual ~Rng() = default;
    virtual void fill(std::span<std::uint8_t> out) noexcept = 0;
};

// OpenSSL's DRBG (seeded by the kernel when OpenSSL first needs entropy). Aborts if OpenSSL
// reports failure: a VPN must never continue with predictable keys.
class SystemRng final : public Rng {
  public:
    void fill(std::span<std::uint8_t> out) noexcept override;
};

}  // namespace ringtun::crypto
