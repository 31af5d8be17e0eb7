#include "tun/gro.hpp"

#include <algorithm>

#include "tun/checksum.hpp"
#include "tun/ip_fields.hpp"

namespace ringtun::tun {

namespace {

constexpr std::size_t max_ip_packet = 0xffff;

GroParams normalized(GroParams p) noexcept {
    p.max_segments = std::max<std::size_t>(p.max_segments, 1);
    return p;
}

}  // namespace

GroTable::GroTable(const GroParams& params)
    : params_(normalized(params)),
      entries_(params_.max_flows),
      pieces_(params_.max_flows * params_.max_segments),
      tags_(params_.max_flows * params_.max_segments) {}

std::optional<std::uint32_t> GroTable::add(std::span<std::uint8_t> packet,
                                           std::uint32_t tag) noexcept {
    if (refusing_) return std::nullopt;
    const auto g = parse_gro_candidate(packet, params_.udp);
    if (!g) {
        close_host_pair(packet);
        return start_item(packet, tag, nullptr, false);
    }
    bool open = !g->psh;
    if (const auto index = newest_of(g->key)) {
        const Join j = can_join(entries_[*index], packet, *g);
        if (j == Join::yes) {
            append(*index, packet, *g, tag);
            return index;
        }
        if (j == Join::bad_packet) open = false;
    }
    return start_item(packet, tag, &*g, open);
}

std::optional<std::uint32_t> GroTable::start_item(std::span<std::uint8_t> packet, std::uint32_t tag,
                                                  const GroPacket* candidate, bool open) noexcept {
    if (count_ == entries_.size()) {
        refusing_ = true;
        return std::nullopt;
    }
    const auto index = static_cast<std::uint32_t>(count_++);
    Entry& e = entries_[index];
    e = Entry{};
    e.head = packet.data();
    e.head_len = packet.size();
    if (candidate != nullptr) {
        e.first = *candidate;
        e.keyed = true;
        e.payload = candidate->payload_len;
    }
    e.open = open;
    e.segments = 1;
    pieces_[first_piece(index)] = iovec{packet.data(), packet.size()};
    tags_[first_piece(index)] = tag;
    return index;
}

std::optional<std::uint32_t> GroTable::newest_of(const FlowKey& key) const noexcept {
    for (std::size_t i = count_; i-- > 0;) {
        if (entries_[i].keyed && entries_[i].first.key == key) return static_cast<std::uint32_t>(i);
    }
    return std::nullopt;
}

GroTable::Join GroTable::can_join(Entry& e, std::span<const std::uint8_t> packet,
                                  const GroPacket& g) noexcept {
    const GroPacket& first = e.first;
    if (!e.open || g.payload_len > first.payload_len) return Join::no;
    if (e.segments >= params_.max_segments) return Join::no;
    if (first.header_len + e.payload + g.payload_len > max_ip_packet) return Join::no;
    if (g.key.proto == proto_tcp && g.seq != first.seq + static_cast<std::uint32_t>(e.payload))
        return Join::no;
    const std::span<const std::uint8_t> head{e.head, e.head_len};
    if (!gro_headers_match(head, first, packet, g)) return Join::no;
    if (!params_.verify_checksums) return Join::yes;
    if (!e.head_verified) {
        if (!gro_checksums_valid(head, first)) {
            e.open = false;  // the head will be written alone
            return Join::bad_head;
        }
        e.head_verified = true;
    }
    return gro_checksums_valid(packet, g) ? Join::yes : Join::bad_packet;
}

void GroTable::append(std::uint32_t index, std::span<std::uint8_t> packet, const GroPacket& g,
                      std::uint32_t tag) noexcept {
    Entry& e = entries_[index];
    const std::size_t k = first_piece(index) + e.segments;
    pieces_[k] = iovec{packet.data() + g.header_len, g.payload_len};
    tags_[k] = tag;
    ++e.segments;
    e.payload += g.payload_len;
    e.psh = g.psh;
    if (g.psh || g.payload_len < e.first.payload_len) e.open = false;
}

void GroTable::close_host_pair(std::span<const std::uint8_t> packet) noexcept {
    for (std::size_t i = 0; i < count_; ++i) {
        Entry& e = entries_[i];
        if (e.keyed && e.open && same_host_pair(packet, e.first.key)) e.open = false;
    }
}

void GroTable::finish() noexcept {
    refusing_ = true;
    for (std::size_t i = 0; i < count_; ++i) {
        Entry& e = entries_[i];
        if (e.segments > 1) {
            finish_merged(e);
        } else {
            e.hdr = VirtioNetHdr{};
        }
    }
}

void GroTable::finish_merged(Entry& e) noexcept {
    std::uint8_t* p = e.head;
    const GroPacket& g = e.first;
    const std::size_t total = g.header_len + e.payload;
    const auto l4_len = static_cast<std::uint32_t>(total - g.ip_header_len);
    std::uint64_t pseudo;
    if (g.key.version == 4) {
        store_be16(p + ipv4::total_length, static_cast<std::uint16_t>(total));
        store_be16(p + ipv4::checksum, 0);
        const std::uint64_t sum = checksum_add({p, ipv4::min_header_len}, 0);
        store_be16(p + ipv4::checksum, static_cast<std::uint16_t>(~checksum_fold(sum)));
        pseudo = pseudo_header_sum_v4(p + ipv4::src, p + ipv4::dst, g.key.proto, l4_len);
    } else {
        store_be16(p + ipv6::payload_length, static_cast<std::uint16_t>(total - ipv6::header_len));
        pseudo = pseudo_header_sum_v6(p + ipv6::src, p + ipv6::dst, g.key.proto, l4_len);
    }
    std::uint8_t* l4 = p + g.ip_header_len;
    const bool tcp = g.key.proto == proto_tcp;
    if (tcp) {
        if (e.psh) l4[tcp::flags] |= tcp::flag_psh;
        store_be16(l4 + tcp::checksum, checksum_fold(pseudo));
    } else {
        store_be16(l4 + udp::length, static_cast<std::uint16_t>(l4_len));
        store_be16(l4 + udp::checksum, checksum_fold(pseudo));
    }
    e.hdr.flags = vnet_flag_needs_csum;
    e.hdr.gso_type = !tcp ? gso_udp_l4 : g.key.version == 4 ? gso_tcpv4 : gso_tcpv6;
    e.hdr.hdr_len = static_cast<std::uint16_t>(g.header_len);
    e.hdr.gso_size = static_cast<std::uint16_t>(g.payload_len);
    e.hdr.csum_start = static_cast<std::uint16_t>(g.ip_header_len);
    e.hdr.csum_offset = static_cast<std::uint16_t>(tcp ? tcp::checksum : udp::checksum);
}

GroTable::Item GroTable::item(std::uint32_t index) const noexcept {
    if (index >= count_) return Item{};
    const Entry& e = entries_[index];
    const std::size_t k = first_piece(index);
    return Item{e.hdr, {&pieces_[k], e.segments}, {&tags_[k], e.segments}};
}

void GroTable::clear() noexcept {
    count_ = 0;
    refusing_ = false;
}

}  // namespace ringtun::tun
