#include "tests/unit/tun/offload/packets.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "tun/gso_split.hpp"

namespace ringtun::test {

using namespace ringtun::tun;

namespace {

void put16(Bytes& b, std::size_t at, std::uint32_t v) {
    b[at] = static_cast<std::uint8_t>(v >> 8);
    b[at + 1] = static_cast<std::uint8_t>(v);
}

void put32(Bytes& b, std::size_t at, std::uint32_t v) {
    put16(b, at, v >> 16);
    put16(b, at + 2, v & 0xffff);
}

std::size_t l4_header_len(const Spec& s) {
    return s.proto == proto_tcp ? 20 + s.tcp_options.size() : 8;
}

void write_addresses(const Spec& s, Bytes& b, std::size_t at) {
    if (s.version == 4) {
        const std::uint8_t a[8] = {10, 0, 0, s.src_host, 10, 0, 0, s.dst_host};
        std::copy(a, a + 8, b.begin() + static_cast<std::ptrdiff_t>(at));
        return;
    }
    for (int i = 0; i < 2; ++i) {
        const std::size_t o = at + 16 * static_cast<std::size_t>(i);
        b[o] = 0xfd;
        b[o + 15] = i == 0 ? s.src_host : s.dst_host;
    }
}

void write_ip(const Spec& s, Bytes& b) {
    if (s.version == 4) {
        const std::size_t ihl = 20 + s.ip_options.size();
        b[0] = static_cast<std::uint8_t>(0x40 | ihl / 4);
        b[1] = s.tos;
        put16(b, 2, static_cast<std::uint32_t>(b.size()));
        put16(b, 4, s.id);
        put16(b, 6,
              (s.reserved ? 0x8000u : 0) | (s.df ? 0x4000u : 0) | (s.mf ? 0x2000u : 0) |
                  s.frag_offset);
        b[8] = s.ttl;
        b[9] = s.proto;
        write_addresses(s, b, 12);
        std::copy(s.ip_options.begin(), s.ip_options.end(), b.begin() + 20);
        put16(b, 10,
              static_cast<std::uint16_t>(~ref_sum({b.data(), ihl})) ^ (s.bad_ip_csum ? 1u : 0));
        return;
    }
    put32(b, 0, 6u << 28 | std::uint32_t{s.traffic_class} << 20 | s.flow_label);
    put16(b, 4, static_cast<std::uint32_t>(b.size() - 40));
    b[6] = s.ext_headers.empty() ? s.proto : s.ext_headers[0];
    b[7] = s.ttl;
    write_addresses(s, b, 8);
    for (std::size_t i = 0; i < s.ext_headers.size(); ++i) {
        const std::size_t o = 40 + 8 * i;
        b[o] = i + 1 < s.ext_headers.size() ? s.ext_headers[i + 1] : s.proto;
        b[o + 1] = 0;                                         // 8 bytes
        if (s.ext_headers[i] == ipv6::ext_routing) continue;  // type 0, no segments left
        b[o + 2] = 1;                                         // PadN over the remaining 6 bytes
        b[o + 3] = 4;
    }
}

void write_l4(const Spec& s, Bytes& b, std::size_t at) {
    put16(b, at, s.sport);
    put16(b, at + 2, s.dport);
    if (s.proto == proto_udp) {
        put16(b, at + 4, static_cast<std::uint32_t>(b.size() - at));
        return;
    }
    put32(b, at + 4, s.seq);
    put32(b, at + 8, s.ack);
    b[at + 12] = static_cast<std::uint8_t>((20 + s.tcp_options.size()) / 4 << 4 | s.tcp_reserved);
    b[at + 13] = s.flags;
    put16(b, at + 14, s.window);
    std::copy(s.tcp_options.begin(), s.tcp_options.end(),
              b.begin() + static_cast<std::ptrdiff_t>(at + 20));
}

// The pseudo-header of the packet's L4 part, laid out as bytes.
Bytes pseudo_header(std::span<const std::uint8_t> p, std::size_t l4_offset, std::uint8_t proto) {
    const auto l4_len = static_cast<std::uint32_t>(p.size() - l4_offset);
    Bytes ph;
    if (ip_version(p.data()) == 4) {
        ph.assign(p.begin() + 12, p.begin() + 20);
        ph.insert(ph.end(), {0, proto, static_cast<std::uint8_t>(l4_len >> 8),
                             static_cast<std::uint8_t>(l4_len)});
    } else {
        ph.assign(p.begin() + 8, p.begin() + 40);
        ph.resize(40);
        put32(ph, 32, l4_len);
        ph[39] = proto;
    }
    return ph;
}

std::uint16_t l4_sum(std::span<const std::uint8_t> p, std::size_t l4_offset, std::uint8_t proto) {
    const Bytes ph = pseudo_header(p, l4_offset, proto);
    return ref_sum(p.subspan(l4_offset), ref_sum(ph));
}

}  // namespace

Bytes payload_bytes(std::size_t n, std::uint32_t seed) {
    Bytes b(n);
    std::uint32_t x = seed * 2654435761u + 12345;
    for (auto& v : b) {
        x = x * 1103515245u + 12345;
        v = static_cast<std::uint8_t>(x >> 16);
    }
    return b;
}

std::size_t ip_header_len(const Spec& s) {
    return s.version == 4 ? 20 + s.ip_options.size() : 40 + 8 * s.ext_headers.size();
}

std::size_t header_len(const Spec& s) {
    return ip_header_len(s) + l4_header_len(s);
}

Bytes build(const Spec& s) {
    const std::size_t l4 = ip_header_len(s);
    Bytes b(header_len(s) + s.payload.size());
    std::copy(s.payload.begin(), s.payload.end(),
              b.begin() + static_cast<std::ptrdiff_t>(header_len(s)));
    write_ip(s, b);
    write_l4(s, b, l4);
    const std::size_t field = l4 + (s.proto == proto_tcp ? 16 : 6);
    const std::uint16_t sum = l4_sum(b, l4, s.proto);
    auto valid = static_cast<std::uint16_t>(~sum);
    if (s.proto == proto_udp && valid == 0) valid = 0xffff;
    switch (s.csum) {
        case Csum::valid:
            put16(b, field, valid);
            break;
        case Csum::bad:
            put16(b, field, valid ^ 0x8001u);
            break;
        case Csum::zero:
            break;
        case Csum::pseudo:
            put16(b, field, ref_sum(pseudo_header(b, l4, s.proto)));
            break;
    }
    return b;
}

std::uint16_t ref_sum(std::span<const std::uint8_t> bytes, std::uint32_t init) {
    std::uint32_t sum = init;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        sum += i % 2 == 0 ? std::uint32_t{bytes[i]} << 8 : bytes[i];
        if (sum > 0xffff) sum -= 0xffff;
    }
    return static_cast<std::uint16_t>(sum);
}

