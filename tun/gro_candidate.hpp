// GRO candidates: which decrypted IP packets may be coalesced before a TUN write, what makes
// two of them one flow, and which header bytes must be equal for one to follow the other
// (offload notes, section 2 "handleGRO" and section 6; wireguard-go's packetIsGROCandidate,
// tcpGRO, udpGRO and tcpPacketsCanCoalesce, which follow the kernel's tools/testing/selftests/
// net/gro.c). GroTable (gro.hpp) applies these rules to a batch.
//
// A candidate is
//   - IPv4 with IHL 5 (no options), total length == buffer length, not a fragment (MF clear,
//     offset 0); or IPv6 with payload length + 40 == buffer length and TCP or UDP as its next
//     header (any extension header disqualifies);
//   - TCP: data offset 5..15 and inside the packet, flags exactly ACK or ACK|PSH (no SYN, FIN,
//     RST, URG, ECE, CWR), the four bits before them (reserved and AccECN's AE) clear, and at
//     least one payload byte;
//   - UDP, only if the caller enables it: length field == what follows the IP header, a
//     non-zero checksum (the kernel will not GRO a zero one either) and at least one payload
//     byte.
// Its flow key: IP version, protocol, addresses, ports and, for TCP, the ACK number ("varying
// ack values should not be coalesced").
//
// Pure functions over byte spans: no allocation, no syscalls, no exceptions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace ringtun::tun {

struct FlowKey {
    std::array<std::uint8_t, 32> addrs{};  // source then destination; IPv4 uses 8 bytes
    std::uint32_t ports = 0;               // source << 16 | destination
    std::uint32_t ack = 0;                 // TCP's ACK number; 0 for UDP
    std::uint8_t version = 0;              // 4 or 6
    std::uint8_t proto = 0;                // proto_tcp or proto_udp

    bool operator==(const FlowKey&) const = default;
};

// What coalescing needs to know about a candidate.
struct GroPacket {
    FlowKey key;
    std::size_t ip_header_len = 0;  // 20 or 40
    std::size_t header_len = 0;     // IP + L4 header
    std::size_t payload_len = 0;    // >= 1
    std::uint32_t seq = 0;          // TCP
    bool psh = false;               // TCP
};

// The packet as a candidate, or nullopt. `udp`: UDP packets may be candidates (the TUN
// accepted USO).
std::optional<GroPacket> parse_gro_candidate(std::span<const std::uint8_t> packet,
                                             bool udp) noexcept;

// True if the IP version and addresses of `packet` are known and equal to `key`'s. A packet
// that is no candidate uses it to close the items of its host pair (see gro.hpp).
bool same_host_pair(std::span<const std::uint8_t> packet, const FlowKey& key) noexcept;

// True if `b` may follow `a` in one item as far as their headers go (a and b share a flow
// key): equal header lengths and TCP option bytes (so timestamps must match); IPv4: equal
// TOS (ECN included), TTL and DF/reserved bits; IPv6: equal traffic class and hop limit. The
// IPv4 ID, the IPv6 flow label and the TCP window are not compared (as in wireguard-go): a
// merged packet carries the first one's.
bool gro_headers_match(std::span<const std::uint8_t> a, const GroPacket& pa,
                       std::span<const std::uint8_t> b, const GroPacket& pb) noexcept;

// Verifies the candidate's checksums: the IPv4 header checksum, and the L4 checksum over
// pseudo-header, header and payload.
bool gro_checksums_valid(std::span<const std::uint8_t> packet, const GroPacket& p) noexcept;

}  // namespace ringtun::tun
