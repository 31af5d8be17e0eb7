#include "crypto/rng.hpp"

#include <openssl/rand.h>

#include <cstdlib>

namespace ringtun::crypto {

void SystemRng::fill(std::span<std::uint8_t> out) noexcept {
    if (out.empty()) return;
    if (RAND_priv_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
}

}  // namespace ringtun::crypto
