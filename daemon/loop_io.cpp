// The loop's requests and completion handlers. Every handler gives back the slot and the
// buffer its completion carries, on success and on error; an error on one path re-arms that
// path and never stops another.
#include <liburing.h>

#include <algorithm>
#include <cstring>

#include "daemon/loop.hpp"
#include "daemon/loop_internal.hpp"
#include "daemon/stats.hpp"
#include "daemon/tcp_transport.hpp"
#include "ring/compat.hpp"
#include "util/log.hpp"

namespace ringtun::daemon {

using namespace loop_detail;

namespace {

std::uint64_t tag(Kind k, std::uint16_t generation = 0, std::uint32_t slot = 0,
                  std::uint16_t bid = 0) noexcept {
    return ring::encode({.kind = static_cast<std::uint8_t>(k),
                         .generation = generation,
                         .slot = slot,
                         .buffer_id = bid});
}

std::span<std::uint8_t> as_bytes(std::span<std::byte> s) noexcept {
    return {reinterpret_cast<std::uint8_t*>(s.data()), s.size()};
}

util::log::RateLimit error_log_limit(1, 5);

}  // namespace

void Loop::arm_tun_reads() noexcept {
    if (params_.tun_read_multishot) {
        io_uring_sqe* sqe = ring_->get_sqe();
        ring::prep_read_multishot(sqe, file_tun, tun_group);
        sqe->flags |= IOSQE_FIXED_FILE;
        sqe->user_data = tag(Kind::tun_read);
        tun_reads_in_flight_ = 1;
        return;
    }
    const unsigned n = std::min(params_.tun_rx_slots, tun_buffers_->lent());
    // A link cannot span two submissions: make room so get_sqe() does not submit mid-chain.
    if (io_uring_sq_space_left(&ring_->native()) < n) (void)ring_->submit();
    for (unsigned i = 0; i < n; ++i) {
        io_uring_sqe* sqe = ring_->get_sqe();
        io_uring_prep_read(sqe, file_tun, nullptr, tun_buffers_->buffer_size(), 0);
        // HARDLINK, not LINK: a packet shorter than the buffer is a "short read", which would
        // cut a plain link.
        sqe->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT | (i + 1 < n ? IOSQE_IO_HARDLINK : 0);
        sqe->buf_group = tun_group;
        sqe->user_data = tag(Kind::tun_read);
    }
    tun_reads_in_flight_ = n;
}

void Loop::arm_udp_recv() noexcept {
    io_uring_sqe* sqe = ring_->get_sqe();
    io_uring_prep_recvmsg_multishot(sqe, file_udp, &udp_recv_msg_, 0);
    sqe->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
    sqe->buf_group = udp_group;
    sqe->user_data = tag(Kind::udp_recv);
    udp_recv_armed_ = true;
}

void Loop::arm_signal_read() noexcept {
    io_uring_sqe* sqe = ring_->get_sqe();
    io_uring_prep_read(sqe, file_signal, &signal_byte_, 1, 0);
    sqe->flags |= IOSQE_FIXED_FILE;
    sqe->user_data = tag(Kind::signal);
}

void Loop::on_tun_read(const io_uring_cqe& cqe) noexcept {
    const bool ended = !(cqe.flags & IORING_CQE_F_MORE);
    if (ended && tun_reads_in_flight_ > 0) --tun_reads_in_flight_;
    const auto bid = tun_buffers_->take(cqe);
    if (cqe.res <= 0 || !bid) {
        if (bid) (void)tun_buffers_->recycle(*bid);
        if (cqe.res == -ENOBUFS)
            ++counters_.rearm_enobufs;
        else if (cqe.res == -EAGAIN)
            ++counters_.rearm_eagain;
        else if (cqe.res != -ECANCELED)
            ++counters_.rearm_other;
        return;  // the run loop re-arms while not stopping
    }
    if (stopping_) {
        (void)tun_buffers_->recycle(*bid);
        return;
    }
    // The frame is [prefix | header | packet | pad + tag]; the device sees it from the header.
    // Take the send slot first: once the device seals, a nonce is spent and timers moved.
    const auto slot = tx_pool_->acquire();
    if (!slot) {
        ++counters_.tx_slot_exhausted;
        (void)tun_buffers_->recycle(*bid);
        return;
    }
    const auto frame = as_bytes(tun_buffers_->frame(*bid));
    const Device::Outbound out = device_->on_tun_packet(frame.subspan(frame_prefix),
                                                        static_cast<std::size_t>(cqe.res), now_);
    if (!out.peer) {
        (void)tx_pool_->release(slot->index);
        (void)tun_buffers_->recycle(*bid);
        return;
    }
    tx_[slot->index].generation = slot->generation;
    dispatch_send(slot->index, *out.peer->endpoint, frame.data() + frame_prefix, out.length, *bid);
}

void Loop::on_udp_recv(const io_uring_cqe& cqe) noexcept {
    if (!(cqe.flags & IORING_CQE_F_MORE)) udp_recv_armed_ = false;
    const auto bid = udp_buffers_->take(cqe);
    if (cqe.res <= 0 || !bid) {
        if (bid) (void)udp_buffers_->recycle(*bid);
        if (cqe.res == -ENOBUFS)
            ++counters_.rearm_enobufs;
        else if (cqe.res != -ECANCELED)
            ++counters_.udp_recv_errors;
        return;
    }
    const auto buf = udp_buffers_->buffer(*bid);
    auto* out = io_uring_recvmsg_validate(buf.data(), cqe.res, &udp_recv_msg_);
    if (stopping_ || !out || (out->flags & MSG_TRUNC) || out->namelen > udp_recv_msg_.msg_namelen) {
        if (!stopping_) ++counters_.truncated;
        (void)udp_buffers_->recycle(*bid);
        return;
    }
    msghdr control{};
    control.msg_control =
        reinterpret_cast<std::uint8_t*>(io_uring_recvmsg_name(out)) + udp_recv_msg_.msg_namelen;
    control.msg_controllen = out->controllen;
    const Endpoint from = endpoint_from_datagram(
        static_cast<const sockaddr*>(io_uring_recvmsg_name(out)), out->namelen, control);
    auto* payload = static_cast<std::uint8_t*>(io_uring_recvmsg_payload(out, &udp_recv_msg_));
    const auto len = io_uring_recvmsg_payload_length(out, cqe.res, &udp_recv_msg_);
    ++counters_.udp_rx_packets;
    counters_.udp_rx_bytes += len;
    const auto packet = device_->on_network_packet({payload, len}, from, now_);
    if (packet.empty()) {
        (void)udp_buffers_->recycle(*bid);
        return;
    }
    write_to_tun(packet, *bid);
}

void Loop::write_to_tun(std::span<std::uint8_t> packet, std::uint16_t udp_bid) noexcept {
    io_uring_sqe* sqe = ring_->get_sqe();
    io_uring_prep_write(sqe, file_tun, packet.data(), static_cast<unsigned>(packet.size()), 0);
    sqe->flags |= IOSQE_FIXED_FILE;
    sqe->user_data = tag(Kind::tun_write, 0, 0, udp_bid);
}

void Loop::on_tun_written(const io_uring_cqe& cqe) noexcept {
    (void)udp_buffers_->recycle(ring::decode(cqe.user_data).buffer_id);
    count_io(cqe, counters_.tun_write_packets, counters_.tun_write_bytes,
             counters_.tun_write_errors, "TUN write");
}

bool Loop::release_completed_tx(const io_uring_cqe& cqe) noexcept {
    const ring::UserData ud = ring::decode(cqe.user_data);
    if (ud.slot >= tx_.size() || !tx_pool_->is_current(ud.slot, ud.generation)) {
        ++counters_.stale_completions;
        return false;
    }
    release_tx(ud.slot);
    return true;
}

void Loop::count_io(const io_uring_cqe& cqe, std::uint64_t& packets, std::uint64_t& bytes,
                    std::uint64_t& errors, const char* what) noexcept {
    if (cqe.res >= 0) {
        ++packets;
        bytes += static_cast<std::uint64_t>(cqe.res);
        return;
    }
    if (cqe.res == -ECANCELED) return;
    ++errors;
    if (error_log_limit.allow(now_.mono))
        RT_LOG_WARN("%s failed: %s", what, std::strerror(-cqe.res));
}

std::span<std::uint8_t> Loop::acquire(std::size_t size) noexcept {
    if (size > tx_buffer_size(params_) || stopping_) return {};
    if (pending_tx_ < 0) {
        const auto slot = tx_pool_->acquire();
        if (!slot) {
            ++counters_.tx_slot_exhausted;
            return {};
        }
        pending_tx_ = slot->index;
        tx_[slot->index].generation = slot->generation;
    }
    return {tx_[static_cast<std::size_t>(pending_tx_)].own.get() + frame_prefix, size};
}

void Loop::transmit(const Endpoint& to, std::size_t length) noexcept {
    if (pending_tx_ < 0) return;
    const auto slot = static_cast<std::uint32_t>(pending_tx_);
    pending_tx_ = -1;
    dispatch_send(slot, to, tx_[slot].own.get() + frame_prefix, length, -1);
}

void Loop::dispatch_send(std::uint32_t slot, const Endpoint& to, std::uint8_t* message,
                         std::size_t length, std::int32_t tun_bid) noexcept {
    TxSlot& s = tx_[slot];
    s.tun_bid = tun_bid;
    s.next = -1;
    if (!to.tcp) {
        s.iov = {message, length};
        queue_udp(slot, to);
        return;
    }
    // TCP frame: the 2-byte big-endian length goes into the prefix room before the message.
    message[-2] = static_cast<std::uint8_t>(length >> 8);
    message[-1] = static_cast<std::uint8_t>(length);
    s.iov = {message - frame_prefix, length + frame_prefix};
    if (tcp_)
        tcp_->send(to, slot);
    else
        release_tx(slot);
}

void Loop::release_tx(std::uint32_t slot) noexcept {
    TxSlot& s = tx_[slot];
    if (s.tun_bid >= 0) (void)tun_buffers_->recycle(static_cast<std::uint16_t>(s.tun_bid));
    s.tun_bid = -1;
    (void)tx_pool_->release(slot);
}

void Loop::write_copy_to_tun(std::span<const std::uint8_t> packet) noexcept {
    const auto slot = tx_pool_->acquire();
    if (!slot || packet.size() > tx_buffer_size(params_)) {
        if (slot) (void)tx_pool_->release(slot->index);
        ++counters_.tx_slot_exhausted;
        return;
    }
    TxSlot& s = tx_[slot->index];
    s.generation = slot->generation;
    std::memcpy(s.own.get(), packet.data(), packet.size());
    io_uring_sqe* sqe = ring_->get_sqe();
    io_uring_prep_write(sqe, file_tun, s.own.get(), static_cast<unsigned>(packet.size()), 0);
    sqe->flags |= IOSQE_FIXED_FILE;
    sqe->user_data = tag(Kind::tun_write_tx, s.generation, slot->index);
}

void Loop::on_tun_written_tx(const io_uring_cqe& cqe) noexcept {
    if (release_completed_tx(cqe))
        count_io(cqe, counters_.tun_write_packets, counters_.tun_write_bytes,
                 counters_.tun_write_errors, "TUN write");
}

namespace {

bool same_route(const Endpoint& a, const Endpoint& b) noexcept {
    return a.same_address(b) && a.has_local == b.has_local &&
           std::memcmp(&a.local, &b.local, sizeof a.local) == 0;
}

}  // namespace

void Loop::queue_udp(std::uint32_t slot, const Endpoint& to) noexcept {
    UdpBatch& b = udp_batch_;
    const std::size_t length = tx_[slot].iov.iov_len;
    // GSO cuts the payload into equal segments, only the last may be shorter: a message joins
    // the batch if it is no longer than the segment, and a shorter one closes it.
    const bool joins = b.count > 0 && udp_gso_ && b.count < max_gso_segments &&
                       length <= b.segment && b.bytes + length <= max_gso_bytes &&
                       same_route(b.to, to);
    if (!joins) {
        flush_udp();
        b.head = static_cast<std::int32_t>(slot);
        b.segment = length;
        b.to = to;
    } else {
        tx_[static_cast<std::size_t>(b.tail)].next = static_cast<std::int32_t>(slot);
    }
    b.tail = static_cast<std::int32_t>(slot);
    ++b.count;
    b.bytes += length;
    if (length < b.segment || !udp_gso_) flush_udp();
}

void Loop::flush_udp() noexcept {
    UdpBatch& b = udp_batch_;
    if (b.count == 0) return;
    TxSlot& head = tx_[static_cast<std::size_t>(b.head)];
    head.batch_to = b.to;
    unsigned n = 0;
    for (std::int32_t i = b.head; i >= 0; i = tx_[static_cast<std::size_t>(i)].next)
        head.batch_iov[n++] = tx_[static_cast<std::size_t>(i)].iov;
    head.msg = msghdr{};
    head.msg.msg_iov = head.batch_iov.data();
    head.msg.msg_iovlen = n;
    head.msg.msg_name = &head.addr;
    head.msg.msg_namelen = to_socket_address(b.to, udp_family_, head.addr);
    const auto segment = static_cast<std::uint16_t>(n > 1 ? b.segment : 0);
    if (const std::size_t len = write_send_control(b.to, segment, head.control); len > 0) {
        head.msg.msg_control = head.control;
        head.msg.msg_controllen = len;
    }
    io_uring_sqe* sqe = ring_->get_sqe();
    io_uring_prep_sendmsg(sqe, file_udp, &head.msg, 0);
    sqe->flags |= IOSQE_FIXED_FILE;
    sqe->user_data = tag(Kind::udp_send, head.generation, static_cast<std::uint32_t>(b.head),
                         static_cast<std::uint16_t>(n));
    b = UdpBatch{};
}

void Loop::on_udp_sent(const io_uring_cqe& cqe) noexcept {
    const ring::UserData ud = ring::decode(cqe.user_data);
    if (ud.slot >= tx_.size() || !tx_pool_->is_current(ud.slot, ud.generation)) {
        ++counters_.stale_completions;
        return;
    }
    const bool gso_refused =
        ud.buffer_id > 1 && (cqe.res == -EIO || cqe.res == -EMSGSIZE || cqe.res == -EINVAL);
    if (gso_refused && !stopping_) {
        // The device cannot segment (EIO), or a segment plus headers exceeds the route's MTU
        // (EMSGSIZE): stop batching and resend this batch's datagrams one by one.
        if (udp_gso_) {
            udp_gso_ = false;
            RT_LOG_WARN("UDP GSO refused (%s); sending datagrams one by one",
                        std::strerror(-cqe.res));
        }
        const Endpoint to = tx_[ud.slot].batch_to;
        for (std::int32_t i = static_cast<std::int32_t>(ud.slot); i >= 0;) {
            const std::int32_t next = tx_[static_cast<std::size_t>(i)].next;
            tx_[static_cast<std::size_t>(i)].next = -1;
            queue_udp(static_cast<std::uint32_t>(i), to);
            i = next;
        }
        return;
    }
    for (std::int32_t i = static_cast<std::int32_t>(ud.slot); i >= 0;) {
        const std::int32_t next = tx_[static_cast<std::size_t>(i)].next;
        release_tx(static_cast<std::uint32_t>(i));
        i = next;
    }
    if (cqe.res >= 0) counters_.udp_tx_packets += ud.buffer_id - 1u;
    count_io(cqe, counters_.udp_tx_packets, counters_.udp_tx_bytes, counters_.send_errors,
             "UDP send");
}

void Loop::on_signal(const io_uring_cqe& cqe) noexcept {
    if (cqe.res == 1 && signal_byte_ == 'U') log_statistics();
    if ((cqe.res == 1 && signal_byte_ == 'T') || cqe.res == 0) {
        if (!stopping_) RT_LOG_NOTICE("stopping on signal");
        stopping_ = true;
    }
    if (!stopping_) arm_signal_read();
}

void Loop::log_statistics() const {
    const LoopCounters& c = counters_;
    RT_LOG_NOTICE(
        "stats: udp rx %llu pkts %llu B, udp tx %llu pkts %llu B, tun write %llu pkts "
        "%llu B",
        (unsigned long long)c.udp_rx_packets, (unsigned long long)c.udp_rx_bytes,
        (unsigned long long)c.udp_tx_packets, (unsigned long long)c.udp_tx_bytes,
        (unsigned long long)c.tun_write_packets, (unsigned long long)c.tun_write_bytes);
    RT_LOG_NOTICE(
        "stats: rearm eagain %llu enobufs %llu other %llu; errors send %llu tun_write "
        "%llu udp_recv %llu; tx_slot_exhausted %llu truncated %llu stale %llu; cq "
        "overflow %u",
        (unsigned long long)c.rearm_eagain, (unsigned long long)c.rearm_enobufs,
        (unsigned long long)c.rearm_other, (unsigned long long)c.send_errors,
        (unsigned long long)c.tun_write_errors, (unsigned long long)c.udp_recv_errors,
        (unsigned long long)c.tx_slot_exhausted, (unsigned long long)c.truncated,
        (unsigned long long)c.stale_completions, ring_->cq_overflow());
    if (tcp_) {
        const TcpCounters& t = tcp_->counters();
        RT_LOG_NOTICE(
            "stats: tcp connections %u; accepted %llu dialed %llu refused %llu evicted %llu "
            "connect_failures %llu; closed eof %llu error %llu stalled %llu idle %llu; "
            "protocol zero_length %llu oversized %llu malformed %llu; queue_drops %llu "
            "no_connection %llu; rx %llu B %llu frames, tx %llu B",
            tcp_->connections(), (unsigned long long)t.accepted, (unsigned long long)t.dialed,
            (unsigned long long)t.refused, (unsigned long long)t.evicted,
            (unsigned long long)t.connect_failures, (unsigned long long)t.closed_eof,
            (unsigned long long)t.closed_error, (unsigned long long)t.stalled,
            (unsigned long long)t.idle_closed, (unsigned long long)t.zero_length,
            (unsigned long long)t.oversized, (unsigned long long)t.malformed,
            (unsigned long long)t.queue_drops, (unsigned long long)t.no_connection,
            (unsigned long long)t.rx_bytes, (unsigned long long)t.rx_frames,
            (unsigned long long)t.tx_bytes);
    }
    if (device_) log_device_statistics(*device_);
}

}  // namespace ringtun::daemon
