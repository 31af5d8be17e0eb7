#include "tun/gso_split.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include "tun/checksum.hpp"
#include "tun/ip_fields.hpp"

namespace ringtun::tun {

namespace {

// The largest IPv4 total length, IPv6 payload length or UDP length a segment may carry.
constexpr std::size_t max_field = 0xffff;

util::Unexpected<SplitError> fail(SplitError e) noexcept {
    return {e};
}

bool is_tcp(std::uint8_t gso_type) noexcept {
    return gso_type != gso_udp_l4;
}

struct L4Position {
    std::size_t offset;
    std::uint8_t proto;
};

// Walks the IPv6 extension headers a TSO/USO packet may carry (hop-by-hop, destination
// options) to the first other header. Nothing when the chain runs past the packet.
std::optional<L4Position> ipv6_l4(std::span<const std::uint8_t> p) noexcept {
    std::uint8_t next = p[ipv6::next_header];
    std::size_t off = ipv6::header_len;
    // Each extension header is at least 8 bytes, so this ends within the packet.
    while (next == ipv6::ext_hop_by_hop || next == ipv6::ext_destination) {
        if (off + 8 > p.size()) return std::nullopt;
        next = p[off];
        off += (std::size_t{p[off + 1]} + 1) * 8;
    }
    if (off > p.size()) return std::nullopt;
    return L4Position{off, next};
}

// Where the IP header says the L4 header starts and what it is; checks the IP version
// against the GSO type.
util::Expected<L4Position, SplitError> locate_l4(std::uint8_t gso_type,
                                                 std::span<const std::uint8_t> p) noexcept {
    if (p.empty()) return fail(SplitError::bad_headers);
    const unsigned version = ip_version(p.data());
    if (version == 4) {
        if (gso_type == gso_tcpv6) return fail(SplitError::bad_gso_type);
        if (p.size() < ipv4::min_header_len) return fail(SplitError::bad_headers);
        const std::size_t ihl = std::size_t{p[ipv4::ihl] & 0x0fu} * 4;
        if (ihl < ipv4::min_header_len || ihl > p.size()) return fail(SplitError::bad_headers);
        return L4Position{ihl, p[ipv4::protocol]};
    }
    if (version == 6) {
        if (gso_type == gso_tcpv4) return fail(SplitError::bad_gso_type);
        if (p.size() < ipv6::header_len) return fail(SplitError::bad_headers);
        const auto l4 = ipv6_l4(p);
        if (!l4) return fail(SplitError::bad_headers);
        return *l4;
    }
    return fail(SplitError::bad_headers);
}

// The L4 header's length at `off`, checked against the packet; 0 when it is malformed.
std::size_t l4_header_len(bool tcp, std::span<const std::uint8_t> p, std::size_t off) noexcept {
    if (!tcp) return off + udp::header_len <= p.size() ? udp::header_len : 0;
    if (off + tcp::min_header_len > p.size()) return 0;
    const std::size_t len = tcp::header_len(p.data() + off);
    if (len < tcp::min_header_len || off + len > p.size()) return 0;
    return len;
}

// The segment count for `payload` bytes cut at gso_size: an empty payload is one segment.
std::size_t count_segments(std::size_t payload, std::size_t gso_size) noexcept {
    return payload <= gso_size ? 1 : (payload + gso_size - 1) / gso_size;
}

}  // namespace

const char* to_string(SplitError e) noexcept {
    switch (e) {
        case SplitError::bad_gso_type:
            return "bad gso type";
        case SplitError::bad_gso_size:
            return "bad gso size";
        case SplitError::bad_headers:
            return "bad headers";
        case SplitError::bad_checksum_offsets:
            return "bad checksum offsets";
        case SplitError::too_many_segments:
            return "too many segments";
    }
    return "unknown";
}

SplitResult plan_split(const VirtioNetHdr& h, std::span<const std::uint8_t> packet,
                       std::size_t max_segments) noexcept {
    if (h.gso_type != gso_tcpv4 && h.gso_type != gso_tcpv6 && h.gso_type != gso_udp_l4)
        return fail(SplitError::bad_gso_type);
    if (h.gso_size == 0) return fail(SplitError::bad_gso_size);
    const auto l4 = locate_l4(h.gso_type, packet);
    if (!l4) return fail(l4.error());
    const bool tcp = is_tcp(h.gso_type);
    if (l4->proto != (tcp ? proto_tcp : proto_udp)) return fail(SplitError::bad_headers);
    if (h.csum_start != l4->offset || h.csum_offset != (tcp ? tcp::checksum : udp::checksum))
        return fail(SplitError::bad_checksum_offsets);
    const std::size_t l4_len = l4_header_len(tcp, packet, l4->offset);
    if (l4_len == 0) return fail(SplitError::bad_headers);

    SplitPlan plan;
    plan.gso_type = h.gso_type;
    plan.ipv6 = ip_version(packet.data()) == 6;
    plan.ip_header_len = l4->offset;
    plan.header_len = l4->offset + l4_len;
    plan.gso_size = h.gso_size;
    plan.packet_len = packet.size();
    const std::size_t payload = packet.size() - plan.header_len;
    plan.segments = count_segments(payload, plan.gso_size);
    if (plan.header_len + std::min(payload, plan.gso_size) > max_field)
        return fail(SplitError::bad_gso_size);
    if (plan.segments > max_segments) return fail(SplitError::too_many_segments);
    return plan;
}

std::size_t segment_length(const SplitPlan& plan, std::size_t i) noexcept {
    if (i >= plan.segments) return 0;
    const std::size_t payload = plan.packet_len - plan.header_len;
    return plan.header_len + std::min(plan.gso_size, payload - i * plan.gso_size);
}

namespace {

// Sets the IP header fields of segment i of `len` bytes at `seg` (a copy of the
// super-packet's headers) and returns the L4 pseudo-header sum.
std::uint64_t fix_ip_header(const SplitPlan& plan, std::uint8_t* seg, std::size_t i,
                            std::size_t len) noexcept {
    const auto l4_len = static_cast<std::uint32_t>(len - plan.ip_header_len);
    const std::uint8_t proto = is_tcp(plan.gso_type) ? proto_tcp : proto_udp;
    if (plan.ipv6) {
        store_be16(seg + ipv6::payload_length, static_cast<std::uint16_t>(len - ipv6::header_len));
        return pseudo_header_sum_v6(seg + ipv6::src, seg + ipv6::dst, proto, l4_len);
    }
    store_be16(seg + ipv4::total_length, static_cast<std::uint16_t>(len));
    store_be16(seg + ipv4::id, static_cast<std::uint16_t>(load_be16(seg + ipv4::id) + i));
    store_be16(seg + ipv4::checksum, 0);
    const std::uint64_t sum = checksum_add({seg, plan.ip_header_len}, 0);
    store_be16(seg + ipv4::checksum, static_cast<std::uint16_t>(~checksum_fold(sum)));
    return pseudo_header_sum_v4(seg + ipv4::src, seg + ipv4::dst, proto, l4_len);
}

// Sets the L4 header fields of segment i of `len` bytes (all but the checksum, zeroed).
void fix_l4_header(const SplitPlan& plan, std::uint8_t* l4, std::size_t i,
                   std::size_t len) noexcept {
    if (!is_tcp(plan.gso_type)) {
        store_be16(l4 + udp::length, static_cast<std::uint16_t>(len - plan.ip_header_len));
        store_be16(l4 + udp::checksum, 0);
        return;
    }
    const auto step = static_cast<std::uint32_t>(plan.gso_size * i);  // modulo 2^32, as seq
    store_be32(l4 + tcp::seq, load_be32(l4 + tcp::seq) + step);
    if (i + 1 != plan.segments)
        l4[tcp::flags] &= static_cast<std::uint8_t>(~(tcp::flag_fin | tcp::flag_psh));
    store_be16(l4 + tcp::checksum, 0);
}

}  // namespace

std::size_t write_segment(const SplitPlan& plan, std::span<const std::uint8_t> packet,
                          std::size_t i, std::span<std::uint8_t> dst) noexcept {
    const std::size_t len = segment_length(plan, i);
    if (len == 0 || packet.size() != plan.packet_len || dst.size() < len) return 0;
    std::uint8_t* seg = dst.data();
    std::memcpy(seg, packet.data(), plan.header_len);
    std::uint64_t sum = fix_ip_header(plan, seg, i, len);
    std::uint8_t* l4 = seg + plan.ip_header_len;
    fix_l4_header(plan, l4, i, len);
    // The L4 header's length is a multiple of 4, so the payload piece starts on an even offset.
    sum = checksum_add({l4, plan.header_len - plan.ip_header_len}, sum);
    const std::size_t payload = len - plan.header_len;
    sum = copy_and_checksum(seg + plan.header_len,
                            packet.data() + plan.header_len + i * plan.gso_size, payload, sum);
    auto csum = static_cast<std::uint16_t>(~checksum_fold(sum));
    if (is_tcp(plan.gso_type)) {
        store_be16(l4 + tcp::checksum, csum);
    } else {
        store_be16(l4 + udp::checksum, csum == 0 ? 0xffff : csum);
    }
    return len;
}

bool finish_checksum(const VirtioNetHdr& h, std::span<std::uint8_t> packet) noexcept {
    if ((h.flags & vnet_flag_needs_csum) == 0) return true;
    const std::size_t field = std::size_t{h.csum_start} + h.csum_offset;
    if (field + 2 > packet.size()) return false;
    const std::uint64_t sum = checksum_add(packet.subspan(h.csum_start), 0);
    auto csum = static_cast<std::uint16_t>(~checksum_fold(sum));
    if (csum == 0 && h.csum_offset == udp::checksum) csum = 0xffff;
    store_be16(packet.data() + field, csum);
    return true;
}

}  // namespace ringtun::tun
