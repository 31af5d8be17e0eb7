// libFuzzer target for the TUN offload code (tun/gso_split, tun/gro): what a TUN read or a
// peer can hand it must never read or write out of bounds, and what it produces must parse.
//
// Input, first byte:
//   bit 7 clear: split. Bits 0..6 + 1 = max_segments; then a 10-byte virtio-net header and
//     the packet. Every planned segment is written into a buffer of exactly its length, must
//     carry valid IPv4 header and L4 checksums and the packet's payload in order; a
//     finish_checksum that succeeds must leave a checksum that verifies.
//   bit 7 set: GRO. Bits: 0-1 max_flows (0: 64, else 2 * n), 2 max_segments 3 (else 64),
//     3 udp, 4 verify_checksums, 5 fix up lengths and checksums before adding (so that
//     coalescing is reached without the fuzzer solving checksums). Then packets, each a 2-byte
//     big-endian length and its bytes. Every item, written and split again, must give back
//     its packets' lengths and payloads, and no packet may be lost or duplicated. Its head,
//     unmerged (tun/gro_unmerge: a refused coalesced write), must be an ordinary packet again
//     with valid checksums: the very packet offered, if that one's checksums were valid.
// Each packet lives in an allocation of exactly its size, so AddressSanitizer sees overreads.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "tun/checksum.hpp"
#include "tun/gro.hpp"
#include "tun/gro_unmerge.hpp"
#include "tun/gso_split.hpp"
#include "tun/ip_fields.hpp"
#include "tun/virtio_net_hdr.hpp"

using namespace ringtun::tun;

namespace {

using Bytes = std::vector<std::uint8_t>;

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "offload_fuzz: %s\n", what);
    std::abort();
}

// True when segment `s` (IP + L4 at l4 with protocol proto) carries valid checksums.
bool checksums_valid(std::span<const std::uint8_t> s, std::size_t l4, std::uint8_t proto) {
    const auto l4_len = static_cast<std::uint32_t>(s.size() - l4);
    std::uint64_t sum;
    if (ip_version(s.data()) == 4) {
        if (checksum_fold(checksum_add(s.first(l4), 0)) != 0xffff) return false;
        if (load_be16(&s[ipv4::total_length]) != s.size()) return false;
        sum = pseudo_header_sum_v4(&s[ipv4::src], &s[ipv4::dst], proto, l4_len);
    } else {
        if (load_be16(&s[ipv6::payload_length]) != s.size() - ipv6::header_len) return false;
        sum = pseudo_header_sum_v6(&s[ipv6::src], &s[ipv6::dst], proto, l4_len);
    }
    return checksum_fold(checksum_add(s.subspan(l4), sum)) == 0xffff;
}

// Writes every segment of `packet`; they must hold its payload, in order.
void split_and_check(const SplitPlan& plan, std::span<const std::uint8_t> packet) {
    const std::uint8_t proto = plan.gso_type == gso_udp_l4 ? proto_udp : proto_tcp;
    std::size_t payload_at = plan.header_len;
    for (std::size_t i = 0; i < plan.segments; ++i) {
        const std::size_t len = segment_length(plan, i);
        require(len >= plan.header_len && len <= 0xffff, "segment length out of bounds");
        require(len - plan.header_len <= plan.gso_size, "segment longer than gso_size");
        auto seg = std::make_unique<std::uint8_t[]>(len);
        const std::span<std::uint8_t> dst(seg.get(), len);
        require(write_segment(plan, packet, i, dst) == len, "write_segment length");
        require(checksums_valid(dst, plan.ip_header_len, proto), "segment checksum");
        const std::size_t n = len - plan.header_len;
        require(std::memcmp(seg.get() + plan.header_len, &packet[payload_at], n) == 0,
                "segment payload");
        payload_at += n;
        require(write_segment(plan, packet, i, dst.first(len - 1)) == 0, "short dst accepted");
    }
    require(payload_at == packet.size(), "payload lost");
    require(segment_length(plan, plan.segments) == 0, "segment past the end");
}

