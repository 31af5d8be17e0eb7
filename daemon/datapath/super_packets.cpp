// TUN → network with the virtio-net header (Offloads::vnet_hdr): a read is one packet or a
// super-packet of up to 64 KiB that the kernel did not segment (TSO/USO). Each segment is
// written into its own transmit slot — headers rebuilt, payload copied and checksummed in
// one pass (tun/gso_split) — and sealed there, so the read buffer goes back at once and a
// byte is copied once on its way to the UDP socket. The messages of one super-packet go to
// one peer back to back, so UdpBatch sends them in one UDP_SEGMENT sendmsg (or the TCP
// transport in one send).
//
// Read buffers are few and large, and a read may need dozens of slots: a buffer goes back to
// the kernel only while the free data slots cover every buffer the kernel could fill, or the
// kernel has none and every data slot is free (read_credit_ok); otherwise it is parked until
// sends complete, so the TUN backs up into the kernel's queue (and TCP slows down) instead of
// segments being read and then dropped.
#include <cstring>

#include "daemon/datapath/datapath.hpp"
#include "tun/gso_split.hpp"
#include "tun/virtio_net_hdr.hpp"

namespace ringtun::daemon {

void Datapath::on_tun_read(std::span<std::uint8_t> read, std::uint16_t bid,
                           const Now& now) noexcept {
    if (stopping_ || read.size() < tun::vnet_hdr_len) {
        if (!stopping_) ++counters_.tun_bad_offload;
        recycle_tun(bid);
        return;
    }
    const tun::VirtioNetHdr h = tun::read_vnet_hdr(read.data());
    const auto packet = read.subspan(tun::vnet_hdr_len);
    if (h.gso_type == tun::gso_none) {
        if ((h.flags & tun::vnet_flag_needs_csum) && !tun::finish_checksum(h, packet))
            ++counters_.tun_bad_offload;
        else
            send_segment(packet, now);
        recycle_tun(bid);
        return;
    }
    const auto plan = tun::plan_split(h, packet, max_split_segments);
    if (!plan) {
        ++counters_.tun_bad_offload;
        recycle_tun(bid);
        return;
    }
    ++counters_.tun_super_packets;
    for (std::size_t i = 0; i < plan->segments; ++i) {
        const std::size_t length = tun::segment_length(*plan, i);
        const auto tx = take_data_slot(length);
        if (!tx && length > mtu_) continue;  // a shorter last segment may still fit
        if (!tx) {
            // No later segment is longer: each would have found no slot either.
            counters_.tx_slot_exhausted += plan->segments - i - 1;
            break;
        }
        const auto message = slots_.own_message(*tx);
        tun::write_segment(*plan, packet, i, message.subspan(crypto::data_header_len, length));
        seal_and_dispatch(*tx, length, now);
    }
    recycle_tun(bid);
}

void Datapath::send_segment(std::span<const std::uint8_t> packet, const Now& now) noexcept {
    const auto tx = take_data_slot(packet.size());
    if (!tx) return;
    std::memcpy(slots_.own_message(*tx).data() + crypto::data_header_len, packet.data(),
                packet.size());
    seal_and_dispatch(*tx, packet.size(), now);
}

std::optional<std::uint32_t> Datapath::take_data_slot(std::size_t packet_len) noexcept {
    // A slot's buffer holds a message of our MTU: a longer packet (a TUN whose MTU was raised
    // above ours) cannot be sealed in one.
    if (packet_len > mtu_) {
        device_->on_tun_dropped(Drop::tun_oversized, packet_len);
        return std::nullopt;
    }
    const auto tx = slots_.acquire(TxClass::data);
    if (!tx) ++counters_.tx_slot_exhausted;
    return tx;
}

void Datapath::seal_and_dispatch(std::uint32_t tx, std::size_t packet_len,
                                 const Now& now) noexcept {
    const auto message = slots_.own_message(tx);
    const Device::Outbound out = device_->on_tun_packet(message, packet_len, now);
    if (!out.peer) {
        slots_.release(tx);
        return;
    }
    dispatch(tx, *out.peer->endpoint, message.data(), out.length);
}

bool Datapath::read_credit_ok(std::uint32_t held) const noexcept {
    // Every buffer the kernel holds may come back as a super-packet of read_segments_
    // segments; one more buffer may go back if the free data slots cover them all. When the
    // kernel holds none, every data slot free is enough, however few there are ([ring]
    // tx_slots may be below read_segments_): waiting for more would stop the TUN for good.
    const std::uint32_t free = slots_.data_limit() - slots_.data_in_use();
    const auto away = static_cast<std::uint32_t>(parked_.size()) + held;
    const std::uint32_t in_kernel = tun_buffers_ > away ? tun_buffers_ - away : 0;
    return free >= (in_kernel + 1) * read_segments_ ||
           (in_kernel == 0 && free == slots_.data_limit());
}

void Datapath::recycle_tun(std::uint16_t bid) noexcept {
    // Without the header a TUN buffer is carried by its slot (sealed in place); no credit.
    if (!offloads_.vnet_hdr || stopping_ || read_credit_ok(1)) {
        tun_.recycle(bid);
        return;
    }
    parked_.push_back(bid);  // reserved for every buffer: never allocates
}

void Datapath::unpark_tun() noexcept {
    while (!parked_.empty() && (stopping_ || read_credit_ok(0))) {
        tun_.recycle(parked_.back());
        parked_.pop_back();
    }
}

}  // namespace ringtun::daemon
