// Packets built in memory for the offload tests, and reference checksums computed byte by byte
// (RFC 1071, the slow way) so that the tests never check tun/checksum.cpp against itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tun/gro.hpp"
#include "tun/ip_fields.hpp"
#include "tun/virtio_net_hdr.hpp"

namespace ringtun::test {

using Bytes = std::vector<std::uint8_t>;

// What the L4 checksum field holds.
enum class Csum : std::uint8_t {
    valid,   // the full checksum
    bad,     // a wrong one
    zero,    // 0 (UDP: "no checksum")
    pseudo,  // the pseudo-header sum only, not complemented: as a TSO/USO read gives it
};

struct Spec {
    unsigned version = 4;
    std::uint8_t proto = tun::proto_tcp;
    std::uint8_t src_host = 1, dst_host = 2;  // last byte of 10.0.0.x or fd00::x
    std::uint16_t sport = 40000, dport = 5201;
    // IPv4
    std::uint8_t tos = 0;
    std::uint8_t ttl = 64;  // IPv6: hop limit
    std::uint16_t id = 7;
    bool df = true, mf = false, reserved = false;
    std::uint16_t frag_offset = 0;
    Bytes ip_options;  // a multiple of 4 bytes
    bool bad_ip_csum = false;
    // IPv6
    std::uint8_t traffic_class = 0;
    std::uint32_t flow_label = 0x12345;
    std::vector<std::uint8_t> ext_headers;  // types of 8-byte extension headers, in order
    // TCP
    std::uint32_t seq = 1000, ack = 5000;
    std::uint8_t flags = tun::tcp::flag_ack;
    std::uint8_t tcp_reserved = 0;  // the low nibble of byte 12
    std::uint16_t window = 502;
    Bytes tcp_options;  // a multiple of 4 bytes
    Bytes payload;
    Csum csum = Csum::valid;
};

// A payload of n bytes, different for each seed.
Bytes payload_bytes(std::size_t n, std::uint32_t seed);

Bytes build(const Spec& s);
std::size_t ip_header_len(const Spec& s);  // IPv4 with options, IPv6 with extension headers
std::size_t header_len(const Spec& s);     // IP + L4

// The 16-bit ones' complement sum of `bytes` plus `init`, byte by byte; not complemented.
std::uint16_t ref_sum(std::span<const std::uint8_t> bytes, std::uint32_t init = 0);
// The IPv4 header checksum verifies.
bool ipv4_header_valid(std::span<const std::uint8_t> packet);
// The L4 checksum of `packet` verifies, for an L4 header at l4_offset (pseudo-header from the
// IPv4 or IPv6 header).
bool l4_checksum_valid(std::span<const std::uint8_t> packet, std::size_t l4_offset,
                       std::uint8_t proto);

// A GSO super-packet's virtio-net header for s (s.csum should be Csum::pseudo).
tun::VirtioNetHdr gso_header(const Spec& s, std::uint16_t gso_size);

// One TUN write of a GRO item: its pieces, concatenated.
Bytes join(const tun::GroTable::Item& item);

// Splits a super-packet into its segments with plan_split/write_segment; REQUIREs success.
std::vector<Bytes> split_all(const tun::VirtioNetHdr& h, std::span<const std::uint8_t> packet,
                             std::size_t max_segments = 64);

}  // namespace ringtun::test
