#include "tun/gro_unmerge.hpp"

#include "tun/checksum.hpp"
#include "tun/ip_fields.hpp"

namespace ringtun::tun {

void unmerge_head(const VirtioNetHdr& h, std::span<std::uint8_t> head) noexcept {
    const std::size_t l4 = h.csum_start;
    if (h.gso_type == gso_none || l4 + udp::header_len > head.size()) return;
    std::uint8_t* p = head.data();
    const bool tcp_packet = h.gso_type == gso_tcpv4 || h.gso_type == gso_tcpv6;
    const auto l4_len = static_cast<std::uint32_t>(head.size() - l4);
    std::uint64_t sum = 0;
    if (ip_version(p) == 4) {
        store_be16(p + ipv4::total_length, static_cast<std::uint16_t>(head.size()));
        store_be16(p + ipv4::checksum, 0);
        store_be16(p + ipv4::checksum,
                   static_cast<std::uint16_t>(~checksum_fold(checksum_add({p, l4}, 0))));
        sum = pseudo_header_sum_v4(p + ipv4::src, p + ipv4::dst, tcp_packet ? proto_tcp : proto_udp,
                                   l4_len);
    } else {
        store_be16(p + ipv6::payload_length,
                   static_cast<std::uint16_t>(head.size() - ipv6::header_len));
        sum = pseudo_header_sum_v6(p + ipv6::src, p + ipv6::dst, tcp_packet ? proto_tcp : proto_udp,
                                   l4_len);
    }
    std::uint8_t* th = p + l4;
    std::uint8_t* field = th + (tcp_packet ? tcp::checksum : udp::checksum);
    if (tcp_packet) {
        // Only the last packet of an item may carry PSH; the head had none of its own.
        th[tcp::flags] = static_cast<std::uint8_t>(th[tcp::flags] & ~tcp::flag_psh);
    } else {
        store_be16(th + udp::length, static_cast<std::uint16_t>(l4_len));
    }
    store_be16(field, 0);
    auto folded = static_cast<std::uint16_t>(~checksum_fold(checksum_add({th, l4_len}, sum)));
    if (!tcp_packet && folded == 0) folded = 0xffff;  // RFC 768: 0 means "no checksum"
    store_be16(field, folded);
}

}  // namespace ringtun::tun
