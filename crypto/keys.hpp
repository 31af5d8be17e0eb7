// Key types of the WireGuard protocol and their text form (base64 of the 32 raw bytes, exactly
// as `wg genkey` / `wg pubkey` write them).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "crypto/secret.hpp"

namespace ringtun::crypto {

inline constexpr std::size_t key_len = 32;

using PrivateKey = Secret<key_len>;    // X25519 private key (clamped when we generate it)
using SymmetricKey = Secret<key_len>;  // chaining keys, AEAD keys, preshared keys
// A BLAKE2s-256 value. Handshake hashes (H) are derived from keys and the transcript: like
// every secret they are wiped when they go, stack copies included. Otherwise a plain array.
struct Hash : std::array<std::uint8_t, 32> {
    ~Hash() { OPENSSL_cleanse(data(), size()); }
};

// X25519 public key. Public, so printable and comparable in variable time.
struct PublicKey {
    std::array<std::uint8_t, key_len> bytes{};

    const std::uint8_t* data() const noexcept { return bytes.data(); }
    std::span<const std::uint8_t, key_len> span() const noexcept { return bytes; }
    bool is_zero() const noexcept;
    friend bool operator==(const PublicKey&, const PublicKey&) = default;
};

// For tables keyed by public key (peers by key). Keys are uniformly random, and a table's keys
// are the configured ones, which a remote cannot choose.
struct PublicKeyHash {
    std::size_t operator()(const PublicKey& k) const noexcept {
        return std::hash<std::string_view>{}(
            {reinterpret_cast<const char*>(k.bytes.data()), k.bytes.size()});
    }
};

// 44 characters ending in '='.
std::string key_to_base64(std::span<const std::uint8_t, key_len> key);

// Strict: exactly 44 characters of the standard alphabet, one '=' at the end, and the unused
// low bits of the last symbol zero (as wg(8) requires). nullopt on anything else.
std::optional<std::array<std::uint8_t, key_len>> key_from_base64(std::string_view text) noexcept;

// Abbreviated form for logs: "AbCd…wXyZ" of the base64 text.
std::string short_key(const PublicKey& key);

}  // namespace ringtun::crypto
