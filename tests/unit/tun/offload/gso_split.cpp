// GSO split: every segment equals the packet built independently with the segment's fields
// (lengths, IDs, sequence numbers, flags, checksums); malformed super-packets are refused;
// hdr_len is never read; finish_checksum completes a NEEDS_CSUM packet.
#include "tun/gso_split.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "tests/unit/tun/offload/packets.hpp"

using namespace ringtun::tun;
using namespace ringtun::test;

namespace {

const Bytes timestamps = {1, 1, 8, 10, 0, 0, 0, 42, 0, 0, 0, 7};  // NOP NOP TS

Spec tcp_spec(unsigned version, std::size_t payload) {
    Spec s;
    s.version = version;
    s.tcp_options = timestamps;
    s.payload = payload_bytes(payload, 9);
    s.csum = Csum::pseudo;
    return s;
}

Spec udp_spec(unsigned version, std::size_t payload) {
    Spec s;
    s.version = version;
    s.proto = proto_udp;
    s.payload = payload_bytes(payload, 10);
    s.csum = Csum::pseudo;
    return s;
}

// The segments a correct split of `super` makes, each built on its own.
std::vector<Bytes> expected_segments(const Spec& super, std::size_t gso_size) {
    std::vector<Bytes> out;
    const std::size_t n = super.payload.size();
    for (std::size_t off = 0, i = 0; off < n || i == 0; off += gso_size, ++i) {
        Spec s = super;
        const std::size_t len = std::min(gso_size, n - off);
        s.payload.assign(super.payload.begin() + static_cast<long>(off),
                         super.payload.begin() + static_cast<long>(off + len));
        s.id = static_cast<std::uint16_t>(super.id + i);
        s.seq = super.seq + static_cast<std::uint32_t>(off);
        if (off + len < n) s.flags &= static_cast<std::uint8_t>(~(tcp::flag_fin | tcp::flag_psh));
        s.csum = Csum::valid;
        out.push_back(build(s));
    }
    return out;
}

void check_split(const Spec& super, std::uint16_t gso_size, std::size_t want_segments) {
    const Bytes packet = build(super);
    const auto segs = split_all(gso_header(super, gso_size), packet);
    REQUIRE(segs.size() == want_segments);
    const auto want = expected_segments(super, gso_size);
    REQUIRE(want.size() == want_segments);
    const std::size_t l4 = ip_header_len(super);
    for (std::size_t i = 0; i < segs.size(); ++i) {
        CAPTURE(i);
        CHECK(segs[i] == want[i]);
        const Bytes& s = segs[i];
        if (super.version == 4) {
            CHECK(ipv4_header_valid(s));
            CHECK(load_be16(&s[2]) == s.size());
        } else {
            CHECK(load_be16(&s[4]) == s.size() - 40);  // extension headers count as payload
        }
        CHECK(l4_checksum_valid(s, l4, super.proto));
        if (super.proto == proto_udp) CHECK(load_be16(&s[l4 + 4]) == s.size() - l4);
    }
}

SplitError split_error(const VirtioNetHdr& h, const Bytes& packet, std::size_t max = 64) {
    const auto plan = plan_split(h, packet, max);
    REQUIRE_FALSE(plan.has_value());
    return plan.error();
}

}  // namespace

TEST_CASE("split: TCPv4 with options; FIN and PSH only on the last, shorter segment") {
    Spec s = tcp_spec(4, 4000);
    s.flags = tcp::flag_ack | tcp::flag_psh | tcp::flag_fin;
    s.id = 0xfffe;        // wraps
    s.seq = 0xfffffc00u;  // wraps
    check_split(s, 1448, 3);
    const auto segs = split_all(gso_header(s, 1448), build(s));
    const std::size_t th = 20;
    CHECK(segs[0][th + 13] == tcp::flag_ack);
    CHECK(segs[1][th + 13] == tcp::flag_ack);
    CHECK(segs[2][th + 13] == (tcp::flag_ack | tcp::flag_psh | tcp::flag_fin));
    CHECK(load_be32(&segs[1][th + 4]) == 424);  // 0xfffffc00 + 1448, modulo 2^32
    CHECK(load_be32(&segs[2][th + 4]) == 1872);
    CHECK(load_be16(&segs[2][4]) == 0);  // 0xfffe + 2
    CHECK(segs[2].size() == 20 + 32 + 4000 - 2 * 1448);
    // CWR is left as it is (TSO_ECN is never enabled).
    s.flags = tcp::flag_ack | tcp::flag_cwr;
    check_split(s, 1448, 3);
}

TEST_CASE("split: IPv4 options are copied into every segment") {
    Spec s = tcp_spec(4, 3000);
    s.ip_options = {1, 1, 1, 0};  // NOP NOP NOP EOL
    check_split(s, 1000, 3);
    Spec u = udp_spec(4, 3000);
    u.ip_options = {1, 1, 1, 0};
    check_split(u, 1200, 3);
}

