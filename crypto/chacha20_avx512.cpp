// ChaCha20 (RFC 8439 §2.3–2.4) sixteen or eight blocks at a time in AVX-512 registers: one
// register per state word, one lane per block, then a 16×16 transpose back to block order.
//
// Compiled for AVX-512 (crypto/CMakeLists.txt); called only after avx512_aead_supported() said
// yes. This file must not use inline functions or templates from headers other than the
// intrinsics: the linker could keep this file's AVX-512 copy of one and run it on a CPU without.
#include <immintrin.h>

#include "crypto/aead_avx512.hpp"

namespace ringtun::crypto::detail {

namespace {

constexpr std::uint32_t sigma[4] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};

// The vector operations for sixteen blocks (zmm) and for eight (ymm).
struct Ops512 {
    using V = __m512i;
    static V set1(std::uint32_t w) { return _mm512_set1_epi32(static_cast<int>(w)); }
    // counter, counter + 1, … one per lane
    static V counters(std::uint32_t c) {
        return _mm512_add_epi32(
            set1(c), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    }
    static V add(V a, V b) { return _mm512_add_epi32(a, b); }
    static V xor_(V a, V b) { return _mm512_xor_si512(a, b); }
    template <int N>
    static V rol(V v) {
        return _mm512_rol_epi32(v, N);
    }
    static V unpacklo32(V a, V b) { return _mm512_unpacklo_epi32(a, b); }
    static V unpackhi32(V a, V b) { return _mm512_unpackhi_epi32(a, b); }
    static V unpacklo64(V a, V b) { return _mm512_unpacklo_epi64(a, b); }
    static V unpackhi64(V a, V b) { return _mm512_unpackhi_epi64(a, b); }
};

struct Ops256 {
    using V = __m256i;
    static V set1(std::uint32_t w) { return _mm256_set1_epi32(static_cast<int>(w)); }
    static V counters(std::uint32_t c) {
        return _mm256_add_epi32(set1(c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    static V add(V a, V b) { return _mm256_add_epi32(a, b); }
    static V xor_(V a, V b) { return _mm256_xor_si256(a, b); }
    template <int N>
    static V rol(V v) {
        return _mm256_rol_epi32(v, N);
    }
    static V unpacklo32(V a, V b) { return _mm256_unpacklo_epi32(a, b); }
    static V unpackhi32(V a, V b) { return _mm256_unpackhi_epi32(a, b); }
    static V unpacklo64(V a, V b) { return _mm256_unpacklo_epi64(a, b); }
    static V unpackhi64(V a, V b) { return _mm256_unpackhi_epi64(a, b); }
};

// The initial state (RFC 8439 §2.3) of one block per lane, words in separate registers.
template <typename Ops, typename V = typename Ops::V>
void initial_state(const ChaChaKey& key, std::uint32_t counter, V x[16]) noexcept {
    for (int i = 0; i < 4; ++i)
        x[i] = Ops::set1(sigma[i]);
    for (int i = 0; i < 8; ++i)
        x[4 + i] = Ops::set1(key.key[i]);
    x[12] = Ops::counters(counter);
    for (int i = 0; i < 3; ++i)
        x[13 + i] = Ops::set1(key.nonce[i]);
}

// One quarter round on one word of every block at once (RFC 8439 §2.1).
template <typename Ops, typename V = typename Ops::V>
void quarter_round(V& a, V& b, V& c, V& d) noexcept {
    a = Ops::add(a, b), d = Ops::template rol<16>(Ops::xor_(d, a));
    c = Ops::add(c, d), b = Ops::template rol<12>(Ops::xor_(b, c));
    a = Ops::add(a, b), d = Ops::template rol<8>(Ops::xor_(d, a));
    c = Ops::add(c, d), b = Ops::template rol<7>(Ops::xor_(b, c));
}

// Ten double rounds over x[16] (each word of every block), then the feed-forward addition.
template <typename Ops, typename V = typename Ops::V>
void rounds(V x[16]) noexcept {
    V in[16];
    for (int i = 0; i < 16; ++i)
        in[i] = x[i];
    for (int round = 0; round < 10; ++round) {
        quarter_round<Ops>(x[0], x[4], x[8], x[12]);
        quarter_round<Ops>(x[1], x[5], x[9], x[13]);
        quarter_round<Ops>(x[2], x[6], x[10], x[14]);
        quarter_round<Ops>(x[3], x[7], x[11], x[15]);
        quarter_round<Ops>(x[0], x[5], x[10], x[15]);
        quarter_round<Ops>(x[1], x[6], x[11], x[12]);
        quarter_round<Ops>(x[2], x[7], x[8], x[13]);
        quarter_round<Ops>(x[3], x[4], x[9], x[14]);
    }
    for (int i = 0; i < 16; ++i)
        x[i] = Ops::add(x[i], in[i]);
}

// Within each 128-bit lane, turns four word-registers (words w..w+3 of four blocks) into four
// block-registers (block j of the lane holds words w..w+3) — a 4×4 transpose of 32-bit words.
template <typename Ops, typename V = typename Ops::V>
void transpose4(V& a, V& b, V& c, V& d) noexcept {
    V ab_lo = Ops::unpacklo32(a, b), ab_hi = Ops::unpackhi32(a, b);
    V cd_lo = Ops::unpacklo32(c, d), cd_hi = Ops::unpackhi32(c, d);
    a = Ops::unpacklo64(ab_lo, cd_lo);
    b = Ops::unpackhi64(ab_lo, cd_lo);
    c = Ops::unpacklo64(ab_hi, cd_hi);
    d = Ops::unpackhi64(ab_hi, cd_hi);
}

// Stores 16 blocks in order. After transpose4 on each word group g, x[4g + j] holds, in its
// 128-bit lane L, words 4g..4g+3 of block 4L + j; a 4×4 transpose of 128-bit lanes finishes it.
void store16(__m512i x[16], std::uint8_t* out) noexcept {
    for (int g = 0; g < 4; ++g)
        transpose4<Ops512>(x[4 * g], x[4 * g + 1], x[4 * g + 2], x[4 * g + 3]);
    for (int j = 0; j < 4; ++j) {
        __m512i ab_lo = _mm512_shuffle_i32x4(x[j], x[4 + j], _MM_SHUFFLE(2, 0, 2, 0));
        __m512i ab_hi = _mm512_shuffle_i32x4(x[j], x[4 + j], _MM_SHUFFLE(3, 1, 3, 1));
        __m512i cd_lo = _mm512_shuffle_i32x4(x[8 + j], x[12 + j], _MM_SHUFFLE(2, 0, 2, 0));
        __m512i cd_hi = _mm512_shuffle_i32x4(x[8 + j], x[12 + j], _MM_SHUFFLE(3, 1, 3, 1));
        const __m512i blocks[4] = {
            _mm512_shuffle_i32x4(ab_lo, cd_lo, _MM_SHUFFLE(2, 0, 2, 0)),
            _mm512_shuffle_i32x4(ab_hi, cd_hi, _MM_SHUFFLE(2, 0, 2, 0)),
            _mm512_shuffle_i32x4(ab_lo, cd_lo, _MM_SHUFFLE(3, 1, 3, 1)),
            _mm512_shuffle_i32x4(ab_hi, cd_hi, _MM_SHUFFLE(3, 1, 3, 1)),
        };
        for (int lane = 0; lane < 4; ++lane)
            _mm512_storeu_si512(out + 64 * (4 * lane + j), blocks[lane]);
    }
}

// The eight-block form: two 128-bit lanes per register, so blocks j and 4 + j.
void store8(__m256i x[16], std::uint8_t* out) noexcept {
    for (int g = 0; g < 4; ++g)
        transpose4<Ops256>(x[4 * g], x[4 * g + 1], x[4 * g + 2], x[4 * g + 3]);
    for (int j = 0; j < 4; ++j) {
        std::uint8_t* lo = out + 64 * j;
        std::uint8_t* hi = out + 64 * (4 + j);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo),
                            _mm256_permute2x128_si256(x[j], x[4 + j], 0x20));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo + 32),
                            _mm256_permute2x128_si256(x[8 + j], x[12 + j], 0x20));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi),
                            _mm256_permute2x128_si256(x[j], x[4 + j], 0x31));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi + 32),
                            _mm256_permute2x128_si256(x[8 + j], x[12 + j], 0x31));
    }
}

}  // namespace

