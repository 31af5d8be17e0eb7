#include "tun/gro_candidate.hpp"

#include <cstring>

#include "tun/checksum.hpp"
#include "tun/ip_fields.hpp"

namespace ringtun::tun {

namespace {

constexpr std::uint8_t ipv4_no_options = 0x45;  // version 4, IHL 5
constexpr std::uint8_t tcp_reserved_mask = 0x0f;

// The IP part of a candidate: version, addresses, protocol and the IP header's length.
std::optional<GroPacket> parse_ip(std::span<const std::uint8_t> p) noexcept {
    GroPacket g;
    if (p.size() >= ipv4::min_header_len && p[0] == ipv4_no_options) {
        const std::uint16_t frag = load_be16(&p[ipv4::frag]);
        if (load_be16(&p[ipv4::total_length]) != p.size()) return std::nullopt;
        if ((frag & (ipv4::flag_mf | ipv4::frag_offset_mask)) != 0) return std::nullopt;
        g.key.version = 4;
        g.key.proto = p[ipv4::protocol];
        g.ip_header_len = ipv4::min_header_len;
        std::memcpy(g.key.addrs.data(), &p[ipv4::src], 2 * ipv4::addr_len);
        return g;
    }
    if (p.size() >= ipv6::header_len && ip_version(p.data()) == 6) {
        if (load_be16(&p[ipv6::payload_length]) + ipv6::header_len != p.size()) return std::nullopt;
        g.key.version = 6;
        g.key.proto = p[ipv6::next_header];
        g.ip_header_len = ipv6::header_len;
        std::memcpy(g.key.addrs.data(), &p[ipv6::src], 2 * ipv6::addr_len);
        return g;
    }
    return std::nullopt;
}

bool parse_tcp(std::span<const std::uint8_t> p, GroPacket& g) noexcept {
    if (p.size() < g.ip_header_len + tcp::min_header_len) return false;
    const std::uint8_t* th = &p[g.ip_header_len];
    const std::size_t len = tcp::header_len(th);
    if (len < tcp::min_header_len || g.ip_header_len + len >= p.size()) return false;
    if ((th[tcp::data_offset] & tcp_reserved_mask) != 0) return false;
    const std::uint8_t flags = th[tcp::flags];
    if (flags != tcp::flag_ack && flags != (tcp::flag_ack | tcp::flag_psh)) return false;
    g.header_len = g.ip_header_len + len;
    g.payload_len = p.size() - g.header_len;
    g.seq = load_be32(th + tcp::seq);
    g.psh = (flags & tcp::flag_psh) != 0;
    g.key.ack = load_be32(th + tcp::ack);
    g.key.ports = load_be32(th + tcp::src_port);
    return true;
}

bool parse_udp(std::span<const std::uint8_t> p, GroPacket& g) noexcept {
    if (p.size() <= g.ip_header_len + udp::header_len) return false;
    const std::uint8_t* uh = &p[g.ip_header_len];
    if (load_be16(uh + udp::length) != p.size() - g.ip_header_len) return false;
    if (load_be16(uh + udp::checksum) == 0) return false;
    g.header_len = g.ip_header_len + udp::header_len;
    g.payload_len = p.size() - g.header_len;
    g.key.ports = load_be32(uh + udp::src_port);
    return true;
}

}  // namespace

std::optional<GroPacket> parse_gro_candidate(std::span<const std::uint8_t> packet,
                                             bool udp) noexcept {
    auto g = parse_ip(packet);
    if (!g) return std::nullopt;
    if (g->key.proto == proto_tcp && parse_tcp(packet, *g)) return g;
    if (udp && g->key.proto == proto_udp && parse_udp(packet, *g)) return g;
    return std::nullopt;
}

bool same_host_pair(std::span<const std::uint8_t> p, const FlowKey& key) noexcept {
    if (p.empty() || ip_version(p.data()) != key.version) return false;
    if (key.version == 4 && p.size() >= ipv4::min_header_len)
        return std::memcmp(&p[ipv4::src], key.addrs.data(), 2 * ipv4::addr_len) == 0;
    if (key.version == 6 && p.size() >= ipv6::header_len)
        return std::memcmp(&p[ipv6::src], key.addrs.data(), 2 * ipv6::addr_len) == 0;
    return false;
}

bool gro_headers_match(std::span<const std::uint8_t> a, const GroPacket& pa,
                       std::span<const std::uint8_t> b, const GroPacket& pb) noexcept {
    if (pa.header_len != pb.header_len) return false;
    const std::size_t options = pa.ip_header_len + tcp::min_header_len;
    if (pa.key.proto == proto_tcp &&
        std::memcmp(&a[options], &b[options], pa.header_len - options) != 0)
        return false;
    if (pa.key.version == 4) {
        constexpr std::uint16_t flag_bits = ipv4::flag_reserved | ipv4::flag_df | ipv4::flag_mf;
        return a[ipv4::tos] == b[ipv4::tos] && a[ipv4::ttl] == b[ipv4::ttl] &&
               (load_be16(&a[ipv4::frag]) & flag_bits) == (load_be16(&b[ipv4::frag]) & flag_bits);
    }
    return ipv6::traffic_class(a.data()) == ipv6::traffic_class(b.data()) &&
           a[ipv6::hop_limit] == b[ipv6::hop_limit];
}

bool gro_checksums_valid(std::span<const std::uint8_t> packet, const GroPacket& p) noexcept {
    const std::uint8_t* ip = packet.data();
    const auto l4_len = static_cast<std::uint32_t>(packet.size() - p.ip_header_len);
    std::uint64_t sum;
    if (p.key.version == 4) {
        if (checksum_fold(checksum_add(packet.first(ipv4::min_header_len), 0)) != 0xffff)
            return false;
        sum = pseudo_header_sum_v4(ip + ipv4::src, ip + ipv4::dst, p.key.proto, l4_len);
    } else {
        sum = pseudo_header_sum_v6(ip + ipv6::src, ip + ipv6::dst, p.key.proto, l4_len);
    }
    // A correct checksum makes the whole sum 0xffff (ones' complement -0); it cannot be +0,
    // as the pseudo-header's protocol is not zero.
    return checksum_fold(checksum_add(packet.subspan(p.ip_header_len), sum)) == 0xffff;
}

}  // namespace ringtun::tun
