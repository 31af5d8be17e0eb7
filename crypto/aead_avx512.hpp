// ChaCha20-Poly1305 (RFC 8439 §2.8) written for x86-64 CPUs with AVX-512 F/VL/BW and IFMA:
// ChaCha20 sixteen blocks at a time, Poly1305 eight blocks at a time in radix 2^44. It exists
// because OpenSSL 3.0's EVP path spends about 60% of a 1420-byte message outside the arithmetic
// (per-message parameter plumbing, a separate call for the Poly1305 key block, and a keystream
// tail computed for 16 blocks where 8 are needed); see docs/BENCHMARKS.md.
//
// Internal to crypto/: AeadContext selects it when avx512_aead_supported(), and the unit tests
// compare it with OpenSSL on every length. Raw pointers only, so the AVX-512 translation units
// instantiate nothing from the standard headers (see chacha20_avx512.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ringtun::crypto::detail {

// True when the CPU and the kernel (XSAVE of the AVX-512 state) support every instruction the
// functions below use. Compiled for the baseline; safe to call anywhere.
bool avx512_aead_supported() noexcept;

struct ChaChaKey {
    std::uint32_t key[8];
    std::uint32_t nonce[3];
};

// Writes keystream blocks counter, counter+1, … to out: 16 of them when blocks > 8, else 8
// (out must hold 1024 bytes); `blocks` (1..16) is how many the caller needs.
void chacha20_avx512_keystream(const ChaChaKey& key, std::uint32_t counter, unsigned blocks,
                               std::uint8_t* out) noexcept;
// XORs the keystream from block `counter` on into data[0..len).
void chacha20_avx512_xor(const ChaChaKey& key, std::uint32_t counter, std::uint8_t* data,
                         std::size_t len) noexcept;
// data[i] ^= ks[i] for i < n; reads and writes nothing beyond n.
void xor_bytes(std::uint8_t* data, const std::uint8_t* ks, std::size_t n) noexcept;
// Zeroes p[0..n) in a way the compiler cannot drop.
void wipe_bytes(std::uint8_t* p, std::size_t n) noexcept;

// The Poly1305 tag of ad ‖ pad16 ‖ ct ‖ pad16 ‖ le64(ad_len) ‖ le64(ct_len) under the one-time
// key `otk` (r ‖ s), as the AEAD defines it.
void poly1305_aead_tag(const std::uint8_t otk[32], const std::uint8_t* ad, std::size_t ad_len,
                       const std::uint8_t* ct, std::size_t ct_len, std::uint8_t tag[16]) noexcept;

// Messages of at most 256 GiB (the block counter is 32 bits); WireGuard's are at most 64 KiB.
// The keystream buffer and the one-time key are wiped; values the compiler spills to the stack
// inside the AVX-512 functions (broadcast key words, Poly1305 key powers) are not: the session
// key they come from lives in the session for minutes anyway, and the next packet overwrites
// them. In place; `tag` receives 16 bytes.
void avx512_seal(const std::uint8_t key[32], const std::uint8_t nonce[12], const std::uint8_t* ad,
                 std::size_t ad_len, std::uint8_t* data, std::size_t len,
                 std::uint8_t tag[16]) noexcept;
// In place; false (and `data` unchanged) if the tag does not authenticate ad and data.
bool avx512_open(const std::uint8_t key[32], const std::uint8_t nonce[12], const std::uint8_t* ad,
                 std::size_t ad_len, std::uint8_t* data, std::size_t len,
                 const std::uint8_t tag[16]) noexcept;

}  // namespace ringtun::crypto::detail
