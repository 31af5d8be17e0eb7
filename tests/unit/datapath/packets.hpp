// Flows of packets for the datapath tests, on the offload tests' builders
// (tests/unit/tun/offload/packets.hpp: Spec, build() and checksums computed byte by byte): a
// flow's segments; the reads a TUN with the virtio-net header hands over (a TSO/USO
// super-packet as the kernel gives it: NEEDS_CSUM, only the pseudo-header sum in the checksum
// field); and the reverse, a TUN write (virtio-net header, then the packet) cut back into the
// packets it stands for, as the kernel would segment it.
//
// A payload byte is a function of its offset in the flow (payload_byte), so any segment of a
// stream can be rebuilt on its own and compared byte for byte.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "tests/unit/tun/offload/packets.hpp"
#include "tun/gso_split.hpp"
#include "tun/ip_fields.hpp"
#include "tun/virtio_net_hdr.hpp"

namespace ringtun::test {

inline constexpr std::uint8_t tcp_ack = tun::tcp::flag_ack;
inline constexpr std::uint8_t tcp_psh = tun::tcp::flag_psh;

// One direction of a flow from A's tunnel address (host 1) to B's (host 2).
inline Spec tcp4(std::uint16_t sport = 40000) {
    Spec s;
    s.sport = sport;
    return s;
}
inline Spec tcp6(std::uint16_t sport = 40000) {
    Spec s = tcp4(sport);
    s.version = 6;
    return s;
}
inline Spec udp4(std::uint16_t sport = 40000) {
    Spec s = tcp4(sport);
    s.proto = tun::proto_udp;
    return s;
}
inline Spec udp6(std::uint16_t sport = 40000) {
    Spec s = udp4(sport);
    s.version = 6;
    return s;
}
// The same flow from B to A.
inline Spec reversed(Spec s) {
    std::swap(s.src_host, s.dst_host);
    std::swap(s.sport, s.dport);
    return s;
}

inline std::uint8_t payload_byte(std::size_t offset) {
    return static_cast<std::uint8_t>(offset * 131 + (offset >> 8) * 7 + 1);
}

// Bytes [offset, offset + len) of flow `f`'s stream as one packet (TCP: seq f.seq + offset).
// Csum::pseudo leaves the pseudo-header sum in the field, as a TUN read with NEEDS_CSUM has it.
inline Bytes flow_packet(Spec f, std::size_t offset, std::size_t len, std::uint8_t flags,
                         std::uint16_t ip_id, Csum csum = Csum::valid) {
    f.seq += static_cast<std::uint32_t>(offset);
    f.flags = flags;
    f.id = ip_id;
    f.csum = csum;
    f.payload.resize(len);
    for (std::size_t i = 0; i < len; ++i)
        f.payload[i] = payload_byte(offset + i);
    return build(f);
}

// True if the IPv4 header checksum (if any) and the L4 checksum are right.
inline bool checksums_valid(const Bytes& p) {
    const bool v4 = tun::ip_version(p.data()) == 4;
    const std::size_t l4 = v4 ? std::size_t{p[0] & 0x0fu} * 4 : 40;
    if (v4 && !ipv4_header_valid(p)) return false;
    return l4_checksum_valid(p, l4, v4 ? p[tun::ipv4::protocol] : p[tun::ipv6::next_header]);
}

inline Bytes with_vnet(const tun::VirtioNetHdr& h, const Bytes& packet) {
    Bytes out(tun::vnet_hdr_len);
    tun::write_vnet_hdr(h, out.data());
    out.insert(out.end(), packet.begin(), packet.end());
    return out;
}

// A plain read or write: a zeroed header (no offload, checksums complete), then the packet.
inline Bytes plain_read(const Bytes& packet) {
    return with_vnet({}, packet);
}

// A TUN read of a super-packet carrying `payload` bytes of `f` from offset 0, to be cut at
// `gso_size`, IPv4 ID `ip_id` (then +1 per segment): what the kernel hands over with TSO/USO.
inline Bytes super_read(const Spec& f, std::size_t payload, std::size_t gso_size,
                        std::uint16_t ip_id = 0x100) {
    return with_vnet(gso_header(f, static_cast<std::uint16_t>(gso_size)),
                     flow_packet(f, 0, payload, tcp_ack | tcp_psh, ip_id, Csum::pseudo));
}

// The packets the kernel would have sent for that super-packet, checksums complete: PSH (TCP)
// only on the last.
inline std::vector<Bytes> super_segments(const Spec& f, std::size_t payload, std::size_t gso_size,
                                         std::uint16_t ip_id = 0x100) {
    std::vector<Bytes> out;
    for (std::size_t at = 0, i = 0; at < payload; at += gso_size, ++i) {
        const bool last = at + gso_size >= payload;
        out.push_back(flow_packet(f, at, std::min(gso_size, payload - at),
                                  last ? tcp_ack | tcp_psh : tcp_ack,
                                  static_cast<std::uint16_t>(ip_id + i)));
    }
    return out;
}

// A TUN write (header, then the packet) cut into what the kernel delivers: the packet itself
// (flags 0), or the segments of a coalesced super-packet. A coalesced one must be what the
// kernel accepts: NEEDS_CSUM with the pseudo-header sum of the whole packet in the field
// (finishing it gives a valid checksum), hdr_len the headers, and a split that works.
inline std::vector<Bytes> split_write(const Bytes& write) {
    REQUIRE(write.size() > tun::vnet_hdr_len);
    const tun::VirtioNetHdr h = tun::read_vnet_hdr(write.data());
    const Bytes packet(write.begin() + tun::vnet_hdr_len, write.end());
    if (h.gso_type == tun::gso_none) {
        CHECK(h == tun::VirtioNetHdr{});
        return {packet};
    }
    CHECK(h.flags == tun::vnet_flag_needs_csum);
    Bytes finished = packet;
    CHECK(tun::finish_checksum(h, finished));
    CHECK(checksums_valid(finished));
    const auto segments = split_all(h, packet, 256);
    CHECK(segments.size() > 1);
    CHECK(h.hdr_len == segments[0].size() - h.gso_size);
    return segments;
}

}  // namespace ringtun::test
