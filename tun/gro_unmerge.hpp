// Undoing a coalesced write: the head packet of a GroTable item whose write the kernel refused
// (EINVAL; offload notes §2 lists kernels with broken GSO writes) made an ordinary packet again,
// so the item's packets can be written one by one. The later packets need nothing: their own
// headers are still in place in front of their payloads.
#pragma once

#include <cstdint>
#include <span>

#include "tun/virtio_net_hdr.hpp"

namespace ringtun::tun {

// `h` is the item's virtio-net header as GroTable::finish() set it (csum_start = the IP header
// length, gso_type TCPV4/TCPV6/UDP_L4) and `head` the whole head packet (headers and its own
// payload). Restores the head's length fields, clears the PSH a later packet lent it, and
// writes its full L4 checksum (and IPv4 header checksum). No effect for gso_none.
void unmerge_head(const VirtioNetHdr& h, std::span<std::uint8_t> head) noexcept;

}  // namespace ringtun::tun
