// Transmit slots: lending a slot to the device, handing a framed message to its transport
// and freeing the slot (and the TUN buffer it carried) when the send completes.
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

TxBuffer Loop::acquire(std::size_t size, TxClass c) noexcept {
    if (size > tx_->message_capacity() || stopping_) return {};
    const auto slot = tx_->acquire(c);
    if (!slot) {
        ++counters_.tx_slot_exhausted;
        return {};
    }
    return {*slot, tx_->own_message(*slot).first(size)};
}

void Loop::commit(const TxBuffer& b, const Endpoint& to, std::size_t length) noexcept {
    dispatch_send(b.handle, to, tx_->own_message(b.handle).data(), length, -1);
}

void Loop::cancel(const TxBuffer& b) noexcept {
    release_tx(b.handle);
}

void Loop::dispatch_send(std::uint32_t slot, const Endpoint& to, std::uint8_t* message,
                         std::size_t length, std::int32_t tun_bid) noexcept {
    TxSlot& s = (*tx_)[slot];
    s.tun_bid = tun_bid;
    s.next = no_slot;
    if (!to.tcp) {
        s.iov = {message, length};
        queue_udp(slot, to);
        return;
    }
    // Every message fits the 2-byte length: conf bounds the MTU, the layout the rest.
    if (length > layout::max_framed_message) {
        ++counters_.tx_slot_exhausted;
        release_tx(slot);
        return;
    }
    layout::write_prefix(message, length);
    s.iov = {message - layout::prefix, length + layout::prefix};
    if (tcp_)
        tcp_->transport().send(to, slot);
    else
        release_tx(slot);
}

void Loop::release_tx(std::uint32_t slot) noexcept {
    if (const std::int32_t bid = tx_->release(slot); bid >= 0)
        (void)tun_buffers_->recycle(static_cast<std::uint16_t>(bid));
}

void Loop::release_tx_chain(std::uint32_t head) noexcept {
    tx_->release_chain(head, [this](std::uint16_t bid) { (void)tun_buffers_->recycle(bid); });
}

io_uring_sqe* Loop::new_request() noexcept {
    if (stopping_) {
        ++counters_.refused_while_stopping;
        return nullptr;
    }
    io_uring_sqe* sqe = ring_->get_sqe();
    if (!sqe) ++counters_.no_sqe;
    return sqe;
}

bool Loop::release_completed_tx(const io_uring_cqe& cqe) noexcept {
    const ring::UserData ud = ring::decode(cqe.user_data);
    if (!tx_->is_current(ud.slot, ud.generation)) {
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
    if (error_log_limit_.allow(now_.boot))
        RT_LOG_WARN("%s failed: %s", what, std::strerror(-cqe.res));
}

}  // namespace ringtun::daemon
