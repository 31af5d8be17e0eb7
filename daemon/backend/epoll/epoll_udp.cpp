// The UDP side of the readiness loop: recvmmsg into free receive buffers, each datagram (or
// UDP GRO run) handed to the datapath with its source, local address and segment size; and
// the datapath's send batches (NetPort), queued and sent with sendmmsg at the end of the turn.
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "daemon/backend/epoll/epoll_loop.hpp"

namespace ringtun::daemon {

namespace {

// recvmmsg calls per wake-up before the other sources get their turn.
constexpr int receive_budget = 4;

}  // namespace

unsigned EpollLoop::prepare_receive() noexcept {
    unsigned n = 0;
    for (; n < recv_vec_.size(); ++n) {
        const auto bid = udp_buffers_->take();
        if (!bid) break;  // the rest are out: they come back as packets are written
        recv_bids_[n] = *bid;
        const auto room = udp_buffers_->buffer(*bid);
        recv_iovs_[n] = {room.data(), room.size()};
        msghdr& m = recv_vec_[n].msg_hdr;
        m = {};
        m.msg_name = &recv_names_[n];
        m.msg_namelen = sizeof(sockaddr_in6);
        m.msg_iov = &recv_iovs_[n];
        m.msg_iovlen = 1;
        m.msg_control = recv_controls_[n].bytes;
        m.msg_controllen = sizeof recv_controls_[n].bytes;
    }
    return n;
}

void EpollLoop::receive_udp() noexcept {
    for (int call = 0; call < receive_budget && !stopping_; ++call) {
        const unsigned n = prepare_receive();
        if (n == 0) return pause_udp();
        const int got = ::recvmmsg(udp_.fd.get(), recv_vec_.data(), n, MSG_DONTWAIT, nullptr);
        const int error = got < 0 ? errno : 0;
        ++counters_.udp_receive_calls;
        const unsigned used = got > 0 ? static_cast<unsigned>(got) : 0;
        for (unsigned i = used; i < n; ++i)
            (void)udp_buffers_->recycle(recv_bids_[i]);
        if (got < 0) {
            if (error != EAGAIN && error != EINTR) {
                ++counters_.udp_recv_errors;
                if (udp_log_limit_.allow(now_.boot))
                    RT_LOG_WARN("UDP receive: %s", std::strerror(error));
            }
            return;
        }
        for (unsigned i = 0; i < used; ++i)
            hand_over(i);
        // The TUN writes of this batch are done: their slots and buffers come back before the
        // next batch needs them (outside any datapath call).
        deliver_done();
        if (used < n) return;  // the socket is drained
    }
}

void EpollLoop::hand_over(unsigned i) noexcept {
    const msghdr& m = recv_vec_[i].msg_hdr;
    if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        ++counters_.truncated;
        (void)udp_buffers_->recycle(recv_bids_[i]);
        return;
    }
    const Endpoint from =
        endpoint_from_datagram(static_cast<const sockaddr*>(m.msg_name), m.msg_namelen, m);
    const auto payload = udp_buffers_->buffer(recv_bids_[i]);
    // The datapath holds the buffer from here and gives it back through recycle_rx().
    datapath_->on_datagrams({reinterpret_cast<std::uint8_t*>(payload.data()), recv_vec_[i].msg_len},
                            gro_segment_size(m), from, recv_bids_[i], now_);
}

void EpollLoop::recycle_rx(std::uint16_t bid) noexcept {
    (void)udp_buffers_->recycle(bid);
}

bool EpollLoop::send_udp(std::uint32_t head, unsigned count) noexcept {
    // Every queued send holds a transmit slot: the queue, as large as the slots, is never full.
    if (stopping_ || udp_queued_ == udp_queue_.size()) return false;
    udp_queue_[(udp_queue_head_ + udp_queued_++) % udp_queue_.size()] = {
        .head = head,
        .generation = datapath_->slots()[head].generation,
        .count = static_cast<std::uint16_t>(count)};
    return true;
}

EpollLoop::QueuedSend EpollLoop::queued(std::size_t i) const noexcept {
    return udp_queue_[(udp_queue_head_ + i) % udp_queue_.size()];
}

void EpollLoop::send_queued() noexcept {
    while (udp_queued_ != 0 && !udp_waiting_writable_) {
        const std::size_t n = std::min(send_vec_.size(), udp_queued_);
        for (std::size_t i = 0; i < n; ++i) {
            send_vec_[i].msg_hdr = datapath_->slots()[queued(i).head].msg;
            send_vec_[i].msg_len = 0;
        }
        const int sent =
            ::sendmmsg(udp_.fd.get(), send_vec_.data(), static_cast<unsigned>(n), MSG_DONTWAIT);
        ++counters_.udp_send_calls;
        if (sent < 0 && errno == EINTR) continue;
        if (sent < 0 && errno == EAGAIN) {
            // The socket buffer is full: the rest waits, in order, for room.
            ++counters_.udp_send_blocked;
            set_udp_writable_wait(true);
            break;
        }
        // A failure is the first message's (later ones were not tried): it goes back to the
        // datapath with the error, as a failed sendmsg completion would.
        const std::size_t done = sent < 0 ? 1 : static_cast<std::size_t>(sent);
        for (std::size_t i = 0; i < done; ++i) {
            const QueuedSend q = queued(i);
            done_.push_back({.udp = true,
                             .slot = q.head,
                             .generation = q.generation,
                             .count = q.count,
                             .result = sent < 0 ? -errno : static_cast<int>(send_vec_[i].msg_len)});
        }
        udp_queue_head_ = (udp_queue_head_ + done) % udp_queue_.size();
        udp_queued_ -= done;
    }
}

void EpollLoop::set_udp_writable_wait(bool on) noexcept {
    if (udp_waiting_writable_ == on) return;
    udp_waiting_writable_ = on;
    update_udp_interest();
}

void EpollLoop::pause_udp() noexcept {
    udp_paused_ = true;
    update_udp_interest();
}

void EpollLoop::update_udp_interest() noexcept {
    epoll_event ev{};
    ev.events = (udp_paused_ ? 0u : std::uint32_t{EPOLLIN}) |
                (udp_waiting_writable_ ? std::uint32_t{EPOLLOUT} : 0u);
    ev.data.u64 = std::uint64_t{static_cast<std::uint8_t>(Source::udp)} << 56;
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, udp_.fd.get(), &ev);
}

}  // namespace ringtun::daemon