TEST_CASE("split: TCPv6 and UDPv6 behind extension headers keep payload length = length - 40") {
    Spec s = tcp_spec(6, 5000);
    s.ext_headers = {ipv6::ext_hop_by_hop, ipv6::ext_destination};
    check_split(s, 1428, 4);
    Spec u = udp_spec(6, 5000);
    u.ext_headers = {ipv6::ext_destination};
    check_split(u, 1400, 4);
    check_split(tcp_spec(6, 64000), 1440, 45);
}

TEST_CASE("split: UDP over IPv4; an exact multiple, one short segment and an empty payload") {
    check_split(udp_spec(4, 3 * 1200), 1200, 3);
    check_split(udp_spec(4, 100), 1200, 1);
    check_split(udp_spec(4, 1200), 1200, 1);
    check_split(udp_spec(4, 1201), 1200, 2);
    check_split(tcp_spec(4, 0), 1448, 1);
    check_split(tcp_spec(6, 1), 1, 1);
    check_split(tcp_spec(6, 7), 1, 7);
}

TEST_CASE("split: a UDP checksum that computes to 0 is sent as 0xffff") {
    // Two payload bytes chosen so that the sum is 0xffff, whose complement is 0.
    Spec u = udp_spec(4, 2);
    u.payload = {0, 0};
    u.csum = Csum::zero;
    const Bytes probe = build(u);
    const Bytes pseudo = {10, 0, 0, 1, 10, 0, 0, 2, 0, 17, 0, 10};
    const auto x =
        static_cast<std::uint16_t>(~ref_sum(std::span(probe).subspan(20), ref_sum(pseudo)));
    u.payload = {static_cast<std::uint8_t>(x >> 8), static_cast<std::uint8_t>(x)};
    u.csum = Csum::pseudo;
    const auto segs = split_all(gso_header(u, 100), build(u));
    REQUIRE(segs.size() == 1);
    CHECK(load_be16(&segs[0][26]) == 0xffff);
    CHECK(l4_checksum_valid(segs[0], 20, proto_udp));
    // finish_checksum does the same.
    Bytes p = build(u);
    VirtioNetHdr h = gso_header(u, 0);
    h.gso_type = gso_none;
    REQUIRE(finish_checksum(h, p));
    CHECK(load_be16(&p[26]) == 0xffff);
}

TEST_CASE("split: hdr_len is never read") {
    for (unsigned version : {4u, 6u}) {
        const Spec s = tcp_spec(version, 3000);
        const Bytes packet = build(s);
        const VirtioNetHdr honest = gso_header(s, 1000);
        const auto want = split_all(honest, packet);
        for (std::uint16_t lie : {0, 1, 20, 40, 54, 66, 1000, 3072, 65535}) {
            VirtioNetHdr h = honest;
            h.hdr_len = lie;
            CHECK(split_all(h, packet) == want);
        }
    }
}

TEST_CASE("split: gso_type must be a TSO/USO type matching the IP version") {
    const Bytes v4 = build(tcp_spec(4, 3000));
    const Bytes v6 = build(tcp_spec(6, 3000));
    VirtioNetHdr h4 = gso_header(tcp_spec(4, 3000), 1000);
    VirtioNetHdr h6 = gso_header(tcp_spec(6, 3000), 1000);
    VirtioNetHdr h = h4;
    h.gso_type = gso_tcpv6;
    CHECK(split_error(h, v4) == SplitError::bad_gso_type);
    h = h6;
    h.gso_type = gso_tcpv4;
    CHECK(split_error(h, v6) == SplitError::bad_gso_type);
    const std::uint8_t not_tso[] = {gso_none, gso_udp, gso_tcpv4 | gso_ecn, 2, 6, 0xff};
    for (std::uint8_t t : not_tso) {
        h = h4;
        h.gso_type = t;
        CHECK(split_error(h, v4) == SplitError::bad_gso_type);
    }
    // UDP_L4 is for both versions, but the packet must be UDP.
    h = h4;
    h.gso_type = gso_udp_l4;
    h.csum_offset = 6;
    CHECK(split_error(h, v4) == SplitError::bad_headers);
    h = h4;
    h.gso_size = 0;
    CHECK(split_error(h, v4) == SplitError::bad_gso_size);
}

TEST_CASE("split: malformed headers and checksum offsets are refused") {
    const Spec s = tcp_spec(4, 3000);
    const VirtioNetHdr h = gso_header(s, 1000);
    Bytes p = build(s);
    for (std::uint8_t doff : {0, 1, 4}) {  // data offset below 5 words
        Bytes q = p;
        q[32] = static_cast<std::uint8_t>(doff << 4);
        CHECK(split_error(h, q) == SplitError::bad_headers);
    }
    CHECK(split_error(h, Bytes(p.begin(), p.begin() + 50)) == SplitError::bad_headers);
    CHECK(split_error(h, Bytes(p.begin(), p.begin() + 30)) == SplitError::bad_headers);
    CHECK(split_error(h, Bytes(p.begin(), p.begin() + 10)) == SplitError::bad_headers);
    CHECK(split_error(h, Bytes{}) == SplitError::bad_headers);
    Bytes q = p;
    q[0] = 0x44;  // IHL 4
    CHECK(split_error(h, q) == SplitError::bad_headers);
    q[0] = 0x55;  // version 5
    CHECK(split_error(h, q) == SplitError::bad_headers);
    q = p;
    q[9] = proto_udp;
    CHECK(split_error(h, q) == SplitError::bad_headers);
    for (std::uint16_t start : {0, 19, 21, 24, 60, 3052, 3053, 65535}) {
        VirtioNetHdr bad = h;
        bad.csum_start = start;
        CHECK(split_error(bad, p) == SplitError::bad_checksum_offsets);
    }
    for (std::uint16_t offset : {0, 6, 15, 17, 3000, 65535}) {
        VirtioNetHdr bad = h;
        bad.csum_offset = offset;
        CHECK(split_error(bad, p) == SplitError::bad_checksum_offsets);
    }
}

