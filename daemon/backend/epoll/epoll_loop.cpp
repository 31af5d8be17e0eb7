// The readiness loop's setup, its run/shutdown sequence and the dispatch of events; the TUN
// and UDP paths are in epoll_tun.cpp and epoll_udp.cpp.
#include "daemon/backend/epoll/epoll_loop.hpp"

#include <fcntl.h>
#include <sys/epoll.h>

#include <algorithm>
#include <cstring>

#include "daemon/backend/buffer_counts.hpp"
#include "daemon/backend/clock.hpp"
#include "daemon/backend/epoll/epoll_stream_server.hpp"
#include "daemon/backend/epoll/epoll_tcp.hpp"
#include "daemon/backend/stream_connection.hpp"
#include "daemon/backend/stream_sessions.hpp"
#include "daemon/datapath/layout.hpp"
#include "tun/virtio_net_hdr.hpp"

namespace ringtun::daemon {

namespace {

constexpr Nanos max_wait = crypto::seconds_ns(1);
constexpr int max_events = 64;
constexpr std::uint16_t server_control = 0, server_metrics = 1;

std::uint64_t epoll_data(std::uint8_t source, std::uint16_t index, std::uint32_t id) noexcept {
    return std::uint64_t{source} << 56 | std::uint64_t{index} << 32 | id;
}

}  // namespace

util::Result<void> set_nonblocking(int fd) {
    const int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
        return util::fail(util::sys_error("fcntl O_NONBLOCK", errno));
    return {};
}

EpollLoop::EpollLoop(const LoopParams& params, UdpSocket udp, int tun_fd, int signal_fd)
    : params_(params), udp_(std::move(udp)), tun_fd_(tun_fd), signal_fd_(signal_fd) {}

EpollLoop::~EpollLoop() = default;

util::Result<std::unique_ptr<EpollLoop>> EpollLoop::create(const LoopParams& params, int tun_fd,
                                                           UdpSocket udp, util::SignalPipe& signals,
                                                           TcpSetup tcp, ControlSetup control,
                                                           MetricsSetup metrics) {
    std::unique_ptr<EpollLoop> loop(
        new EpollLoop(params, std::move(udp), tun_fd, signals.read_fd()));
    if (auto r = loop->setup(std::move(tcp), std::move(control), std::move(metrics)); !r)
        return util::fail(r.error());
    return loop;
}

util::Result<void> EpollLoop::watch(int fd, std::uint32_t events, std::uint64_t data) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = data;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
        return util::fail(util::sys_error("epoll_ctl", errno));
    return {};
}

void EpollLoop::make_buffers() {
    const bool vnet = params_.offloads.vnet_hdr;
    tun_buffers_ =
        std::make_unique<PacketPool>(tun_buffer_count(params_), tun_buffer_size(params_),
                                     vnet ? 0u : static_cast<std::uint32_t>(layout::headroom),
                                     vnet ? 0u : static_cast<std::uint32_t>(layout::tailroom));
    udp_buffers_ =
        std::make_unique<PacketPool>(udp_buffer_count(params_), udp_payload_size(params_));
    datapath_ =
        std::make_unique<Datapath>(Datapath::Params{.mtu = params_.mtu,
                                                    .tx_slots = params_.tx_slots,
                                                    .control_reserve = control_tx_reserve,
                                                    .udp_family = udp_.family,
                                                    .offloads = params_.offloads,
                                                    .tun_buffers = tun_buffers_->count(),
                                                    .rx_buffers = udp_buffers_->count(),
                                                    .tun_write_slots = tun_write_count(params_)},
                                   *this, *this);
    // Every send and write that can be outstanding at once has its place already.
    done_.reserve(tx_slot_count(params_) + tun_write_count(params_) + 64);
    udp_queue_.resize(tx_slot_count(params_));
    send_vec_.resize(64);
    const unsigned batch = std::min(64u, udp_buffers_->count());
    recv_vec_.resize(batch);
    recv_bids_.resize(batch);
    recv_names_.resize(batch);
    recv_controls_.resize(batch);
    recv_iovs_.resize(batch);
}

