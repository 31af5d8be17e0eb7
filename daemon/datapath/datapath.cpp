#include "daemon/datapath/datapath.hpp"

#include <cerrno>
#include <cstring>

#include "daemon/datapath/udp_cmsg.hpp"

namespace ringtun::daemon {

namespace {

// How many segments a TUN read of up to 64 KiB may be cut into: TCP over our MTU carries at
// least mtu - 80 bytes per segment (IPv6 and a full set of common options).
std::uint32_t segments_per_read(std::size_t mtu) noexcept {
    const std::size_t payload = mtu > 160 ? mtu - 80 : 80;
    return static_cast<std::uint32_t>((0xffff + payload - 1) / payload);
}

}  // namespace

Datapath::Datapath(const Params& p, TunPort& tun, NetPort& net)
    : mtu_(p.mtu),
      offloads_(p.offloads),
      slots_({.data = p.tx_slots, .control_reserve = p.control_reserve, .mtu = p.mtu}),
      tun_writes_({.slots = p.tun_write_slots,
                   .rx_buffers = p.rx_buffers,
                   .vnet_hdr = p.offloads.vnet_hdr,
                   .gro = p.offloads.tun_gro,
                   .gro_udp = p.offloads.tun_uso,
                   .gro_verify = p.offloads.gro_verify},
                  tun, net),
      tun_buffers_(p.tun_buffers),
      read_segments_(segments_per_read(p.mtu)),
      tun_(tun),
      net_(net),
      udp_family_(p.udp_family) {
    parked_.reserve(p.tun_buffers);
    if (!p.offloads.udp_gso) batch_.stop_gso();
}

void Datapath::bind(Device& device, StreamPort* stream) noexcept {
    device_ = &device;
    stream_ = stream;
}

void Datapath::stop() noexcept {
    stopping_ = true;
    flush();
    unpark_tun();
}

void Datapath::on_tun_packet(std::span<std::uint8_t> frame, std::size_t length, std::uint16_t bid,
                             const Now& now) noexcept {
    // Take the send slot first: once the device seals, a nonce is spent and timers moved.
    const auto tx = stopping_ ? std::nullopt : slots_.acquire(TxClass::data);
    if (!tx) {
        if (!stopping_) ++counters_.tx_slot_exhausted;
        tun_.recycle(bid);
        return;
    }
    const auto message = frame.subspan(layout::prefix);
    const Device::Outbound out = device_->on_tun_packet(message, length, now);
    if (!out.peer) {
        slots_.release(*tx);
        tun_.recycle(bid);
        return;
    }
    slots_[*tx].tun_bid = bid;
    dispatch(*tx, *out.peer->endpoint, message.data(), out.length);
}

void Datapath::on_datagrams(std::span<std::uint8_t> payload, std::size_t segment,
                            const Endpoint& from, std::uint16_t rx, const Now& now) noexcept {
    tun_writes_.hold(rx);
    if (segment == 0 || segment >= payload.size()) {
        segment = payload.size();
    } else {
        ++counters_.udp_rx_coalesced;
    }
    // At least once: an empty datagram is a message too (a malformed one, counted).
    std::size_t at = 0;
    do {
        const auto message = payload.subspan(at, std::min(segment, payload.size() - at));
        ++counters_.udp_rx_packets;
        counters_.udp_rx_bytes += message.size();
        const Device::Inbound in = device_->on_network_packet(message, from, now);
        if (!in.packet.empty()) tun_writes_.add(in.packet, rx);
        at += segment;
    } while (at < payload.size() && !stopping_);
    tun_writes_.release(rx);
}

TxBuffer Datapath::acquire(std::size_t size, TxClass c) noexcept {
    if (size > slots_.message_capacity() || stopping_) return {};
    const auto tx = slots_.acquire(c);
    if (!tx) {
        ++counters_.tx_slot_exhausted;
        return {};
    }
    return {*tx, slots_.own_message(*tx).first(size)};
}

void Datapath::commit(const TxBuffer& b, const Endpoint& to, std::size_t length) noexcept {
    dispatch(b.handle, to, slots_.own_message(b.handle).data(), length);
}

void Datapath::cancel(const TxBuffer& b) noexcept {
    release(b.handle);
}

void Datapath::dispatch(std::uint32_t tx, const Endpoint& to, std::uint8_t* message,
                        std::size_t length) noexcept {
    TxSlot& s = slots_[tx];
    s.next = no_slot;
    if (!to.tcp) {
        s.iov = {message, length};
        queue_udp(tx, to);
        return;
    }
    // Every message fits the 2-byte length: conf bounds the MTU, the layout the rest.
    if (length > layout::max_framed_message || !stream_) {
        ++counters_.unframeable;
        release(tx);
        return;
    }
    layout::write_prefix(message, length);
    s.iov = {message - layout::prefix, length + layout::prefix};
    stream_->send(to, tx);
}

void Datapath::queue_udp(std::uint32_t tx, const Endpoint& to, bool alone) noexcept {
    batch_.add(slots_, tx, to, alone, [this](const UdpSend& send) { submit_udp(send); });
}

void Datapath::flush() noexcept {
    batch_.flush([this](const UdpSend& send) { submit_udp(send); });
    if (stream_) stream_->flush();
    tun_writes_.flush();
}

void Datapath::submit_udp(const UdpSend& send) noexcept {
    TxSlot& head = slots_[send.head];
    unsigned n = 0;
    for (std::int32_t i = static_cast<std::int32_t>(send.head); i != no_slot && n < send.count;
         i = slots_[static_cast<std::uint32_t>(i)].next)
        head.batch_iov[n++] = slots_[static_cast<std::uint32_t>(i)].iov;
    head.msg = msghdr{};
    head.msg.msg_iov = head.batch_iov.data();
    head.msg.msg_iovlen = n;
    head.msg.msg_name = &head.addr;
    head.msg.msg_namelen = to_socket_address(head.batch_to, udp_family_, head.addr);
    const auto segment = static_cast<std::uint16_t>(send.segment);
    if (const std::size_t len = write_send_control(head.batch_to, segment, head.control); len > 0) {
        head.msg.msg_control = head.control;
        head.msg.msg_controllen = len;
    }
    if (!net_.send_udp(send.head, n)) release_chain(send.head);
}

void Datapath::on_udp_sent(std::uint32_t head, std::uint16_t generation, unsigned count, int result,
                           const Now& now) noexcept {
    if (!slots_.is_current(head, generation)) {
        ++counters_.stale_completions;
        return;
    }
    TxSlot& h = slots_[head];
    const UdpVerdict v =
        stopping_ ? UdpVerdict{} : udp_send_verdict(result, count, h.batch_to.has_local, h.retries);
    if (v.stop_gso) ++counters_.udp_gso_refused;
    if (v.stop_gso && batch_.gso()) {
        batch_.stop_gso();
        RT_LOG_WARN("UDP GSO refused (%s); sending datagrams one by one", std::strerror(-result));
    }
    if (v.retry == UdpRetry::without_source) {
        // The sticky source is gone: the device forgets it for every peer that used it, and
        // this batch goes again as it was, minus the source.
        ++counters_.udp_source_retries;
        device_->on_source_unusable(h.batch_to);
        flush();
        h.batch_to.has_local = false;
        h.retries |= udp_retry_no_source;
        submit_udp({head, count, count > 1 ? h.iov.iov_len : 0});
        return;
    }
    if (v.retry == UdpRetry::one_by_one) {
        const Endpoint to = h.batch_to;
        const std::uint8_t retries = h.retries | udp_retry_split;
        for (std::int32_t i = static_cast<std::int32_t>(head); i != no_slot;) {
            TxSlot& s = slots_[static_cast<std::uint32_t>(i)];
            const std::int32_t next = s.next;
            s.retries = retries;
            queue_udp(static_cast<std::uint32_t>(i), to, true);
            i = next;
        }
        return;
    }
    release_chain(head);
    if (result >= 0) {
        if (count > 1) ++counters_.udp_gso_batches;
        counters_.udp_tx_packets += count;
        counters_.udp_tx_bytes += static_cast<std::uint64_t>(result);
    } else if (result != -ECANCELED) {
        counters_.send_errors += count;  // datagrams lost, as udp_tx counts datagrams sent
        if (log_limit_.allow(now.boot)) RT_LOG_WARN("UDP send failed: %s", std::strerror(-result));
    }
}

void Datapath::release(std::uint32_t tx) noexcept {
    if (const std::int32_t bid = slots_.release(tx); bid >= 0)
        tun_.recycle(static_cast<std::uint16_t>(bid));
    unpark_tun();
}

void Datapath::release_chain(std::uint32_t head) noexcept {
    slots_.release_chain(head, [this](std::uint16_t bid) { tun_.recycle(bid); });
    unpark_tun();
}

}  // namespace ringtun::daemon
