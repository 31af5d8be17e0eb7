// GroTable: coalesces the decrypted packets of one batch, flow by flow, into super-packets
// that one TUN write each delivers with a virtio-net header (offload notes, section 2
// "handleGRO", section 6 pitfalls 2, 3, 5-8). The candidate and pairwise rules are in
// gro_candidate.hpp; this file holds the batch.
//
// Appending: a candidate joins the newest item of its flow key if
//   - that item is open: its tail was a full gso_size segment without PSH (a shorter segment,
//     or a PSH segment, is the last one an item takes; a PSH packet may be appended as the last
//     and then sets PSH on the merged head);
//   - gro_headers_match(head, packet); its payload is at most gso_size (the head's payload);
//   - TCP: seq == the head's seq + the payload bytes the item holds;
//   - the item stays within 65535 bytes of IP packet and max_segments segments (the kernel
//     refuses a UDP_L4 write over gso_size * UDP_MAX_SEGMENTS, 64 portably);
//   - with verify_checksums: the head's and the packet's checksums are valid (checked when the
//     first merge needs them; gro_checksums_valid).
// Otherwise it starts a new item, which becomes its flow's newest: only the newest item of a
// flow is ever considered, so nothing is reordered within a flow. A candidate whose checksum
// is bad gets an item that takes nothing, so it is written alone with flags 0 and the kernel
// verifies (and drops) it. A packet that is no candidate gets such an item too, and closes the
// items of its IP host pair, so no later packet of its flow is written before it.
// There is no prepending: packets a flow delivers out of order are written as they come.
//
// Checksum policy (verify_checksums):
//   - true (the daemon's default, [offload] tun_gro_checksums; as wireguard-go): a merged packet is written with NEEDS_CSUM, which the
//     kernel takes as "trusted, compute when needed" (CHECKSUM_PARTIAL), so a corrupt segment
//     would be delivered with its checksum "fixed". Verifying every component first keeps the
//     end-to-end check.
//   - false ("trust"; as kernel WireGuard, which marks
//     decrypted packets CHECKSUM_UNNECESSARY: "We've already verified the Poly1305 auth tag"):
//     the AEAD covers the peer's bytes, so only a peer that sent bad checksums itself loses the
//     check. Saves a pass over each payload.
//
// Buffers: packets are not copied. The table keeps spans into the caller's buffers, which must
// stay valid and unchanged (but for what finish() rewrites in the head packets) until the
// caller has written the results. All storage is allocated by the constructor; add(), finish()
// and clear() never allocate. Not thread-safe.
//
// Per batch:  add()* -> finish() -> write item(0..size()-1) in order -> clear().
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "tun/gro_candidate.hpp"
#include "tun/virtio_net_hdr.hpp"

namespace ringtun::tun {

struct GroParams {
    std::size_t max_flows = 64;     // items per batch
    std::size_t max_segments = 64;  // packets per item
    bool udp = false;               // coalesce UDP too: only when the TUN accepted USO
    bool verify_checksums = true;   // see "Checksum policy" above
};

class GroTable {
  public:
    // One TUN write: `hdr`, then `pieces` in order: the whole head packet, then each later
    // packet's payload (its headers are left out). tags[i] is the tag of the packet pieces[i]
    // came from.
    struct Item {
        VirtioNetHdr hdr;
        std::span<const iovec> pieces;
        std::span<const std::uint32_t> tags;
    };

    // All storage (max_flows items of max_segments pieces each) is allocated here.
    explicit GroTable(const GroParams& params);
    GroTable(const GroTable&) = delete;
    GroTable& operator=(const GroTable&) = delete;

    // Offers one decrypted IP packet with an opaque caller tag (e.g. its receive buffer).
    // Returns the index of the item it now belongs to: an existing one it was appended to, or
    // a new one. nullopt when it would need a new item and max_flows items exist, or after
    // finish(): the caller writes it alone. Once add() has refused a packet it refuses every
    // packet until clear(), so writing the items first and then the refused packets in the
    // order offered keeps every flow in order.
    [[nodiscard]] std::optional<std::uint32_t> add(std::span<std::uint8_t> packet,
                                                   std::uint32_t tag) noexcept;

    // Items so far.
    std::size_t size() const noexcept { return count_; }

    // Ends the batch: for every item of more than one packet, rewrites the head packet's
    // headers in place (IPv4 total length and header checksum, or IPv6 payload length; UDP
    // length; the TCP/UDP checksum field = the pseudo-header sum, NOT complemented; PSH if the
    // last packet had it) and sets its virtio-net header (NEEDS_CSUM; gso_type TCPV4, TCPV6
    // or UDP_L4; hdr_len = IP + L4 header; gso_size = the head's payload; csum_start = the IP
    // header's length; csum_offset 16 or 6). An item of one packet keeps it untouched, with
    // an all-zero header.
    void finish() noexcept;

    // Item `index` (< size()), valid after finish() until clear(); empty if out of range.
    Item item(std::uint32_t index) const noexcept;

    // Forgets the batch, for the next one.
    void clear() noexcept;

    const GroParams& params() const noexcept { return params_; }

  private:
    struct Entry {
        std::uint8_t* head = nullptr;
        std::size_t head_len = 0;
        GroPacket first;             // the head as parsed; first.key is meaningless unless keyed
        bool keyed = false;          // a candidate: found by its flow key
        bool open = false;           // may take another packet
        bool head_verified = false;  // its checksums were checked
        bool psh = false;            // the last packet appended had PSH
        std::size_t payload = 0;     // bytes of payload held, head included
        std::uint32_t segments = 0;
        VirtioNetHdr hdr{};
    };

    std::optional<std::uint32_t> start_item(std::span<std::uint8_t> packet, std::uint32_t tag,
                                            const GroPacket* candidate, bool open) noexcept;
    std::optional<std::uint32_t> newest_of(const FlowKey& key) const noexcept;
    // Why `packet` cannot join `e`; checksums last, as they cost a pass over the bytes.
    enum class Join : std::uint8_t { yes, no, bad_head, bad_packet };
    Join can_join(Entry& e, std::span<const std::uint8_t> packet, const GroPacket& g) noexcept;
    void append(std::uint32_t index, std::span<std::uint8_t> packet, const GroPacket& g,
                std::uint32_t tag) noexcept;
    void close_host_pair(std::span<const std::uint8_t> packet) noexcept;
    void finish_merged(Entry& e) noexcept;
    std::size_t first_piece(std::uint32_t index) const noexcept {
        return index * params_.max_segments;
    }

    GroParams params_;
    std::vector<Entry> entries_;
    std::vector<iovec> pieces_;  // max_segments per entry
    std::vector<std::uint32_t> tags_;
    std::size_t count_ = 0;
    bool refusing_ = false;  // a packet was refused, or finish() ran: refuse until clear()
};

}  // namespace ringtun::tun
