// GSO split: turns a TSO/USO super-packet read from the TUN into the packets it stands for,
// and finishes the checksum of a packet the kernel left partial (offload notes, sections 1
// and 2, "TUN read").
//
// With TUN_F_TSO4/TSO6/USO4/USO6 on, one read() may return a super-packet: one IP and L4
// header, up to ~64 KiB of payload, and a virtio-net header saying how to cut it (gso_type,
// gso_size = payload bytes per segment). WireGuard carries IP packets of at most the MTU, so
// the sender cuts it here, as the kernel's tcp_gso_segment / __udp_gso_segment would:
//   - each segment gets a copy of the headers; the last segment may be shorter;
//   - IPv4: ID = first ID + i, total length and header checksum recomputed;
//     IPv6: payload length = segment length - 40 (extension headers count as payload);
//   - TCP: seq = first seq + gso_size * i; FIN and PSH only on the last segment; CWR is left
//     alone, which is right only because TUN_F_TSO_ECN is never enabled (gso_ecn is refused);
//     UDP: length set;
//   - the full L4 checksum is computed in software (pseudo-header with this segment's length,
//     header, payload), while the payload is copied: a super-packet carries only the
//     pseudo-header sum (NEEDS_CSUM), and a peer forwards what it receives as it is.
//
// Nothing in the virtio-net header is taken on trust: hdr_len is ignored (on the forwarding
// path the kernel may report the whole first packet there), the header length is
// csum_start + the TCP data offset (or + 8 for UDP), and csum_start must be where the IP
// header says the L4 header is.
//
// Pure functions over byte spans: no allocation, no syscalls, no exceptions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tun/virtio_net_hdr.hpp"
#include "util/result.hpp"

namespace ringtun::tun {

enum class SplitError : std::uint8_t {
    bad_gso_type,          // not TCPV4/TCPV6/UDP_L4, ECN set, or not the packet's IP version
    bad_gso_size,          // gso_size 0, or a segment would exceed 65535 bytes
    bad_headers,           // IP or L4 header truncated or malformed, or protocol mismatch
    bad_checksum_offsets,  // csum_start not at the L4 header, or csum_offset not 16/6
    too_many_segments,     // more than the caller's max_segments
};

const char* to_string(SplitError e) noexcept;

// Everything write_segment needs, computed once per super-packet by plan_split.
struct SplitPlan {
    std::uint8_t gso_type = gso_none;  // gso_tcpv4, gso_tcpv6 or gso_udp_l4
    bool ipv6 = false;
    std::size_t ip_header_len = 0;  // = csum_start: IPv4 header, or IPv6 + extension headers
    std::size_t header_len = 0;     // IP + L4 header, copied into every segment
    std::size_t gso_size = 0;       // payload bytes of every segment but the last
    std::size_t segments = 0;       // >= 1
    std::size_t packet_len = 0;     // of the super-packet, checked again by write_segment
};

using SplitResult = util::Expected<SplitPlan, SplitError>;

// Validates `packet` (the super-packet without its virtio-net header) against `h` and plans
// its split. A packet whose payload is at most gso_size (or empty) is one segment. Refuses
// (too_many_segments) more than `max_segments` segments: the caller drops the packet.
// IPv6 extension headers: hop-by-hop and destination options are walked; a routing header is
// refused (bad_headers), as the pseudo-header would need its final destination.
SplitResult plan_split(const VirtioNetHdr& h, std::span<const std::uint8_t> packet,
                       std::size_t max_segments) noexcept;

// The length of segment i (headers + payload); 0 if i >= plan.segments.
std::size_t segment_length(const SplitPlan& plan, std::size_t i) noexcept;

// Writes segment i of `packet` (the one plan_split planned) into dst, reading each payload
// byte once. Returns the length written, or 0 (dst untouched) if i is out of range,
// dst.size() < segment_length(plan, i) or packet is not plan.packet_len bytes.
std::size_t write_segment(const SplitPlan& plan, std::span<const std::uint8_t> packet,
                          std::size_t i, std::span<std::uint8_t> dst) noexcept;

// For a packet read with NEEDS_CSUM (gso_none, once TUN_F_CSUM is on): finishes the L4
// checksum in place, as the kernel's skb_checksum_help does. The field at csum_start +
// csum_offset holds the pseudo-header sum, the starting value of the sum over csum_start..end.
// A UDP result (csum_offset 6) of 0 is sent as 0xffff (RFC 768: 0 means "no checksum").
// Without NEEDS_CSUM there is nothing to do: true. False (packet untouched) if the field is
// not inside the packet. gso_type and hdr_len are not read.
[[nodiscard]] bool finish_checksum(const VirtioNetHdr& h, std::span<std::uint8_t> packet) noexcept;

}  // namespace ringtun::tun
