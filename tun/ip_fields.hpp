// The IPv4, IPv6, TCP and UDP header fields the offload code reads and writes: their offsets,
// flag bits and big-endian loads and stores that are safe at any alignment.
//
// Offsets are from the start of their own header (RFC 791, RFC 8200, RFC 9293, RFC 768).
// Every multi-byte field is big-endian on the wire.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ringtun::tun {

inline std::uint16_t load_be16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 |
           std::uint32_t{p[3]};
}

inline void store_be16(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}

inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

inline constexpr std::uint8_t proto_tcp = 6;
inline constexpr std::uint8_t proto_udp = 17;

// The IP version: the high nibble of the first byte of either header.
inline unsigned ip_version(const std::uint8_t* p) noexcept {
    return p[0] >> 4;
}

namespace ipv4 {
inline constexpr std::size_t min_header_len = 20;
inline constexpr std::size_t ihl = 0;  // low nibble: header length in 32-bit words
inline constexpr std::size_t tos = 1;
inline constexpr std::size_t total_length = 2;
inline constexpr std::size_t id = 4;
inline constexpr std::size_t frag = 6;  // 3 flag bits, then the 13-bit fragment offset
inline constexpr std::size_t ttl = 8;
inline constexpr std::size_t protocol = 9;
inline constexpr std::size_t checksum = 10;
inline constexpr std::size_t src = 12;
inline constexpr std::size_t dst = 16;
inline constexpr std::size_t addr_len = 4;
inline constexpr std::uint16_t flag_reserved = 0x8000;
inline constexpr std::uint16_t flag_df = 0x4000;
inline constexpr std::uint16_t flag_mf = 0x2000;
inline constexpr std::uint16_t frag_offset_mask = 0x1fff;
}  // namespace ipv4

namespace ipv6 {
inline constexpr std::size_t header_len = 40;
inline constexpr std::size_t payload_length = 4;
inline constexpr std::size_t next_header = 6;
inline constexpr std::size_t hop_limit = 7;
inline constexpr std::size_t src = 8;
inline constexpr std::size_t dst = 24;
inline constexpr std::size_t addr_len = 16;
// Extension headers (RFC 8200 section 4) with the generic layout: next header, then the length
// in 8-octet units not counting the first 8.
inline constexpr std::uint8_t ext_hop_by_hop = 0;
inline constexpr std::uint8_t ext_routing = 43;
inline constexpr std::uint8_t ext_fragment = 44;
inline constexpr std::uint8_t ext_destination = 60;

// The traffic class: the 8 bits after the version nibble.
inline std::uint8_t traffic_class(const std::uint8_t* p) noexcept {
    return static_cast<std::uint8_t>((p[0] & 0x0f) << 4 | p[1] >> 4);
}
}  // namespace ipv6

namespace tcp {
inline constexpr std::size_t min_header_len = 20;
inline constexpr std::size_t max_header_len = 60;
inline constexpr std::size_t src_port = 0;
inline constexpr std::size_t seq = 4;
inline constexpr std::size_t ack = 8;
inline constexpr std::size_t data_offset = 12;  // high nibble: header length in 32-bit words
inline constexpr std::size_t flags = 13;
inline constexpr std::size_t checksum = 16;
inline constexpr std::uint8_t flag_fin = 0x01;
inline constexpr std::uint8_t flag_syn = 0x02;
inline constexpr std::uint8_t flag_rst = 0x04;
inline constexpr std::uint8_t flag_psh = 0x08;
inline constexpr std::uint8_t flag_ack = 0x10;
inline constexpr std::uint8_t flag_urg = 0x20;
inline constexpr std::uint8_t flag_ece = 0x40;
inline constexpr std::uint8_t flag_cwr = 0x80;

// The header length in bytes that the data offset field claims (0..60).
inline std::size_t header_len(const std::uint8_t* th) noexcept {
    return (std::size_t{th[data_offset]} >> 4) * 4;
}
}  // namespace tcp

namespace udp {
inline constexpr std::size_t header_len = 8;
inline constexpr std::size_t src_port = 0;
inline constexpr std::size_t length = 4;
inline constexpr std::size_t checksum = 6;
}  // namespace udp

}  // namespace ringtun::tun
