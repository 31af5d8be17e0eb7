// BLAKE2s's compression for AVX-512 VL CPUs (blake2s_compress.hpp). Compiled for AVX-512
// (crypto/CMakeLists.txt); blake2s.cpp calls it only after avx512_blake2s_supported() said
// yes. As chacha20_avx512.cpp: no inline functions or templates from headers other than the
// intrinsics, whose AVX-512 copy the linker could keep for a CPU without.
#include <immintrin.h>

#include "crypto/blake2s_compress.hpp"

namespace ringtun::crypto::detail {

namespace {

// G (RFC 7693 §3.1) on four columns at once: a, b, c, d are the state's rows.
inline void mix(__m128i& a, __m128i& b, __m128i& c, __m128i& d, __m128i x, __m128i y) {
    a = _mm_add_epi32(_mm_add_epi32(a, b), x);
    d = _mm_ror_epi32(_mm_xor_si128(d, a), 16);
    c = _mm_add_epi32(c, d);
    b = _mm_ror_epi32(_mm_xor_si128(b, c), 12);
    a = _mm_add_epi32(_mm_add_epi32(a, b), y);
    d = _mm_ror_epi32(_mm_xor_si128(d, a), 8);
    c = _mm_add_epi32(c, d);
    b = _mm_ror_epi32(_mm_xor_si128(b, c), 7);
}

// Round R: the message words in the order the two steps take them (the columns' x and y, then
// the diagonals' x and y), one permutation of the block's sixteen words.
template <int R>
inline void round(__m128i& a, __m128i& b, __m128i& c, __m128i& d, __m512i m) {
    constexpr const std::uint8_t* s = blake2s_sigma[R];
    const __m512i order = _mm512_setr_epi32(s[0], s[2], s[4], s[6], s[1], s[3], s[5], s[7], s[8],
                                            s[10], s[12], s[14], s[9], s[11], s[13], s[15]);
    const __m512i w = _mm512_permutexvar_epi32(order, m);
    mix(a, b, c, d, _mm512_castsi512_si128(w), _mm512_extracti32x4_epi32(w, 1));
    // Diagonals into columns: row i turned left by i words.
    b = _mm_shuffle_epi32(b, _MM_SHUFFLE(0, 3, 2, 1));
    c = _mm_shuffle_epi32(c, _MM_SHUFFLE(1, 0, 3, 2));
    d = _mm_shuffle_epi32(d, _MM_SHUFFLE(2, 1, 0, 3));
    mix(a, b, c, d, _mm512_extracti32x4_epi32(w, 2), _mm512_extracti32x4_epi32(w, 3));
    b = _mm_shuffle_epi32(b, _MM_SHUFFLE(2, 1, 0, 3));
    c = _mm_shuffle_epi32(c, _MM_SHUFFLE(1, 0, 3, 2));
    d = _mm_shuffle_epi32(d, _MM_SHUFFLE(0, 3, 2, 1));
}

__m128i load(const std::uint32_t* p) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

}  // namespace

void blake2s_compress_avx512(std::uint32_t h[8], const std::uint8_t block[64],
                             std::uint64_t counter, bool last) noexcept {
    const __m512i m = _mm512_loadu_si512(block);  // little-endian words, as x86 loads them
    const __m128i h0 = load(h), h1 = load(h + 4);
    __m128i a = h0, b = h1, c = load(blake2s_iv);
    __m128i d = _mm_xor_si128(load(blake2s_iv + 4),
                              _mm_setr_epi32(static_cast<int>(counter),
                                             static_cast<int>(counter >> 32), last ? -1 : 0, 0));
    round<0>(a, b, c, d, m);
    round<1>(a, b, c, d, m);
    round<2>(a, b, c, d, m);
    round<3>(a, b, c, d, m);
    round<4>(a, b, c, d, m);
    round<5>(a, b, c, d, m);
    round<6>(a, b, c, d, m);
    round<7>(a, b, c, d, m);
    round<8>(a, b, c, d, m);
    round<9>(a, b, c, d, m);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h), _mm_xor_si128(h0, _mm_xor_si128(a, c)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h + 4), _mm_xor_si128(h1, _mm_xor_si128(b, d)));
}

}  // namespace ringtun::crypto::detail