util::Result<void> EpollLoop::setup(TcpSetup tcp, ControlSetup control, MetricsSetup metrics) {
    epoll_ = util::UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) return util::fail(util::sys_error("epoll_create1", errno));
    for (int fd : {tun_fd_, udp_.fd.get()})
        if (auto r = set_nonblocking(fd); !r) return r;
    make_buffers();
    for (const auto& [fd, source] : {std::pair{tun_fd_, Source::tun},
                                     {udp_.fd.get(), Source::udp},
                                     {signal_fd_, Source::signal}})
        if (auto r = watch(fd, EPOLLIN, epoll_data(std::uint8_t(source), 0, 0)); !r) return r;
    const std::uint8_t stream = static_cast<std::uint8_t>(Source::stream);
    if (control.listener >= 0)
        servers_[server_control] =
            std::make_unique<EpollStreamServer>(*this, epoll_data(stream, server_control, 0),
                                                "control", control_limits, std::move(control));
    if (metrics.listener >= 0)
        servers_[server_metrics] = std::make_unique<EpollStreamServer>(
            *this, epoll_data(stream, server_metrics, 0), "metrics", metrics_limits,
            ControlSetup{.listener = metrics.listener, .watch = -1, .still_ours = {}});
    for (auto& s : servers_)
        if (s)
            if (auto r = s->start(); !r) return r;
    if (tcp.enabled()) {
        tcp_ = std::make_unique<EpollTcp>(*this, tcp.listener, std::move(tcp.dial),
                                          epoll_data(std::uint8_t(Source::tcp), 0, 0));
        if (auto r = tcp_->start(); !r) return r;
    }
    metrics_interface_ = std::move(metrics.interface);
    RT_LOG_NOTICE(
        "loop: epoll; %u TUN buffers of %u bytes, %u UDP buffers of %u bytes, %u tx "
        "slots; offloads: %s",
        tun_buffers_->count(), tun_buffers_->buffer_size(), udp_buffers_->count(),
        udp_buffers_->buffer_size(), tx_slot_count(params_), params_.offloads.describe().c_str());
    return {};
}

Nanos EpollLoop::next_wait() const noexcept {
    Nanos deadline = std::min(device_->next_deadline(), timed_.next());
    for (const auto& s : servers_)
        if (s) deadline = std::min(deadline, s->next_deadline());
    if (tcp_) deadline = std::min(deadline, tcp_->transport().next_deadline());
    if (work_left_) return 0;  // settle() stopped at its bound: another turn at once
    return deadline <= now_.boot ? 0 : std::min<Nanos>(deadline - now_.boot, max_wait);
}

