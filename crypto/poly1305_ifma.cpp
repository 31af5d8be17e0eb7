// Poly1305 (RFC 8439 §2.5) in radix 2^44: h and r as three limbs (44, 44, 42 bits), as in
// poly1305-donna-64. Long inputs run eight blocks per step in AVX-512 IFMA lanes: lane j
// accumulates blocks j, j+8, … by Horner's rule in r^8, and the lanes are finally multiplied by
// r^8 … r^1 and summed. Products of 44-bit limbs by 20·r (2^132 ≡ 20 mod 2^130 − 5) stay below
// 2^104, which is what the 52-bit multiply-add instructions take.
//
// Compiled for AVX-512 (crypto/CMakeLists.txt); see chacha20_avx512.cpp for why nothing here
// comes from headers but the intrinsics.
#include <immintrin.h>

#include "crypto/aead_avx512.hpp"

namespace ringtun::crypto::detail {

namespace {

__extension__ typedef unsigned __int128 u128;
constexpr std::uint64_t mask44 = (std::uint64_t{1} << 44) - 1;
constexpr std::uint64_t mask42 = (std::uint64_t{1} << 42) - 1;
constexpr std::uint64_t hibit = std::uint64_t{1} << 40;  // 2^128 in the top limb
// Below this many whole blocks the r^2..r^8 set-up costs more than the lanes save.
constexpr std::size_t min_vector_blocks = 16;

struct Limbs {
    std::uint64_t l0, l1, l2;
};

std::uint64_t load64(const std::uint8_t* p) noexcept {
    std::uint64_t v;
    __builtin_memcpy(&v, p, 8);  // x86-64 is little-endian, as Poly1305 is.
    return v;
}

// a·b mod 2^130 − 5, partly reduced (l0, l2 exact widths; l1 may exceed 44 bits by a carry).
inline Limbs mul(const Limbs& a, const Limbs& b) noexcept {
    const std::uint64_t s1 = b.l1 * 20, s2 = b.l2 * 20;
    u128 d0 = u128{a.l0} * b.l0 + u128{a.l1} * s2 + u128{a.l2} * s1;
    u128 d1 = u128{a.l0} * b.l1 + u128{a.l1} * b.l0 + u128{a.l2} * s2;
    u128 d2 = u128{a.l0} * b.l2 + u128{a.l1} * b.l1 + u128{a.l2} * b.l0;
    d1 += static_cast<std::uint64_t>(d0 >> 44);
    d2 += static_cast<std::uint64_t>(d1 >> 44);
    Limbs r{static_cast<std::uint64_t>(d0) & mask44, static_cast<std::uint64_t>(d1) & mask44,
            static_cast<std::uint64_t>(d2) & mask42};
    r.l0 += static_cast<std::uint64_t>(d2 >> 42) * 5;
    r.l1 += r.l0 >> 44;
    r.l0 &= mask44;
    return r;
}

// The 128-bit number hi·2^64 + lo as limbs (the top one 40 bits).
Limbs split(std::uint64_t lo, std::uint64_t hi) noexcept {
    return {lo & mask44, ((lo >> 44) | (hi << 20)) & mask44, hi >> 24};
}

// A whole block and its 2^128 bit.
Limbs block_limbs(std::uint64_t lo, std::uint64_t hi) noexcept {
    Limbs m = split(lo, hi);
    m.l2 |= hibit;
    return m;
}

Limbs block_limbs(const std::uint8_t* p) noexcept {
    return block_limbs(load64(p), load64(p + 8));
}

void absorb(Limbs& h, const Limbs& m, const Limbs& r) noexcept {
    h.l0 += m.l0, h.l1 += m.l1, h.l2 += m.l2;
    h = mul(h, r);
}

struct Vec {
    __m512i l0, l1, l2;
};

__m512i times20(__m512i v) noexcept {
    return _mm512_add_epi64(_mm512_slli_epi64(v, 4), _mm512_slli_epi64(v, 2));
}

// m + a·b per lane; s1, s2 are 20·b.l1, 20·b.l2. Low halves of the products land at their
// limb, high halves (bit 52 on) one limb up and 8 bits left; the part past 2^132 folds back
// times 20. Products are summed in a tree and carried in parallel (one step per limb), which
// keeps this — the loop's dependency chain — short: inputs with limbs below 2^46 give outputs
// below 2^44 + 2^15, 2^44 + 2^12 and 2^42 + 2^11.
Vec vmul_add(const Vec& m, const Vec& a, const Vec& b, __m512i s1, __m512i s2) noexcept {
    const __m512i z = _mm512_setzero_si512();
    const __m512i d0lo = _mm512_add_epi64(
        _mm512_madd52lo_epu64(m.l0, a.l0, b.l0),
        _mm512_add_epi64(_mm512_madd52lo_epu64(z, a.l1, s2), _mm512_madd52lo_epu64(z, a.l2, s1)));
    const __m512i d1lo = _mm512_add_epi64(
        _mm512_madd52lo_epu64(m.l1, a.l0, b.l1),
        _mm512_add_epi64(_mm512_madd52lo_epu64(z, a.l1, b.l0), _mm512_madd52lo_epu64(z, a.l2, s2)));
    const __m512i d2lo = _mm512_add_epi64(_mm512_madd52lo_epu64(m.l2, a.l0, b.l2),
                                          _mm512_add_epi64(_mm512_madd52lo_epu64(z, a.l1, b.l1),
                                                           _mm512_madd52lo_epu64(z, a.l2, b.l0)));
    const __m512i d0hi = _mm512_add_epi64(
        _mm512_madd52hi_epu64(z, a.l0, b.l0),
        _mm512_add_epi64(_mm512_madd52hi_epu64(z, a.l1, s2), _mm512_madd52hi_epu64(z, a.l2, s1)));
    const __m512i d1hi = _mm512_add_epi64(
        _mm512_madd52hi_epu64(z, a.l0, b.l1),
        _mm512_add_epi64(_mm512_madd52hi_epu64(z, a.l1, b.l0), _mm512_madd52hi_epu64(z, a.l2, s2)));
    const __m512i d2hi = _mm512_add_epi64(_mm512_madd52hi_epu64(z, a.l0, b.l2),
                                          _mm512_add_epi64(_mm512_madd52hi_epu64(z, a.l1, b.l1),
                                                           _mm512_madd52hi_epu64(z, a.l2, b.l0)));

    const __m512i m44 = _mm512_set1_epi64(static_cast<long long>(mask44));
    const __m512i m42 = _mm512_set1_epi64(static_cast<long long>(mask42));
    const __m512i c0 = _mm512_add_epi64(d0lo, times20(_mm512_slli_epi64(d2hi, 8)));
    const __m512i c1 = _mm512_add_epi64(d1lo, _mm512_slli_epi64(d0hi, 8));
    const __m512i c2 = _mm512_add_epi64(d2lo, _mm512_slli_epi64(d1hi, 8));
    const __m512i top = _mm512_srli_epi64(c2, 42);
    return {_mm512_add_epi64(_mm512_and_si512(c0, m44),
                             _mm512_add_epi64(top, _mm512_slli_epi64(top, 2))),
            _mm512_add_epi64(_mm512_and_si512(c1, m44), _mm512_srli_epi64(c0, 44)),
            _mm512_add_epi64(_mm512_and_si512(c2, m42), _mm512_srli_epi64(c1, 44))};
}

// Blocks p[0..8) as one block per lane.
Vec load8(const std::uint8_t* p) noexcept {
    const __m512i a = _mm512_loadu_si512(p), b = _mm512_loadu_si512(p + 64);
    const __m512i lo =
        _mm512_permutex2var_epi64(a, _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), b);
    const __m512i hi =
        _mm512_permutex2var_epi64(a, _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15), b);
    const __m512i m44 = _mm512_set1_epi64(static_cast<long long>(mask44));
    return {_mm512_and_si512(lo, m44),
            _mm512_and_si512(_mm512_or_si512(_mm512_srli_epi64(lo, 44), _mm512_slli_epi64(hi, 20)),
                             m44),
            _mm512_or_si512(_mm512_srli_epi64(hi, 24),
                            _mm512_set1_epi64(static_cast<long long>(hibit)))};
}

