// Packets for the datapath tests: TCP and UDP over IPv4 and IPv6 with valid checksums; the
// reads a TUN with the virtio-net header hands over (a TSO/USO super-packet as the kernel
// gives it: NEEDS_CSUM, only the pseudo-header sum in the checksum field); and the reverse, a
// TUN write (virtio-net header, then the packet) cut back into the packets it stands for, as
// the kernel would segment it.
//
// The checksums here are a plain RFC 1071 loop, independent of tun/checksum's fast one. A
// payload byte is a function of its offset in the flow (payload_byte), so any segment of a
// stream can be rebuilt on its own and compared byte for byte.
#pragma once

#include <arpa/inet.h>
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "tun/gso_split.hpp"
#include "tun/virtio_net_hdr.hpp"

namespace ringtun::test {

using Bytes = std::vector<std::uint8_t>;

inline constexpr std::uint8_t tcp_ack = 0x10;
inline constexpr std::uint8_t tcp_psh = 0x08;

// One direction of a TCP or UDP flow between the tunnel addresses (A = .1, B = .2).
struct Flow {
    int version = 4;
    std::uint8_t proto = 6;  // 6 TCP, 17 UDP
    const char* src = "10.100.0.1";
    const char* dst = "10.100.0.2";
    std::uint16_t sport = 40000;
    std::uint16_t dport = 5201;
    std::uint32_t ack = 0x10203040;  // TCP

