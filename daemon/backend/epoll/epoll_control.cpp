// What the readiness loop does for the control plane: the signal pipe (stop, statistics,
// reload), the link watch, the socket settings a UAPI set request changes
// (control::SocketSettings), and its statistics and metrics.
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "daemon/backend/epoll/epoll_loop.hpp"
#include "daemon/backend/epoll/epoll_tcp.hpp"
#include "daemon/backend/link_reads.hpp"
#include "daemon/backend/path_metrics.hpp"
#include "daemon/backend/tcp_shared.hpp"
#include "daemon/engine/statistics.hpp"
#include "tun/link_watch.hpp"

namespace ringtun::daemon {

using control::UapiError;

void EpollLoop::on_signal() noexcept {
    char bytes[16];
    const ssize_t n = ::read(signal_fd_, bytes, sizeof bytes);
    for (ssize_t i = 0; i < n; ++i) {
        if (bytes[i] == util::SignalPipe::kUser1) log_statistics();
        if (bytes[i] == util::SignalPipe::kReload && !stopping_) reload();
        if (bytes[i] == util::SignalPipe::kResolved && !stopping_)
            TimedHooks::run_names(hooks_, *device_, *this, now_);
        if (bytes[i] == util::SignalPipe::kTerminate) {
            if (!stopping_) RT_LOG_NOTICE("stopping on signal");
            stopping_ = true;
        }
    }
}

void EpollLoop::on_link() noexcept {
    alignas(8) std::array<std::uint8_t, tun::LinkWatch::kDatagramBytes> buf;
    for (int i = 0; i < 16; ++i) {
        const ssize_t n = ::recv(hooks_.link_watch, buf.data(), buf.size(), MSG_DONTWAIT);
        switch (take_link_read(hooks_, buf, n < 0 ? -errno : n, stopping_)) {
            case LinkRead::more:
                continue;
            case LinkRead::idle:
                return;
            case LinkRead::ended:
                (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, hooks_.link_watch, nullptr);
                hooks_.link_watch = -1;
                return;
        }
    }
}

void EpollLoop::reload() noexcept {
    if (!hooks_.on_reload) {
        RT_LOG_NOTICE("SIGHUP: no configuration file to reload; ignored");
        return;
    }
    control::DeviceConfig config(*device_, *this);  // a session of its own
    (void)reload_through(config);
}

std::optional<std::string> EpollLoop::reload_through(control::DeviceConfig& config) {
    if (!hooks_.on_reload) return "no configuration file to reload";
    config.set_now(now_);
    return hooks_.on_reload(config, now_);
}

// The new socket is bound before the old one goes, so a port that cannot be had changes
// nothing (-EADDRINUSE). Queued sends leave from the new socket.
UapiError EpollLoop::set_listen_port(std::uint16_t port) {
    auto fresh = UdpSocket::open(port);
    if (!fresh) {
        RT_LOG_WARN("listen port %u: %s", port, fresh.error().to_string().c_str());
        return UapiError::address_in_use;
    }
    if (fresh->family != udp_.family) return UapiError::io;
    if (params_.offloads.udp_gro) {
        if (auto r = fresh->enable_gro(); !r) {
            RT_LOG_WARN("listen port %u: %s", port, r.error().to_string().c_str());
            return UapiError::io;
        }
    }
    const int fd = fresh->fd.get();
    if (fwmark_ != 0 && ::setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark_, sizeof fwmark_) != 0)
        return UapiError::address_in_use;
    epoll_event ev{};
    ev.events = (udp_paused_ ? 0u : std::uint32_t{EPOLLIN}) |
                (udp_waiting_writable_ ? std::uint32_t{EPOLLOUT} : 0u);
    ev.data.u64 = std::uint64_t{static_cast<std::uint8_t>(Source::udp)} << 56;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return UapiError::io;
    if (auto r = set_nonblocking(fd); !r) return UapiError::io;
    RT_LOG_NOTICE("UDP port %u (was %u)", fresh->port, udp_.port);
    udp_ = std::move(*fresh);  // the old socket, closed, leaves the epoll set
    return UapiError::none;
}

