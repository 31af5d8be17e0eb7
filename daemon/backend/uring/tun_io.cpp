// The TUN side of the loop: reads (one multishot read or a chain of hard-linked reads) into
// the TUN buffer ring, the hand-off of each packet to the device, and writes of opened packets.
#include <liburing.h>

#include <algorithm>
#include <cstring>

#include "daemon/backend/uring/loop.hpp"
#include "daemon/backend/uring/loop_internal.hpp"
#include "ring/compat.hpp"

namespace ringtun::daemon {

using namespace loop_detail;

void Loop::arm_tun_reads() noexcept {
    if (params_.tun_read_multishot) {
        io_uring_sqe* sqe = new_request();
        if (!sqe) return;  // tried again next turn
        ring::prep_read_multishot(sqe, file_tun, tun_group);
        sqe->flags |= IOSQE_FIXED_FILE;
        sqe->user_data = tag(Kind::tun_read);
        tun_reads_in_flight_ = 1;
        return;
    }
    const unsigned n = std::min(params_.tun_rx_slots, tun_buffers_->lent());
    // A link cannot span two submissions: make room so get_sqe() does not submit mid-chain.
    if (io_uring_sq_space_left(&ring_->native()) < n) (void)ring_->submit();
    io_uring_sqe* previous = nullptr;
    unsigned armed = 0;
    for (unsigned i = 0; i < n; ++i) {
        io_uring_sqe* sqe = new_request();
        if (!sqe) {
            // The chain ends here: a link flag on its last entry would tie it to whatever
            // is submitted next.
            if (previous) previous->flags &= static_cast<std::uint8_t>(~IOSQE_IO_HARDLINK);
            break;
        }
        previous = sqe;
        ++armed;
        io_uring_prep_read(sqe, file_tun, nullptr, tun_buffers_->buffer_size(), 0);
        // HARDLINK, not LINK: a packet shorter than the buffer is a "short read", which would
        // cut a plain link.
        sqe->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT | (i + 1 < n ? IOSQE_IO_HARDLINK : 0);
        sqe->buf_group = tun_group;
        sqe->user_data = tag(Kind::tun_read);
    }
    tun_reads_in_flight_ = armed;
}

void Loop::end_tun_read(const io_uring_cqe& cqe) noexcept {
    // A multishot read, or a read of the chain, ended: the run loop re-arms once none is left.
    if (!(cqe.flags & IORING_CQE_F_MORE) && tun_reads_in_flight_ > 0) --tun_reads_in_flight_;
}

void Loop::on_tun_read(const io_uring_cqe& cqe) noexcept {
    end_tun_read(cqe);
    const auto bid = tun_buffers_->take(cqe);
    if (!bid) {
        ++counters_.stale_completions;
        return;
    }
    if (tun_rearm_backoff_.failures() != 0) tun_rearm_backoff_.reset();
    const auto length = static_cast<std::size_t>(cqe.res);
    if (stopping_ || length > tun_buffers_->buffer_size()) {
        // More than the buffer: the kernel reports the length it could not copy (a packet
        // over 64 KiB is not possible; without the header this is the TUN MTU raised above
        // ours, which on_tun_packet detects from the IP header instead).
        if (!stopping_) ++counters_.truncated;
        (void)tun_buffers_->recycle(*bid);
        return;
    }
    if (params_.offloads.vnet_hdr)
        datapath_->on_tun_read(as_bytes(tun_buffers_->buffer(*bid)).first(length), *bid, now_);
    else
        datapath_->on_tun_packet(as_bytes(tun_buffers_->frame(*bid)), length, *bid, now_);
}

bool Loop::write(std::uint32_t slot, std::uint16_t generation,
                 std::span<const iovec> pieces) noexcept {
    io_uring_sqe* sqe = new_request();
    if (!sqe) return false;
    io_uring_prep_writev(sqe, file_tun, pieces.data(), static_cast<unsigned>(pieces.size()), 0);
    sqe->flags |= IOSQE_FIXED_FILE;
    sqe->user_data = tag(Kind::tun_write, generation, slot);
    return true;
}

void Loop::on_tun_written(const io_uring_cqe& cqe) noexcept {
    const ring::UserData ud = ring::decode(cqe.user_data);
    datapath_->on_tun_written(ud.slot, ud.generation, cqe.res);
}

void Loop::write_copy_to_tun(std::span<const std::uint8_t> packet) noexcept {
    const auto copy = copies_ ? copies_->acquire() : std::nullopt;
    const std::span<std::uint8_t> room =
        copy ? copies_->buffer(copy->index) : std::span<std::uint8_t>{};
    // A TUN with the virtio-net header takes a zeroed one first: no offload, the kernel
    // checks the checksums.
    const std::size_t header = params_.offloads.vnet_hdr ? tun::vnet_hdr_len : 0;
    if (!copy || header + packet.size() > room.size()) {
        if (copy) (void)copies_->release(copy->index, copy->generation);
        ++counters_.tcp_to_tun_no_buffer;
        return;
    }
    io_uring_sqe* sqe = new_request();
    if (!sqe) {
        (void)copies_->release(copy->index, copy->generation);
        return;
    }
    std::memset(room.data(), 0, header);
    std::memcpy(room.data() + header, packet.data(), packet.size());
    io_uring_prep_write(sqe, file_tun, room.data(), static_cast<unsigned>(header + packet.size()),
                        0);
    sqe->flags |= IOSQE_FIXED_FILE;
    sqe->user_data = tag(Kind::tun_write_copy, copy->generation, copy->index);
}

void Loop::on_tun_written_copy(const io_uring_cqe& cqe) noexcept {
    const ring::UserData ud = ring::decode(cqe.user_data);
    if (!copies_ || !copies_->release(ud.slot, ud.generation)) {
        ++counters_.stale_completions;
        return;
    }
    ++counters_.tun_write_packets;
    counters_.tun_write_bytes += static_cast<std::uint64_t>(cqe.res);
}

}  // namespace ringtun::daemon
