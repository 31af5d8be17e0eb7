// The UDP side of the loop: the multishot recvmsg on the UDP buffer ring, and the sendmsg of
// each batch the datapath prepared (NetPort).
#include <liburing.h>

#include "daemon/backend/uring/loop.hpp"
#include "daemon/backend/uring/loop_internal.hpp"

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
    udp_recv_cancelled_ = false;
}

void Loop::on_udp_recv(const io_uring_cqe& cqe) noexcept {
    if (!(cqe.flags & IORING_CQE_F_MORE)) udp_recv_armed_ = false;
    const auto bid = udp_buffers_->take(cqe);
    if (!bid) {
        ++counters_.stale_completions;
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
    // The datapath holds the buffer from here and gives it back through recycle_rx().
    datapath_->on_datagrams({payload, len}, gro_segment_size(control), from, *bid, now_);
}

bool Loop::send_udp(std::uint32_t head, unsigned count) noexcept {
    io_uring_sqe* sqe = new_request();
    if (!sqe) return false;
    const TxSlot& h = datapath_->slots()[head];
    io_uring_prep_sendmsg(sqe, file_udp, &h.msg, 0);
    sqe->flags |= IOSQE_FIXED_FILE;
    sqe->user_data = tag(Kind::udp_send, h.generation, head, static_cast<std::uint16_t>(count));
    return true;
}

void Loop::on_udp_sent(const io_uring_cqe& cqe) noexcept {
    const ring::UserData ud = ring::decode(cqe.user_data);
    datapath_->on_udp_sent(ud.slot, ud.generation, ud.buffer_id, cqe.res, now_);
}

}  // namespace ringtun::daemon