bool ipv4_header_valid(std::span<const std::uint8_t> p) {
    return ref_sum(p.first(std::size_t{p[0] & 0x0fu} * 4)) == 0xffff;
}

bool l4_checksum_valid(std::span<const std::uint8_t> p, std::size_t l4_offset, std::uint8_t proto) {
    return l4_sum(p, l4_offset, proto) == 0xffff;
}

VirtioNetHdr gso_header(const Spec& s, std::uint16_t gso_size) {
    VirtioNetHdr h;
    h.flags = vnet_flag_needs_csum;
    if (s.proto == proto_udp) {
        h.gso_type = gso_udp_l4;
    } else {
        h.gso_type = s.version == 4 ? gso_tcpv4 : gso_tcpv6;
    }
    h.hdr_len = static_cast<std::uint16_t>(header_len(s));
    h.gso_size = gso_size;
    h.csum_start = static_cast<std::uint16_t>(ip_header_len(s));
    h.csum_offset = s.proto == proto_tcp ? 16 : 6;
    return h;
}

Bytes join(const GroTable::Item& item) {
    Bytes out;
    for (const iovec& v : item.pieces) {
        const auto* p = static_cast<const std::uint8_t*>(v.iov_base);
        out.insert(out.end(), p, p + v.iov_len);
    }
    return out;
}

std::vector<Bytes> split_all(const VirtioNetHdr& h, std::span<const std::uint8_t> packet,
                             std::size_t max_segments) {
    const auto plan = plan_split(h, packet, max_segments);
    REQUIRE_MESSAGE(plan.has_value(), to_string(plan.error()));
    std::vector<Bytes> out;
    for (std::size_t i = 0; i < plan->segments; ++i) {
        Bytes seg(segment_length(*plan, i));
        REQUIRE(write_segment(*plan, packet, i, seg) == seg.size());
        out.push_back(std::move(seg));
    }
    return out;
}

}  // namespace ringtun::test
