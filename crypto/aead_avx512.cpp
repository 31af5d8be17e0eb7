// The AEAD construction (RFC 8439 §2.8) over the AVX-512 ChaCha20 and Poly1305: keystream block
// 0 keys Poly1305, blocks 1.. encrypt. The first sixteen blocks are computed in one go, so a
// message up to 960 bytes needs one keystream call and a 1420-byte one two (16 + 8 blocks).
//
// This file is compiled for the baseline CPU; only its callees need AVX-512.
#include "crypto/aead_avx512.hpp"

#include <openssl/crypto.h>

#include <cstring>

namespace ringtun::crypto::detail {

namespace {

constexpr unsigned first_blocks_max = 16;

ChaChaKey chacha_key(const std::uint8_t key[32], const std::uint8_t nonce[12]) noexcept {
    ChaChaKey k;
    std::memcpy(k.key, key, 32);  // little-endian words, as RFC 8439 §2.3 reads them
    std::memcpy(k.nonce, nonce, 12);
    return k;
}

// Keystream blocks 0..n-1 for a message of `len` bytes: n covers block 0 and as much of the
// message as fits in the first call. Returns the number of message bytes they cover.
std::size_t first_keystream(const ChaChaKey& k, std::size_t len, std::uint8_t* ks) noexcept {
    const std::size_t wanted = 1 + (len + 63) / 64;
    const unsigned n = wanted < first_blocks_max ? static_cast<unsigned>(wanted) : first_blocks_max;
    chacha20_avx512_keystream(k, 0, n, ks);
    const std::size_t covered = 64u * (n - 1);
    return len < covered ? len : covered;
}

void encrypt(const ChaChaKey& k, const std::uint8_t* ks, std::size_t covered, std::uint8_t* data,
             std::size_t len) noexcept {
    xor_bytes(data, ks + 64, covered);
    if (len > covered)
        chacha20_avx512_xor(k, static_cast<std::uint32_t>(1 + covered / 64), data + covered,
                            len - covered);
}

void wipe(ChaChaKey& k, std::uint8_t* ks) noexcept {
    wipe_bytes(reinterpret_cast<std::uint8_t*>(&k), sizeof k);
    wipe_bytes(ks, first_blocks_max * 64);
}

}  // namespace

bool avx512_aead_supported() noexcept {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512ifma");
}

void avx512_seal(const std::uint8_t key[32], const std::uint8_t nonce[12], const std::uint8_t* ad,
                 std::size_t ad_len, std::uint8_t* data, std::size_t len,
                 std::uint8_t tag[16]) noexcept {
    ChaChaKey k = chacha_key(key, nonce);
    alignas(64) std::uint8_t ks[first_blocks_max * 64];
    const std::size_t covered = first_keystream(k, len, ks);
    encrypt(k, ks, covered, data, len);
    poly1305_aead_tag(ks, ad, ad_len, data, len, tag);
    wipe(k, ks);
}

bool avx512_open(const std::uint8_t key[32], const std::uint8_t nonce[12], const std::uint8_t* ad,
                 std::size_t ad_len, std::uint8_t* data, std::size_t len,
                 const std::uint8_t tag[16]) noexcept {
    ChaChaKey k = chacha_key(key, nonce);
    alignas(64) std::uint8_t ks[first_blocks_max * 64];
    const std::size_t covered = first_keystream(k, len, ks);
    std::uint8_t expected[16];
    poly1305_aead_tag(ks, ad, ad_len, data, len, expected);
    const bool authentic = CRYPTO_memcmp(expected, tag, 16) == 0;
    if (authentic) encrypt(k, ks, covered, data, len);
    wipe(k, ks);
    wipe_bytes(expected, sizeof expected);  // the valid tag for whatever was sent
    return authentic;
}

}  // namespace ringtun::crypto::detail
