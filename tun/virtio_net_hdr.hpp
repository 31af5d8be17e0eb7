// VirtioNetHdr: the 10-byte header that starts every read() and write() on a TUN opened with
// IFF_VNET_HDR (struct virtio_net_hdr, include/uapi/linux/virtio_net.h), and the TUNSETOFFLOAD
// flags that decide what the kernel may put in it.
//
// Legacy TUN uses the host's byte order for the 16-bit fields (little-endian on x86-64) unless
// TUNSETVNETLE/BE is used, which ringtun does not. The constants are ours, not the uapi
// header's: bookworm's linux-libc-dev (6.1) lacks the USO ones, which arrived in Linux 6.2
// (offload notes, section 1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ringtun::tun {

struct VirtioNetHdr {
    std::uint8_t flags = 0;     // vnet_flag_*
    std::uint8_t gso_type = 0;  // gso_*
    // "Ethernet + IP + tcp/udp headers" on write. On read only a hint of what the kernel keeps
    // linear, up to the whole first packet on the forwarding path: never trusted.
    std::uint16_t hdr_len = 0;
    std::uint16_t gso_size = 0;     // L4 payload bytes per segment (the MSS for TCP)
    std::uint16_t csum_start = 0;   // where checksumming starts: the L4 header
    std::uint16_t csum_offset = 0;  // of the checksum field from csum_start: 16 TCP, 6 UDP

    bool operator==(const VirtioNetHdr&) const = default;
};

inline constexpr std::size_t vnet_hdr_len = 10;

inline constexpr std::uint8_t vnet_flag_needs_csum = 1;  // finish the checksum at csum_*
inline constexpr std::uint8_t vnet_flag_data_valid = 2;  // the checksum was verified

inline constexpr std::uint8_t gso_none = 0;
inline constexpr std::uint8_t gso_tcpv4 = 1;
inline constexpr std::uint8_t gso_udp = 3;  // UFO: legacy, never enabled by ringtun
inline constexpr std::uint8_t gso_tcpv6 = 4;
inline constexpr std::uint8_t gso_udp_l4 = 5;  // USO
inline constexpr std::uint8_t gso_ecn = 0x80;  // with TCP: only if TUN_F_TSO_ECN is on

// TUNSETOFFLOAD bits. The kernel consumes TSO and USO bits only together with tun_f_csum, and
// USO only as uso4|uso6; any bit left over fails the ioctl with EINVAL.
inline constexpr unsigned tun_f_csum = 0x01;
inline constexpr unsigned tun_f_tso4 = 0x02;
inline constexpr unsigned tun_f_tso6 = 0x04;
inline constexpr unsigned tun_f_tso_ecn = 0x08;
inline constexpr unsigned tun_f_uso4 = 0x20;
inline constexpr unsigned tun_f_uso6 = 0x40;

// Reads the header at p (vnet_hdr_len bytes, any alignment).
inline VirtioNetHdr read_vnet_hdr(const std::uint8_t* p) noexcept {
    VirtioNetHdr h;
    h.flags = p[0];
    h.gso_type = p[1];
    std::memcpy(&h.hdr_len, p + 2, 2);
    std::memcpy(&h.gso_size, p + 4, 2);
    std::memcpy(&h.csum_start, p + 6, 2);
    std::memcpy(&h.csum_offset, p + 8, 2);
    return h;
}

// Writes the header to p (vnet_hdr_len bytes, any alignment).
inline void write_vnet_hdr(const VirtioNetHdr& h, std::uint8_t* p) noexcept {
    p[0] = h.flags;
    p[1] = h.gso_type;
    std::memcpy(p + 2, &h.hdr_len, 2);
    std::memcpy(p + 4, &h.gso_size, 2);
    std::memcpy(p + 6, &h.csum_start, 2);
    std::memcpy(p + 8, &h.csum_offset, 2);
}

}  // namespace ringtun::tun
