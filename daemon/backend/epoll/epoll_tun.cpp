// The TUN side of the readiness loop: reads into free TUN buffers, handed to the datapath as
// they come, and writes of opened packets (TunPort), whose results wait for settle().
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "daemon/backend/epoll/epoll_loop.hpp"

namespace ringtun::daemon {

namespace {

// Packets read per wake-up before the other sources get their turn.
constexpr int read_budget = 64;

std::span<std::uint8_t> as_bytes(std::span<std::byte> s) noexcept {
    return {reinterpret_cast<std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

void EpollLoop::read_tun() noexcept {
    const bool vnet = params_.offloads.vnet_hdr;
    for (int i = 0; i < read_budget && !stopping_; ++i) {
        const auto bid = tun_buffers_->take();
        if (!bid) return pause_tun();  // they come back as sends complete
        const auto room = tun_buffers_->buffer(*bid);
        const ssize_t n = ::read(tun_fd_, room.data(), room.size());
        if (n <= 0) {
            const int error = n < 0 ? errno : 0;
            (void)tun_buffers_->recycle(*bid);
            if (n < 0 && error != EAGAIN && error != EINTR) tun_read_failed(error);
            return;
        }
        ++counters_.tun_reads;
        const auto length = static_cast<std::size_t>(n);
        if (vnet)
            datapath_->on_tun_read(as_bytes(room).first(length), *bid, now_);
        else
            datapath_->on_tun_packet(as_bytes(tun_buffers_->frame(*bid)), length, *bid, now_);
    }
}

void EpollLoop::tun_read_failed(int error) noexcept {
    ++counters_.tun_read_errors;
    if (error == EBADFD) {
        stop_for_tun();
    } else if (tun_log_limit_.allow(now_.boot)) {
        RT_LOG_WARN("TUN read: %s", std::strerror(error));
    }
}

void EpollLoop::stop_for_tun() noexcept {
    if (stopping_) return;
    RT_LOG_NOTICE("stopping: the TUN device is gone (EBADFD: its interface was deleted)");
    stop_reason_ = StopReason::tun_gone;
    stopping_ = true;
}

void EpollLoop::tun_write_failed(int error, bool count) noexcept {
    if (count) ++counters_.tun_write_errors;
    if (error == EBADFD) return stop_for_tun();
    if (tun_log_limit_.allow(now_.boot)) RT_LOG_WARN("TUN write failed: %s", std::strerror(error));
}

void EpollLoop::pause_tun() noexcept {
    epoll_event ev{};
    ev.data.u64 = std::uint64_t{static_cast<std::uint8_t>(Source::tun)} << 56;
    tun_paused_ = ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, tun_fd_, &ev) == 0;
}

void EpollLoop::resume_reads() noexcept {
    if (tun_paused_ && tun_buffers_->available() != 0) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = std::uint64_t{static_cast<std::uint8_t>(Source::tun)} << 56;
        tun_paused_ = ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, tun_fd_, &ev) != 0;
    }
    if (udp_paused_ && udp_buffers_->available() != 0) {
        udp_paused_ = false;
        update_udp_interest();
    }
}

void EpollLoop::recycle(std::uint16_t bid) noexcept {
    (void)tun_buffers_->recycle(bid);
}

bool EpollLoop::write(std::uint32_t slot, std::uint16_t generation,
                      std::span<const iovec> pieces) noexcept {
    if (stopping_) return false;
    ssize_t n;
    do {
        n = ::writev(tun_fd_, pieces.data(), static_cast<int>(pieces.size()));
    } while (n < 0 && errno == EINTR);
    // A failure reaches the datapath as a result, like an io_uring completion's; what it
    // means is decided when the result is delivered (deliver_done).
    const int result = n < 0 ? -errno : static_cast<int>(n);
    done_.push_back(
        {.udp = false, .slot = slot, .generation = generation, .count = 0, .result = result});
    return true;
}

}  // namespace ringtun::daemon
