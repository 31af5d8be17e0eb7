// What every path of the loop shares: new requests (refused while stopping) and TUN buffers
// given back by the datapath.
#include <liburing.h>

#include "daemon/backend/uring/loop.hpp"
#include "daemon/backend/uring/loop_internal.hpp"

namespace ringtun::daemon {

using namespace loop_detail;

void Loop::recycle(std::uint16_t bid) noexcept {
    (void)tun_buffers_->recycle(bid);
}

void Loop::recycle_rx(std::uint16_t bid) noexcept {
    (void)udp_buffers_->recycle(bid);
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

}  // namespace ringtun::daemon