Vec broadcast(const Limbs& v) noexcept {
    return {_mm512_set1_epi64(static_cast<long long>(v.l0)),
            _mm512_set1_epi64(static_cast<long long>(v.l1)),
            _mm512_set1_epi64(static_cast<long long>(v.l2))};
}

// Absorbs `groups` ≥ 1 runs of eight whole blocks into h.
void absorb_lanes(Limbs& h, const std::uint8_t* p, std::size_t groups, const Limbs& r) noexcept {
    Limbs pw[8];  // pw[i] = r^(i+1), three multiplications deep rather than seven
    pw[0] = r;
    pw[1] = mul(r, r);
    pw[2] = mul(pw[1], r), pw[3] = mul(pw[1], pw[1]);
    for (int i = 4; i < 8; ++i)
        pw[i] = mul(pw[3], pw[i - 4]);

    Vec acc = load8(p);
    acc.l0 =
        _mm512_mask_add_epi64(acc.l0, 1, acc.l0, _mm512_set1_epi64(static_cast<long long>(h.l0)));
    acc.l1 =
        _mm512_mask_add_epi64(acc.l1, 1, acc.l1, _mm512_set1_epi64(static_cast<long long>(h.l1)));
    acc.l2 =
        _mm512_mask_add_epi64(acc.l2, 1, acc.l2, _mm512_set1_epi64(static_cast<long long>(h.l2)));
    const Vec r8 = broadcast(pw[7]);
    const __m512i r8s1 = times20(r8.l1), r8s2 = times20(r8.l2);
    for (std::size_t g = 1; g < groups; ++g)
        acc = vmul_add(load8(p + 128 * g), acc, r8, r8s1, r8s2);

    // Lane j still owes r^(8−j).
    alignas(64) std::uint64_t l0[8], l1[8], l2[8];
    for (int j = 0; j < 8; ++j)
        l0[j] = pw[7 - j].l0, l1[j] = pw[7 - j].l1, l2[j] = pw[7 - j].l2;
    const Vec last{_mm512_load_si512(l0), _mm512_load_si512(l1), _mm512_load_si512(l2)};
    const Vec zero{_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
    acc = vmul_add(zero, acc, last, times20(last.l1), times20(last.l2));

    // Eight lanes of limbs below 2^45 sum without overflow; carry them into h.
    h.l0 = static_cast<std::uint64_t>(_mm512_reduce_add_epi64(acc.l0));
    h.l1 = static_cast<std::uint64_t>(_mm512_reduce_add_epi64(acc.l1));
    h.l2 = static_cast<std::uint64_t>(_mm512_reduce_add_epi64(acc.l2));
    h.l1 += h.l0 >> 44, h.l0 &= mask44;
    h.l2 += h.l1 >> 44, h.l1 &= mask44;
    h.l0 += (h.l2 >> 42) * 5, h.l2 &= mask42;
    h.l1 += h.l0 >> 44, h.l0 &= mask44;
}

// Absorbs data[0..len) zero-padded to a multiple of 16 bytes.
void absorb_padded(Limbs& h, const std::uint8_t* data, std::size_t len, const Limbs& r) noexcept {
    const std::size_t blocks = len / 16;
    const std::size_t groups = blocks >= min_vector_blocks ? blocks / 8 : 0;
    for (std::size_t i = 8 * groups; i < blocks; ++i, data += 16)  // the head, one by one
        absorb(h, block_limbs(data), r);
    if (groups != 0) {
        absorb_lanes(h, data, groups, r);
        data += 128 * groups;
    }
    if (const std::size_t rest = len % 16; rest != 0) {
        std::uint8_t last[16] = {};
        __builtin_memcpy(last, data, rest);
        absorb(h, block_limbs(last), r);
    }
}

// h mod 2^130 − 5, plus s, mod 2^128 (poly1305-donna's finish, branch-free).
void finish(Limbs h, const std::uint8_t s[16], std::uint8_t tag[16]) noexcept {
    for (int pass = 0; pass < 2; ++pass) {
        h.l2 += h.l1 >> 44, h.l1 &= mask44;
        h.l0 += (h.l2 >> 42) * 5, h.l2 &= mask42;
        h.l1 += h.l0 >> 44, h.l0 &= mask44;
    }
    std::uint64_t g0 = h.l0 + 5;
    std::uint64_t g1 = h.l1 + (g0 >> 44);
    g0 &= mask44;
    std::uint64_t g2 = h.l2 + (g1 >> 44) - (std::uint64_t{1} << 42);
    g1 &= mask44;
    const std::uint64_t use_g = (g2 >> 63) - 1;  // all ones when h ≥ p
    h.l0 = (h.l0 & ~use_g) | (g0 & use_g);
    h.l1 = (h.l1 & ~use_g) | (g1 & use_g);
    h.l2 = (h.l2 & ~use_g) | (g2 & use_g);

    const Limbs pad = split(load64(s), load64(s + 8));
    h.l0 += pad.l0;
    h.l1 += pad.l1 + (h.l0 >> 44);
    h.l0 &= mask44;
    h.l2 += pad.l2 + (h.l1 >> 44);
    h.l1 &= mask44;
    h.l2 &= mask42;
    const std::uint64_t lo = h.l0 | (h.l1 << 44), hi = (h.l1 >> 20) | (h.l2 << 24);
    __builtin_memcpy(tag, &lo, 8);
    __builtin_memcpy(tag + 8, &hi, 8);
}

}  // namespace

void poly1305_aead_tag(const std::uint8_t otk[32], const std::uint8_t* ad, std::size_t ad_len,
                       const std::uint8_t* ct, std::size_t ct_len, std::uint8_t tag[16]) noexcept {
    Limbs r = split(load64(otk), load64(otk + 8));
    r.l0 &= 0xffc0fffffffULL, r.l1 &= 0xfffffc0ffffULL, r.l2 &= 0x00ffffffc0fULL;  // §2.5.1 clamp
    Limbs h{0, 0, 0};
    absorb_padded(h, ad, ad_len, r);
    absorb_padded(h, ct, ct_len, r);
    absorb(h, block_limbs(ad_len, ct_len), r);  // le64(ad_len) ‖ le64(ct_len)
    finish(h, otk + 16, tag);
}

}  // namespace ringtun::crypto::detail
