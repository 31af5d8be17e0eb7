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

void Loop::arm_udp_recv() noexcept {
    io_uring_sqe* sqe = new_request();
    if (!sqe) return;  // tried again next turn
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
        if (cqe.res == -ENOBUFS) {
            ++counters_.rearm_enobufs;
        } else if (cqe.res != -ECANCELED) {
            ++counters_.udp_recv_errors;
            if (!udp_recv_armed_)
                back_off(udp_rearm_backoff_, udp_rearm_at_, "UDP receive", cqe.res);
        }
        return;
    }
    if (udp_rearm_backoff_.failures() != 0) udp_rearm_backoff_.reset();
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

void Loop::queue_udp(std::uint32_t slot, const Endpoint& to, bool alone) noexcept {
    udp_batch_.add(*tx_, slot, to, alone, [this](const UdpSend& send) { submit_udp(send); });
}

void Loop::flush_udp() noexcept {
    udp_batch_.flush(*tx_, [this](const UdpSend& send) { submit_udp(send); });
}

void Loop::submit_udp(const UdpSend& send) noexcept {
    io_uring_sqe* sqe = new_request();
    if (!sqe) {
        release_tx_chain(send.head);
        return;
    }
    TxSlot& head = (*tx_)[send.head];
    unsigned n = 0;
    for (std::int32_t i = static_cast<std::int32_t>(send.head); i != no_slot && n < send.count;
         i = (*tx_)[static_cast<std::uint32_t>(i)].next)
        head.batch_iov[n++] = (*tx_)[static_cast<std::uint32_t>(i)].iov;
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
    io_uring_prep_sendmsg(sqe, file_udp, &head.msg, 0);
    sqe->flags |= IOSQE_FIXED_FILE;
    sqe->user_data = tag(Kind::udp_send, head.generation, send.head, static_cast<std::uint16_t>(n));
}

void Loop::on_udp_sent(const io_uring_cqe& cqe) noexcept {
    const ring::UserData ud = ring::decode(cqe.user_data);
    if (!tx_->is_current(ud.slot, ud.generation)) {
        ++counters_.stale_completions;
        return;
    }
    TxSlot& head = (*tx_)[ud.slot];
    const unsigned count = ud.buffer_id;
    const UdpVerdict v =
        stopping_ ? UdpVerdict{}
                  : udp_send_verdict(cqe.res, count, head.batch_to.has_local, head.retries);
    if (v.stop_gso && udp_batch_.gso()) {
        udp_batch_.stop_gso();
        RT_LOG_WARN("UDP GSO refused (%s); sending datagrams one by one", std::strerror(-cqe.res));
    }
    if (v.retry == UdpRetry::without_source) {
        // The sticky source is gone: the device forgets it for every peer that used it, and
        // this batch goes again as it was, minus the source.
        ++counters_.udp_source_retries;
        device_->on_source_unusable(head.batch_to);
        Endpoint to = head.batch_to;
        to.has_local = false;
        head.retries = 1;
        flush_udp();
        head.batch_to = to;
        submit_udp({ud.slot, count, count > 1 ? head.iov.iov_len : 0});
        return;
    }
    if (v.retry == UdpRetry::one_by_one) {
        const Endpoint to = head.batch_to;
        for (std::int32_t i = static_cast<std::int32_t>(ud.slot); i != no_slot;) {
            TxSlot& s = (*tx_)[static_cast<std::uint32_t>(i)];
            const std::int32_t next = s.next;
            s.retries = 2;
            queue_udp(static_cast<std::uint32_t>(i), to, true);
            i = next;
        }
        return;
    }
    release_tx_chain(ud.slot);
    if (cqe.res >= 0) counters_.udp_tx_packets += count - 1u;
    count_io(cqe, counters_.udp_tx_packets, counters_.udp_tx_bytes, counters_.send_errors,
             "UDP send");
}

}  // namespace ringtun::daemon