util::Result<RunEnd> EpollLoop::run(Device& device, RunHooks hooks) {
    device_ = &device;
    hooks_ = std::move(hooks);
    datapath_->bind(device, tcp_ ? &tcp_->transport() : nullptr);
    if (tcp_) tcp_->transport().bind(device);
    start_serving();
    if (hooks_.link_watch >= 0) {
        if (auto r =
                watch(hooks_.link_watch, EPOLLIN, epoll_data(std::uint8_t(Source::link), 0, 0));
            !r) {
            RT_LOG_WARN("link watch: %s; the link is not watched", r.error().to_string().c_str());
            hooks_.link_watch = -1;
        }
    }
    now_ = read_clock();
    device.start(now_);
    timed_.start(hooks_, now_.boot);
    std::array<epoll_event, max_events> events{};
    bool failed = false;
    while (!stopping_) {
        if (tcp_) tcp_->transport().arm(now_.boot);
        settle();
        const Nanos wait = next_wait();
        // Round up: a timeout of 0 ms for a deadline 0.4 ms away would spin until it passes.
        const int ms = static_cast<int>((wait + 999'999) / 1'000'000);
        const int n = ::epoll_wait(epoll_.get(), events.data(), max_events, ms);
        if (n < 0 && errno != EINTR) {
            RT_LOG_ERROR("epoll_wait: %s", std::strerror(errno));
            stopping_ = true;
            failed = true;  // leave through the drain: slots and buffers come back
            break;
        }
        now_ = read_clock();
        ++counters_.wakeups;
        turn(events.data(), std::max(n, 0));
    }
    datapath_->stop();
    if (hooks_.on_stopping) hooks_.on_stopping();
    RunEnd end{.reason = stop_reason_};
    stop_and_drain(end.cancelled);
    device_ = nullptr;
    if (failed) return util::fail(util::make_error("epoll", "the loop failed; see above"));
    return end;
}

void EpollLoop::dispatch(const epoll_event& event) noexcept {
    const std::uint64_t data = event.data.u64;
    switch (static_cast<Source>(data >> 56)) {
        case Source::tun:
            return read_tun();
        case Source::udp:
            if (event.events & EPOLLOUT) set_udp_writable_wait(false);
            if (event.events & (EPOLLIN | EPOLLERR)) receive_udp();
            return;
        case Source::signal:
            return on_signal();
        case Source::link:
            return on_link();
        case Source::stream: {
            const auto index = static_cast<std::uint16_t>(data >> 32);
            if (index < servers_.size() && servers_[index])
                servers_[index]->on_event(static_cast<std::uint32_t>(data), event.events);
            return;
        }
        case Source::tcp:
            if (tcp_) tcp_->on_event(data & ((std::uint64_t{1} << 48) - 1), event.events);
            return;
    }
}

void EpollLoop::turn(const epoll_event* events, int n) noexcept {
    for (int i = 0; i < n; ++i)
        dispatch(events[i]);
    Device& device = *device_;
    if (device.next_deadline() <= now_.boot) device.on_timers(now_);
    timed_.run_due(hooks_, device, *this, now_);
    for (auto& s : servers_)
        if (s) s->sweep(now_.boot);
    if (tcp_) tcp_->transport().sweep(now_.boot);
    if (servers_[server_control] && servers_[server_control]->socket_gone() && !stopping_) {
        RT_LOG_NOTICE("stopping: the control socket file was deleted or replaced");
        stop_reason_ = StopReason::control_socket_gone;
        stopping_ = true;
    }
}

void EpollLoop::settle() noexcept {
    // Each round may free slots (and so unpark TUN reads and start TCP batches) and queue
    // more: bounded, for fairness; what is left makes the next wait return at once.
    work_left_ = false;
    for (int round = 0; round < 8; ++round) {
        datapath_->flush();
        send_queued();
        const bool tcp_results = tcp_ && tcp_->deliver();
        if (done_.empty() && !tcp_results) break;
        deliver_done();
    }
    datapath_->flush();  // what the last round's results queued goes out before the wait
    send_queued();
    work_left_ = !done_.empty() || (tcp_ && tcp_->results_pending()) ||
                 (udp_queued_ != 0 && !udp_waiting_writable_);
    resume_reads();
}

void EpollLoop::deliver_done() noexcept {
    // Delivering may add results (a TUN write of a packet a refused coalesced write held):
    // they are delivered in the same pass.
    for (std::size_t i = 0; i < done_.size(); ++i) {
        const Done d = done_[i];
        if (d.udp) {
            datapath_->on_udp_sent(d.slot, d.generation, d.count, d.result, now_);
        } else if (!datapath_->on_tun_written(d.slot, d.generation, d.result) && d.result < 0) {
            tun_write_failed(-d.result, false);  // TunWrites counted the packets it lost
        }
    }
    done_.clear();
}

void EpollLoop::start_serving() {
    // Connections are served only while run() has the device.
    if (auto& s = servers_[server_control])
        s->serve([this] {
            return uapi_session(*device_, *this,
                                [this](control::DeviceConfig& c) { return reload_through(c); });
        });
    if (auto& s = servers_[server_metrics])
        s->serve([this] {
            return metrics_session(*device_, metrics_interface_,
                                   [this](control::MetricsText& m) { write_metrics(m); });
        });
}

void EpollLoop::stop_and_drain(unsigned& cancelled) noexcept {
    // Nothing is in the kernel's hands: what waits here is all there is.
    cancelled = static_cast<unsigned>(udp_queued_);
    for (std::size_t i = 0; i < udp_queued_; ++i) {
        const QueuedSend q = queued(i);
        done_.push_back({.udp = true,
                         .slot = q.head,
                         .generation = q.generation,
                         .count = q.count,
                         .result = -ECANCELED});
    }
    udp_queued_ = 0;
    deliver_done();
    if (tcp_) tcp_->close_all();
    for (auto& s : servers_)
        if (s) s->close_all();
    // The io_uring loop's line, for the same readers: here only queued sends are "in flight".
    RT_LOG_NOTICE(
        "shutdown: %u requests in flight, %u cancelled, 0 left; %u TUN and %u UDP "
        "buffers held, %u tx slots in use",
        cancelled, cancelled, tun_buffers_->held(), udp_buffers_->held(),
        datapath_->slots().in_use());
}

}  // namespace ringtun::daemon