void fuzz_split(std::uint8_t mode, std::span<const std::uint8_t> in) {
    if (in.size() < vnet_hdr_len) return;
    const VirtioNetHdr h = read_vnet_hdr(in.data());
    const Bytes packet(in.begin() + vnet_hdr_len, in.end());
    const std::size_t max_segments = (mode & 0x7f) + 1u;
    const auto plan = plan_split(h, packet, max_segments);
    if (plan) {
        require(plan->segments >= 1 && plan->segments <= max_segments, "segment count");
        split_and_check(*plan, packet);
    }
    Bytes copy = packet;
    const std::uint16_t before = copy.size() >= std::size_t{h.csum_start} + h.csum_offset + 2u
                                     ? load_be16(&copy[h.csum_start + h.csum_offset])
                                     : 0;
    if (finish_checksum(h, copy) && (h.flags & vnet_flag_needs_csum) && h.csum_offset % 2 == 0) {
        // The field held the pseudo-header sum: with it, the region now sums to 0xffff.
        const std::span<const std::uint8_t> region = std::span(copy).subspan(h.csum_start);
        const std::uint64_t sum = checksum_add(region, before);
        require(checksum_fold(sum) == 0xffff, "finish_checksum");
    }
}

// Sets the L4 length and checksum of a TCP or UDP packet whose L4 header starts at l4.
void fix_l4(Bytes& p, std::size_t l4, std::uint8_t proto, std::uint64_t pseudo) {
    std::size_t field;
    if (proto == proto_tcp && l4 + tcp::min_header_len <= p.size()) {
        field = l4 + tcp::checksum;
    } else if (proto == proto_udp && l4 + udp::header_len <= p.size()) {
        store_be16(&p[l4 + udp::length], static_cast<std::uint16_t>(p.size() - l4));
        field = l4 + udp::checksum;
    } else {
        return;
    }
    store_be16(&p[field], 0);
    const std::uint64_t sum = checksum_add(std::span(p).subspan(l4), pseudo);
    const auto c = static_cast<std::uint16_t>(~checksum_fold(sum));
    store_be16(&p[field], c == 0 && proto == proto_udp ? 0xffff : c);
}

// Sets the IP lengths and the IPv4 header and L4 checksums of a packet with room for them.
void fix_up(Bytes& p) {
    if (p.size() > 0xffff) return;
    if (p.size() >= ipv4::min_header_len && ip_version(p.data()) == 4) {
        const std::size_t ihl = std::size_t{p[0] & 0x0fu} * 4;
        if (ihl < ipv4::min_header_len || ihl > p.size()) return;
        store_be16(&p[ipv4::total_length], static_cast<std::uint16_t>(p.size()));
        store_be16(&p[ipv4::checksum], 0);
        const std::uint64_t hs = checksum_add({p.data(), ihl}, 0);
        store_be16(&p[ipv4::checksum], static_cast<std::uint16_t>(~checksum_fold(hs)));
        const auto l4_len = static_cast<std::uint32_t>(p.size() - ihl);
        const std::uint8_t proto = p[ipv4::protocol];
        fix_l4(p, ihl, proto, pseudo_header_sum_v4(&p[ipv4::src], &p[ipv4::dst], proto, l4_len));
    } else if (p.size() >= ipv6::header_len && ip_version(p.data()) == 6) {
        const auto l4_len = static_cast<std::uint32_t>(p.size() - ipv6::header_len);
        store_be16(&p[ipv6::payload_length], static_cast<std::uint16_t>(l4_len));
        const std::uint8_t proto = p[ipv6::next_header];
        fix_l4(p, ipv6::header_len, proto,
               pseudo_header_sum_v6(&p[ipv6::src], &p[ipv6::dst], proto, l4_len));
    }
}

GroParams gro_params(std::uint8_t mode) {
    GroParams p;
    p.max_flows = (mode & 3) == 0 ? 64 : 2u * (mode & 3);
    p.max_segments = (mode & 4) != 0 ? 3 : 64;
    p.udp = (mode & 8) != 0;
    p.verify_checksums = (mode & 16) != 0;
    return p;
}