void chacha20_avx512_keystream(const ChaChaKey& key, std::uint32_t counter, unsigned blocks,
                               std::uint8_t* out) noexcept {
    if (blocks > 8) {
        __m512i x[16];
        initial_state<Ops512>(key, counter, x);
        rounds<Ops512>(x);
        store16(x, out);
        return;
    }
    __m256i x[16];
    initial_state<Ops256>(key, counter, x);
    rounds<Ops256>(x);
    store8(x, out);
}

void chacha20_avx512_xor(const ChaChaKey& key, std::uint32_t counter, std::uint8_t* data,
                         std::size_t len) noexcept {
    alignas(64) std::uint8_t ks[16 * 64];
    while (len > 0) {
        const std::size_t blocks = (len + 63) / 64;
        const unsigned now = blocks > 16 ? 16u : static_cast<unsigned>(blocks);
        chacha20_avx512_keystream(key, counter, now, ks);
        const std::size_t n = len < 64u * now ? len : 64u * now;
        xor_bytes(data, ks, n);
        data += n, len -= n, counter += now;
    }
    wipe_bytes(ks, sizeof ks);
}

void xor_bytes(std::uint8_t* data, const std::uint8_t* ks, std::size_t n) noexcept {
    std::size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i d = _mm512_loadu_si512(data + i);
        _mm512_storeu_si512(data + i, _mm512_xor_si512(d, _mm512_loadu_si512(ks + i)));
    }
    if (i < n) {
        const __mmask64 tail = _cvtu64_mask64(~0ULL >> (64 - (n - i)));
        __m512i d = _mm512_maskz_loadu_epi8(tail, data + i);
        const __m512i k = _mm512_maskz_loadu_epi8(tail, ks + i);
        _mm512_mask_storeu_epi8(data + i, tail, _mm512_xor_si512(d, k));
    }
}

void wipe_bytes(std::uint8_t* p, std::size_t n) noexcept {
    std::size_t i = 0;
    for (; i + 64 <= n; i += 64)
        _mm512_storeu_si512(p + i, _mm512_setzero_si512());
    for (; i < n; ++i)
        p[i] = 0;
    // The stores must survive although nothing reads them again.
    asm volatile("" : : "r"(p) : "memory");
}

}  // namespace ringtun::crypto::detail