    std::size_t ip_header_len() const { return version == 4 ? 20 : 40; }
    std::size_t header_len() const { return ip_header_len() + (proto == 6 ? 20 : 8); }
};

inline Flow tcp4(std::uint16_t sport = 40000) {
    return Flow{.sport = sport};
}
inline Flow tcp6(std::uint16_t sport = 40000) {
    return Flow{.version = 6, .src = "fd00::1", .dst = "fd00::2", .sport = sport};
}
inline Flow udp4(std::uint16_t sport = 40000) {
    return Flow{.proto = 17, .sport = sport};
}
inline Flow udp6(std::uint16_t sport = 40000) {
    return Flow{.version = 6, .proto = 17, .src = "fd00::1", .dst = "fd00::2", .sport = sport};
}

inline std::uint8_t payload_byte(std::size_t offset) {
    return static_cast<std::uint8_t>(offset * 131 + (offset >> 8) * 7 + 1);
}

inline void put16(std::uint8_t* p, std::size_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
inline void put32(std::uint8_t* p, std::uint32_t v) {
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}
inline std::uint16_t get16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
inline std::uint32_t get32(const std::uint8_t* p) {
    return std::uint32_t{get16(p)} << 16 | get16(p + 2);
}

// RFC 1071, word by word: the sum of `n` bytes (an odd last byte padded with zero).
inline std::uint64_t ref_sum(const std::uint8_t* p, std::size_t n, std::uint64_t acc = 0) {
    for (std::size_t i = 0; i < n; i += 2)
        acc += std::uint64_t{p[i]} << 8 | (i + 1 < n ? p[i + 1] : 0u);
    return acc;
}
inline std::uint16_t ref_fold(std::uint64_t acc) {
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<std::uint16_t>(acc);
}
// The pseudo-header sum of packet `p` for an L4 part of `l4_len` bytes.
inline std::uint64_t ref_pseudo(const Bytes& p, std::size_t l4_len) {
    const bool v4 = (p[0] >> 4) == 4;
    const std::uint8_t proto = v4 ? p[9] : p[6];
    return ref_sum(p.data() + (v4 ? 12 : 8), v4 ? 8 : 32) + proto + l4_len;
}

// Segment bytes [offset, offset + len) of `f`'s stream as one packet. `finish`: a complete L4
// checksum; otherwise the field holds the pseudo-header sum (NEEDS_CSUM, as a TUN reads it).
inline Bytes flow_packet(const Flow& f, std::size_t offset, std::size_t len, std::uint8_t flags,
                         std::uint16_t ip_id, bool finish = true) {
    const std::size_t ip = f.ip_header_len(), hdr = f.header_len();
    Bytes p(hdr + len, 0);
    if (f.version == 4) {
        p[0] = 0x45;
        put16(&p[2], p.size());
        put16(&p[4], ip_id);
        p[6] = 0x40;  // DF
        p[8] = 64;
        p[9] = f.proto;
        REQUIRE(inet_pton(AF_INET, f.src, &p[12]) == 1);
        REQUIRE(inet_pton(AF_INET, f.dst, &p[16]) == 1);
        put16(&p[10], static_cast<std::uint16_t>(~ref_fold(ref_sum(p.data(), 20))));
    } else {
        p[0] = 0x60;
        put16(&p[4], p.size() - 40);
        p[6] = f.proto;
        p[7] = 64;
        REQUIRE(inet_pton(AF_INET6, f.src, &p[8]) == 1);
        REQUIRE(inet_pton(AF_INET6, f.dst, &p[24]) == 1);
    }
    std::uint8_t* l4 = &p[ip];
    put16(l4, f.sport);
    put16(l4 + 2, f.dport);
    std::size_t field = 6;
    if (f.proto == 6) {
        put32(l4 + 4, 1000 + static_cast<std::uint32_t>(offset));  // seq
        put32(l4 + 8, f.ack);
        l4[12] = 5 << 4;
        l4[13] = flags;
        put16(l4 + 14, 0xffff);
        field = 16;
    } else {
        put16(l4 + 4, p.size() - ip);
    }
    for (std::size_t i = 0; i < len; ++i)
        p[hdr + i] = payload_byte(offset + i);
    const std::uint64_t pseudo = ref_pseudo(p, p.size() - ip);
    if (!finish) {
        put16(l4 + field, ref_fold(pseudo));
        return p;
    }
    auto sum = static_cast<std::uint16_t>(~ref_fold(ref_sum(l4, p.size() - ip, pseudo)));
    put16(l4 + field, f.proto == 17 && sum == 0 ? 0xffff : sum);
    return p;
}

// The TCP sequence number of a flow_packet (offset 0 is seq 1000).
inline std::uint32_t tcp_seq(const Bytes& p) {
    return get32(&p[((p[0] >> 4) == 4 ? 20 : 40) + 4]);
}

// True if the IPv4 header checksum (if any) and the L4 checksum are right.
inline bool checksums_valid(const Bytes& p) {
    const bool v4 = (p[0] >> 4) == 4;
    const std::size_t ip = v4 ? 20 : 40;
    if (v4 && ref_fold(ref_sum(p.data(), ip)) != 0xffff) return false;
    return ref_fold(ref_sum(&p[ip], p.size() - ip, ref_pseudo(p, p.size() - ip))) == 0xffff;
}

inline Bytes with_vnet(const tun::VirtioNetHdr& h, const Bytes& packet) {
    Bytes out(tun::vnet_hdr_len);
    tun::write_vnet_hdr(h, out.data());
    out.insert(out.end(), packet.begin(), packet.end());
    return out;
}

// A plain read: a zeroed header (GSO_NONE, no checksum to finish), then the packet.
inline Bytes plain_read(const Bytes& packet) {
    return with_vnet({}, packet);
}

// A TUN read of a super-packet carrying `payload` bytes of `f` from offset 0, to be cut at
// `gso_size`, IPv4 ID `ip_id` (then +1 per segment): what the kernel hands over with TSO/USO.
inline Bytes super_read(const Flow& f, std::size_t payload, std::size_t gso_size,
                        std::uint16_t ip_id = 0x100) {
    const Bytes packet = flow_packet(f, 0, payload, tcp_ack | tcp_psh, ip_id, false);
    tun::VirtioNetHdr h;
    h.flags = tun::vnet_flag_needs_csum;
    h.gso_type = f.proto == 17 ? tun::gso_udp_l4 : f.version == 4 ? tun::gso_tcpv4 : tun::gso_tcpv6;
    h.hdr_len = static_cast<std::uint16_t>(f.header_len());
    h.gso_size = static_cast<std::uint16_t>(gso_size);
    h.csum_start = static_cast<std::uint16_t>(f.ip_header_len());
    h.csum_offset = f.proto == 17 ? 6 : 16;
    return with_vnet(h, packet);
}

// The packets the kernel would have sent for that super-packet, checksums complete.
inline std::vector<Bytes> super_segments(const Flow& f, std::size_t payload, std::size_t gso_size,
                                         std::uint16_t ip_id = 0x100) {
    std::vector<Bytes> out;
    for (std::size_t at = 0, i = 0; at < payload; at += gso_size, ++i) {
        const bool last = at + gso_size >= payload;
        const std::uint8_t flags = f.proto == 6 && last ? tcp_ack | tcp_psh : tcp_ack;
        out.push_back(flow_packet(f, at, std::min(gso_size, payload - at), flags,
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
    Bytes packet(write.begin() + tun::vnet_hdr_len, write.end());
    if (h.gso_type == tun::gso_none) {
        CHECK(h == tun::VirtioNetHdr{});
        return {packet};
    }
    CHECK(h.flags == tun::vnet_flag_needs_csum);
    Bytes finished = packet;
    CHECK(tun::finish_checksum(h, finished));
    CHECK(checksums_valid(finished));
    const auto plan = tun::plan_split(h, packet, 256);
    REQUIRE(plan.has_value());
    CHECK(h.hdr_len == plan->header_len);
    CHECK(plan->segments > 1);
    std::vector<Bytes> out;
    for (std::size_t i = 0; i < plan->segments; ++i) {
        Bytes seg(tun::segment_length(*plan, i));
        REQUIRE(tun::write_segment(*plan, packet, i, seg) == seg.size());
        out.push_back(std::move(seg));
    }
    return out;
}

}  // namespace ringtun::test