// The head of a coalesced item, unmerged, is its packet again (checksums made valid).
void check_unmerged_head(const GroTable::Item& item, const Bytes& original) {
    const auto* b = static_cast<const std::uint8_t*>(item.pieces[0].iov_base);
    Bytes head(b, b + item.pieces[0].iov_len);
    unmerge_head(item.hdr, head);
    require(head.size() == original.size(), "unmerged head length");
    const std::uint8_t proto = item.hdr.gso_type == gso_udp_l4 ? proto_udp : proto_tcp;
    require(checksums_valid(head, item.hdr.csum_start, proto), "unmerged head checksums");
    if (checksums_valid(original, item.hdr.csum_start, proto))
        require(head == original, "unmerged head is not the packet offered");
}

// Item `item`, written and split again, holds its packets' lengths and payloads in order.
void check_item(const GroTable::Item& item, const std::vector<Bytes>& originals,
                std::size_t max_segments) {
    require(!item.pieces.empty() && item.pieces.size() <= max_segments, "piece count");
    Bytes written;
    for (const iovec& v : item.pieces) {
        const auto* b = static_cast<const std::uint8_t*>(v.iov_base);
        written.insert(written.end(), b, b + v.iov_len);
    }
    if (item.hdr == VirtioNetHdr{}) {
        require(item.pieces.size() == 1 && written == originals[item.tags[0]], "single item");
        return;
    }
    require(written.size() <= 0xffff, "item over 65535 bytes");
    check_unmerged_head(item, originals[item.tags[0]]);
    const auto plan = plan_split(item.hdr, written, max_segments);
    require(plan.has_value(), "a finished item does not split");
    require(plan->segments == item.pieces.size(), "segment count");
    for (std::size_t k = 0; k < plan->segments; ++k) {
        const Bytes& original = originals[item.tags[k]];
        require(k == 0 || item.tags[k] > item.tags[k - 1], "reordered");
        require(segment_length(*plan, k) == original.size(), "segment length");
        Bytes seg(original.size());
        require(write_segment(*plan, written, k, seg) == seg.size(), "write_segment");
        require(std::equal(seg.begin() + static_cast<long>(plan->header_len), seg.end(),
                           original.begin() + static_cast<long>(plan->header_len)),
                "payload");
    }
}

void fuzz_gro(std::uint8_t mode, std::span<const std::uint8_t> in) {
    const GroParams params = gro_params(mode);
    std::vector<Bytes> originals;
    while (in.size() >= 2) {
        const std::size_t len = std::min<std::size_t>(load_be16(in.data()), in.size() - 2);
        originals.emplace_back(in.begin() + 2, in.begin() + 2 + static_cast<long>(len));
        if ((mode & 32) != 0) fix_up(originals.back());
        in = in.subspan(2 + len);
    }
    std::vector<std::unique_ptr<std::uint8_t[]>> packets;  // exactly sized, for ASan
    std::vector<int> seen(originals.size(), 0);
    // One table per parameter set, built once (the daemon too keeps its table and clears it).
    static std::unique_ptr<GroTable> tables[32];
    std::unique_ptr<GroTable>& cached = tables[mode & 31];
    if (!cached) cached = std::make_unique<GroTable>(params);
    GroTable& table = *cached;
    table.clear();
    for (std::size_t k = 0; k < originals.size(); ++k) {
        const Bytes& o = originals[k];
        packets.push_back(std::make_unique<std::uint8_t[]>(o.size()));
        std::copy(o.begin(), o.end(), packets.back().get());
        if (!table.add({packets.back().get(), o.size()}, static_cast<std::uint32_t>(k)))
            ++seen[k];  // refused: the caller writes it alone
    }
    table.finish();
    for (std::uint32_t i = 0; i < table.size(); ++i) {
        const GroTable::Item item = table.item(i);
        check_item(item, originals, params.max_segments);
        for (std::uint32_t tag : item.tags)
            ++seen[tag];
    }
    for (int n : seen)
        require(n == 1, "a packet lost or written twice");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::span<const std::uint8_t> in(data + 1, size - 1);
    if ((data[0] & 0x80) == 0) {
        fuzz_split(data[0], in);
    } else {
        fuzz_gro(data[0], in);
    }
    return 0;
}
