// The BLAKE2s-based functions of the WireGuard paper (section 5.4): HASH, MAC, HMAC and the
// HKDF-style KDF1/KDF2/KDF3. Used by the handshake and cookies only, never per data packet.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>

#include "crypto/keys.hpp"

namespace ringtun::crypto {

using Bytes = std::span<const std::uint8_t>;
using Mac16 = std::array<std::uint8_t, 16>;

// HASH(a ‖ b ‖ …): unkeyed BLAKE2s-256.
Hash hash(std::initializer_list<Bytes> parts) noexcept;

// MAC(key, data): keyed BLAKE2s with a 16-byte digest length (not a truncated hash).
// The key is 1 to 32 bytes (32 for mac1, the 16-byte cookie for mac2); a longer one aborts.
Mac16 mac(Bytes key, Bytes data) noexcept;

// HMAC(key, a ‖ b ‖ …) over BLAKE2s-256 (RFC 2104).
void hmac(std::span<std::uint8_t, 32> out, Bytes key, std::initializer_list<Bytes> parts) noexcept;

// KDFn(key, input) from the paper: writes n = outputs.size() (1 to 3) keys.
void kdf(std::span<SymmetricKey* const> outputs, std::span<const std::uint8_t, 32> key,
         Bytes input) noexcept;

inline void kdf1(SymmetricKey& t0, std::span<const std::uint8_t, 32> key, Bytes in) noexcept {
    SymmetricKey* outs[] = {&t0};
    kdf(outs, key, in);
}
inline void kdf2(SymmetricKey& t0, SymmetricKey& t1, std::span<const std::uint8_t, 32> key,
                 Bytes in) noexcept {
    SymmetricKey* outs[] = {&t0, &t1};
    kdf(outs, key, in);
}
inline void kdf3(SymmetricKey& t0, SymmetricKey& t1, SymmetricKey& t2,
                 std::span<const std::uint8_t, 32> key, Bytes in) noexcept {
    SymmetricKey* outs[] = {&t0, &t1, &t2};
    kdf(outs, key, in);
}

}  // namespace ringtun::crypto
