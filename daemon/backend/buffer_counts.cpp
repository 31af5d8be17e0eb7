#include "daemon/backend/buffer_counts.hpp"

#include <algorithm>
#include <bit>

#include "daemon/datapath/layout.hpp"
#include "tun/virtio_net_hdr.hpp"

namespace ringtun::daemon {

unsigned tun_buffer_count(const LoopParams& p) noexcept {
    // With the virtio-net header a read may be a 64 KiB super-packet, copied out into transmit
    // slots at once: a few buffers keep the TUN busy, and the datapath's read credit parks
    // them when slots run short.
    if (p.offloads.vnet_hdr) {
        // As many as the data slots can take at once in the worst case, so the read credit
        // rarely parks one; at least two, so one is always being filled.
        const auto per_read = static_cast<unsigned>((0xffff + p.mtu - 81) / (p.mtu - 80));
        return std::clamp(std::bit_floor(std::max(p.tx_slots / per_read, 1u)), 2u,
                          tun_super_buffers);
    }
    // Otherwise each TUN buffer stays out until its send completes, so the TUN ring holds no
    // more buffers than there are data send slots: when sends back up, TUN reads run dry
    // (-ENOBUFS) and the TUN queue pushes back on the sender, instead of packets being read
    // and then dropped for want of a slot.
    return std::min(std::bit_floor(std::max(p.tx_slots, 1u)), max_buffers);
}

std::uint32_t tun_buffer_size(const LoopParams& p) noexcept {
    return p.offloads.vnet_hdr ? static_cast<std::uint32_t>(tun::vnet_hdr_len + 0xffff)
                               : static_cast<std::uint32_t>(p.mtu);
}

unsigned tx_slot_count(const LoopParams& p) noexcept {
    return p.tx_slots + control_tx_reserve;
}

unsigned udp_buffer_count(const LoopParams& p) noexcept {
    // 64 KiB buffers with UDP GRO: fewer of them, each holding up to 64 datagrams.
    if (p.udp_rx_slots == 0) return p.offloads.udp_gro ? 64 : 256;
    return p.udp_rx_slots;
}

bool tun_writes_batched(const LoopParams& p) noexcept {
    return p.offloads.tun_gro || p.offloads.udp_gro;
}

unsigned tun_write_count(const LoopParams& p) noexcept {
    return tun_writes_batched(p) ? tun_batch_write_slots : udp_buffer_count(p);
}

std::uint32_t udp_payload_size(const LoopParams& p) noexcept {
    return p.offloads.udp_gro ? 0xffff
                              : static_cast<std::uint32_t>(layout::largest_peer_message(p.mtu));
}

}  // namespace ringtun::daemon
