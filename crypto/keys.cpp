#include "crypto/keys.hpp"

#include <openssl/crypto.h>

namespace ringtun::crypto {

namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int symbol_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

}  // namespace

bool PublicKey::is_zero() const noexcept {
    std::uint8_t acc = 0;
    for (auto b : bytes)
        acc |= b;
    return acc == 0;
}

std::string key_to_base64(std::span<const std::uint8_t, key_len> key) {
    std::string out;
    out.reserve(44);
    // 32 bytes = 10 full 3-byte groups + 2 bytes.
    std::size_t i = 0;
    for (; i + 3 <= key_len; i += 3) {
        std::uint32_t v =
            (std::uint32_t{key[i]} << 16) | (std::uint32_t{key[i + 1]} << 8) | key[i + 2];
        for (int shift = 18; shift >= 0; shift -= 6)
            out.push_back(alphabet[(v >> shift) & 63]);
    }
    std::uint32_t v = (std::uint32_t{key[i]} << 16) | (std::uint32_t{key[i + 1]} << 8);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back('=');
    return out;
}

std::optional<std::array<std::uint8_t, key_len>> key_from_base64(std::string_view text) noexcept {
    if (text.size() != 44 || text[43] != '=') return std::nullopt;
    std::array<std::uint8_t, key_len> key{};
    std::uint32_t acc = 0;
    int bits = 0;
    std::size_t n = 0;
    for (std::size_t i = 0; i < 43; ++i) {
        int v = symbol_value(text[i]);
        if (v < 0) {
            OPENSSL_cleanse(key.data(), key.size());
            return std::nullopt;
        }
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            key[n++] = static_cast<std::uint8_t>(acc >> bits);
        }
    }
    // 43 symbols carry 258 bits: the 2 left over must be zero for a canonical encoding.
    bool canonical = (acc & ((1u << bits) - 1)) == 0;
    OPENSSL_cleanse(&acc, sizeof acc);
    if (!canonical || n != key_len) {
        OPENSSL_cleanse(key.data(), key.size());
        return std::nullopt;
    }
    return key;
}

std::string short_key(const PublicKey& key) {
    std::string b64 = key_to_base64(key.span());
    return b64.substr(0, 4) + "\u2026" + b64.substr(39, 4);
}

}  // namespace ringtun::crypto