TEST_CASE("split: IPv6 routing headers and broken extension chains are refused") {
    Spec s = tcp_spec(6, 3000);
    s.ext_headers = {ipv6::ext_routing};
    CHECK(split_error(gso_header(s, 1000), build(s)) == SplitError::bad_headers);
    s.ext_headers = {ipv6::ext_destination};
    s.payload.resize(1000);
    Bytes p = build(s);
    const VirtioNetHdr h = gso_header(s, 1000);
    p[41] = 0xff;  // the header claims 2 KiB
    CHECK(split_error(h, p) == SplitError::bad_headers);
    p = build(s);
    CHECK(split_error(h, Bytes(p.begin(), p.begin() + 44)) == SplitError::bad_headers);
    VirtioNetHdr wrong = h;
    wrong.csum_start = 40;  // skipping the extension header
    CHECK(split_error(wrong, p) == SplitError::bad_checksum_offsets);
}

TEST_CASE("split: more than max_segments is refused; exactly max_segments is not") {
    const Spec s = udp_spec(4, 6400);
    const Bytes p = build(s);
    const VirtioNetHdr h = gso_header(s, 100);
    CHECK(split_error(h, p, 63) == SplitError::too_many_segments);
    const auto plan = plan_split(h, p, 64);
    REQUIRE(plan.has_value());
    CHECK(plan->segments == 64);
    CHECK(plan->header_len == 28);
    CHECK(plan->ip_header_len == 20);
    CHECK(plan->packet_len == p.size());
}

TEST_CASE("split: a segment over 65535 bytes is refused") {
    const Spec s = udp_spec(4, 65535);
    CHECK(split_error(gso_header(s, 65535), build(s)) == SplitError::bad_gso_size);
    CHECK(plan_split(gso_header(s, 65507), build(s), 64).has_value());
}

TEST_CASE("split: write_segment refuses an index out of range, a short buffer, another packet") {
    const Spec s = tcp_spec(4, 3000);
    const Bytes p = build(s);
    const auto plan = plan_split(gso_header(s, 1000), p, 64);
    REQUIRE(plan.has_value());
    CHECK(segment_length(*plan, 2) == 52 + 1000);
    CHECK(segment_length(*plan, 3) == 0);
    Bytes dst(2000, 0xee);
    CHECK(write_segment(*plan, p, 3, dst) == 0);
    CHECK(write_segment(*plan, p, 0, std::span(dst).first(1051)) == 0);
    CHECK(write_segment(*plan, std::span(p).first(p.size() - 1), 0, dst) == 0);
    CHECK(std::all_of(dst.begin(), dst.end(), [](std::uint8_t b) { return b == 0xee; }));
    CHECK(write_segment(*plan, p, 0, std::span(dst).first(1052)) == 1052);
}

TEST_CASE("finish_checksum: a GSO_NONE packet with NEEDS_CSUM gets its full checksum") {
    for (unsigned version : {4u, 6u}) {
        for (bool udp : {false, true}) {
            Spec s = udp ? udp_spec(version, 999) : tcp_spec(version, 999);
            if (version == 6) s.ext_headers = {ipv6::ext_destination};
            Bytes p = build(s);
            VirtioNetHdr h = gso_header(s, 0);
            h.gso_type = gso_none;
            h.hdr_len = 7;  // not read
            REQUIRE(finish_checksum(h, p));
            s.csum = Csum::valid;
            CHECK(p == build(s));
        }
    }
}

TEST_CASE("finish_checksum: nothing to do without NEEDS_CSUM; offsets outside are refused") {
    const Spec s = tcp_spec(4, 100);
    Bytes p = build(s);
    const Bytes before = p;
    VirtioNetHdr h = gso_header(s, 0);
    h.flags = vnet_flag_data_valid;
    CHECK(finish_checksum(h, p));
    CHECK(p == before);
    h.flags = vnet_flag_needs_csum;
    h.csum_start = static_cast<std::uint16_t>(p.size() - 17);
    CHECK_FALSE(finish_checksum(h, p));
    h.csum_start = 65535;
    h.csum_offset = 65535;
    CHECK_FALSE(finish_checksum(h, p));
    CHECK(p == before);
    h.csum_start = static_cast<std::uint16_t>(p.size() - 18);  // the field is the last 2 bytes
    h.csum_offset = 16;
    CHECK(finish_checksum(h, p));
}
