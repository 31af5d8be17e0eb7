// The UDP side of the loop: the multishot recvmsg on the UDP buffer ring, GSO send batches
// and what a send error means.
#include <liburing.h>

#include <algorithm>
#include <cstring>

#include "daemon/backend/uring/loop.hpp"
#include "daemon/backend/uring/loop_internal.hpp"
#include "daemon/backend/uring/tcp_io.hpp"
#include "daemon/engine/statistics.hpp"
#include "ring/compat.hpp"
#include "util/log.hpp"

namespace ringtun::daemon {

using namespace loop_detail;

namespace {

bool same_route(const Endpoint& a, const Endpoint& b) noexcept {
    return a.same_address(b) && a.has_local == b.has_local &&
           std::memcmp(&a.local, &b.local, sizeof a.local) == 0;
}

}  // namespace

void Loop::arm_udp_recv() noexcept {
    io_uring_sqe* sqe = ring_->get_sqe();
    io_uring_prep_recvmsg_multishot(sqe, file_udp, &udp_recv_msg_, 0);
    sqe->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
    sqe->buf_group = udp_group;
    sqe->user_data = tag(Kind::udp_recv);
    udp_recv_armed_ = true;
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
    const Device::Inbound in = device_->on_network_packet({payload, len}, from, now_);
    if (in.packet.empty()) {
        (void)udp_buffers_->recycle(*bid);
        return;
    }
    write_to_tun(in.packet, *bid);
}

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

}  // namespace ringtun::daemon