UapiError EpollLoop::set_fwmark(std::uint32_t mark) {
    if (::setsockopt(udp_.fd.get(), SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0) {
        RT_LOG_WARN("fwmark %u: %s", mark, std::strerror(errno));
        return UapiError::address_in_use;  // what wireguard-go answers when SO_MARK fails
    }
    if (tcp_) tcp_->set_mark(mark);
    fwmark_ = mark;
    return UapiError::none;
}

void EpollLoop::forget_peer(Peer& peer) noexcept {
    tcp_forget_peer(tcp_ ? &tcp_->transport() : nullptr, peer);
}

bool EpollLoop::dials(const Peer& peer) const noexcept {
    return tcp_dials(tcp_ ? &tcp_->transport() : nullptr, peer);
}

UapiError EpollLoop::redial(const Peer& peer, const Endpoint& now) {
    return tcp_redial(tcp_ ? &tcp_->transport() : nullptr, peer, now);
}

void EpollLoop::log_statistics() const {
    const DatapathCounters& d = datapath_->counters();
    const TunWriteCounters& w = datapath_->tun_writes().counters();
    const EpollCounters& c = counters_;
    RT_LOG_NOTICE(
        "stats: udp rx %llu pkts %llu B, udp tx %llu pkts %llu B, tun write %llu pkts "
        "%llu B; epoll wake-ups %llu, TUN reads %llu, recvmmsg %llu, sendmmsg %llu "
        "(blocked %llu); errors send %llu tun_write %llu udp_recv %llu tun_read %llu; "
        "truncated %llu",
        (unsigned long long)d.udp_rx_packets, (unsigned long long)d.udp_rx_bytes,
        (unsigned long long)d.udp_tx_packets, (unsigned long long)d.udp_tx_bytes,
        (unsigned long long)w.packets, (unsigned long long)w.bytes, (unsigned long long)c.wakeups,
        (unsigned long long)c.tun_reads, (unsigned long long)c.udp_receive_calls,
        (unsigned long long)c.udp_send_calls, (unsigned long long)c.udp_send_blocked,
        (unsigned long long)d.send_errors, (unsigned long long)(c.tun_write_errors + w.errors),
        (unsigned long long)c.udp_recv_errors, (unsigned long long)c.tun_read_errors,
        (unsigned long long)c.truncated);
    log_offload_statistics(*datapath_);
    if (tcp_) log_tcp_statistics(tcp_->transport());
    if (device_) log_device_statistics(*device_);
}

void EpollLoop::write_metrics(control::MetricsText& m) const {
    const EpollCounters& c = counters_;
    write_path_metrics(*datapath_,
                       {.tun_written_packets = tcp_ ? tcp_->tun_packets() : 0,
                        .tun_written_bytes = tcp_ ? tcp_->tun_bytes() : 0,
                        .udp_receive_errors = c.udp_recv_errors,
                        .tun_write_errors = c.tun_write_errors,
                        .tun_read_errors = c.tun_read_errors},
                       m);
    write_labelled(m, "ringtun_loop_events_total",
                   "Conditions of the epoll loop worth watching: each should stay at or near "
                   "zero.",
                   "event", {{"truncated", c.truncated}});
    write_labelled(m, "ringtun_epoll_calls_total",
                   "System calls of the epoll loop, by kind (sendmmsg_full: those that found "
                   "the socket buffer full and wait for room).",
                   "call",
                   {{"epoll_wait", c.wakeups},
                    {"tun_read", c.tun_reads},
                    {"recvmmsg", c.udp_receive_calls},
                    {"sendmmsg", c.udp_send_calls},
                    {"sendmmsg_full", c.udp_send_blocked}});
    if (tcp_) write_tcp_metrics(tcp_->transport(), m);
}

}  // namespace ringtun::daemon
