// The Internet checksum (RFC 1071): ones' complement sums over byte spans, the TCP/UDP
// pseudo-headers, and a copy that sums what it copies.
//
// A sum in progress (`acc`) is a 64-bit ones' complement partial sum of big-endian 16-bit
// words: add pieces with checksum_add, the pseudo-header with pseudo_header_sum_*, numbers by
// plain addition of their 16- or 32-bit value; checksum_fold() turns it into the 16-bit sum,
// and the field to store is its complement. Keeping the sum as numbers (rather than in memory
// order) lets callers add header values without thinking about byte order.
//
// Pieces: each piece is summed as if it started at an even offset of the checksummed data,
// so every piece but the last of one checksum must have an even length. (Callers cut at
// header boundaries, which are multiples of 4.) Any start address and any length are fine.
//
// Speed: 64-bit words accumulated with carries (a 128-bit accumulator compiles to add/adc),
// in host order, swapped once at the end — RFC 1071 section 2(B): the sum is byte-order
// independent. No allocation, no syscalls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ringtun::tun {

// acc plus the sum of `bytes` (see "Pieces" above).
[[nodiscard]] std::uint64_t checksum_add(std::span<const std::uint8_t> bytes,
                                         std::uint64_t acc) noexcept;

// Folds a sum to 16 bits with end-around carries; NOT complemented. It is 0 only when every
// word added was 0.
[[nodiscard]] std::uint16_t checksum_fold(std::uint64_t acc) noexcept;

// Copies n bytes from src to dst (which must not overlap) and returns acc plus their sum,
// reading each byte once.
[[nodiscard]] std::uint64_t copy_and_checksum(std::uint8_t* dst, const std::uint8_t* src,
                                              std::size_t n, std::uint64_t acc) noexcept;

// The sum of the IPv4 pseudo-header (RFC 9293 section 3.1, RFC 768): source and destination
// address (4 bytes each, network order), protocol, and the L4 length (header + data).
[[nodiscard]] std::uint64_t pseudo_header_sum_v4(const std::uint8_t* src4, const std::uint8_t* dst4,
                                                 std::uint8_t proto, std::uint32_t l4_len) noexcept;

// The sum of the IPv6 pseudo-header (RFC 8200 section 8.1): addresses of 16 bytes each, the
// 32-bit upper-layer length and the next header value of the L4 protocol.
[[nodiscard]] std::uint64_t pseudo_header_sum_v6(const std::uint8_t* src16,
                                                 const std::uint8_t* dst16, std::uint8_t proto,
                                                 std::uint32_t l4_len) noexcept;

}  // namespace ringtun::tun
