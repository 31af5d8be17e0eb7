// Loop setup, the run/shutdown sequence and the completion dispatch; the per-kind handlers
// are in loop_io.cpp.
#include "daemon/backend/uring/loop.hpp"

#include <time.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

#include "daemon/backend/clock.hpp"
#include "daemon/backend/stream_sessions.hpp"
#include "daemon/backend/uring/loop_internal.hpp"
#include "daemon/backend/uring/loop_ring.hpp"
#include "daemon/backend/uring/stream_server.hpp"
#include "daemon/backend/uring/tcp_io.hpp"
#include "ring/compat.hpp"
#include "util/log.hpp"

namespace ringtun::daemon {

using namespace loop_detail;

namespace {

unsigned round_up_pow2(unsigned v) noexcept {
    return std::bit_ceil(std::max(v, 1u));
}

unsigned rearm_watermark(const ring::BufferRing& b) noexcept {
    return std::max(1u, b.count() / 8);
}

}  // namespace

std::size_t udp_buffer_size(const LoopParams& p) noexcept {
    // UDP GRO hands over up to 64 KiB of coalesced datagrams at once.
    const std::size_t payload = udp_payload_size(p);
    const std::size_t raw =
        sizeof(io_uring_recvmsg_out) + udp_name_room + udp_control_space + payload;
    return (raw + 63) / 64 * 64;
}

std::size_t buffer_memory(const LoopParams& p) noexcept {
    const std::size_t tun =
        std::size_t{tun_buffer_count(p)} *
        (tun_buffer_size(p) + (p.offloads.vnet_hdr ? 0 : layout::headroom + layout::tailroom));
    const std::size_t udp = std::size_t{udp_buffer_count(p)} * udp_buffer_size(p);
    const std::size_t tx = std::size_t{tx_slot_count(p)} * layout::frame_size(p.mtu);
    return tun + udp + tx;
}

Loop::Loop(const LoopParams& params, UdpSocket udp)
    : params_(params), udp_(std::move(udp)), udp_family_(udp_.family) {}

Loop::~Loop() = default;

util::Result<LoopParams> Loop::size(const LoopParams& params, bool tcp_enabled) {
    LoopParams p = params;
    // With SQPOLL the kernel thread may not have read a connection's last requests when the
    // connection is closed and its fd and buffers are reused; the TCP transport needs them
    // read at submit.
    if (tcp_enabled && p.sqpoll_idle_ms != 0)
        return util::fail(
            util::make_error("[ring] sqpoll_idle_ms",
                             "SQPOLL cannot be used with the TCP transport (listen_tcp_port "
                             "or a peer with transport = \"tcp\"); set it to 0"));
    if (p.udp_rx_slots != 0)
        p.udp_rx_slots = std::min(round_up_pow2(p.udp_rx_slots), ring::BufferRing::kMaxCount);
    p.tcp_rx_buffers = std::min(round_up_pow2(p.tcp_rx_buffers), 1024u);
    const unsigned cq = std::min(p.entries * cq_factor, 65536u);  // the kernel clamps it there
    const unsigned tun_reads = p.tun_read_multishot ? 1 : p.tun_rx_slots;
    // Completions that can be pending at once: one per buffer of each ring, one per send,
    // plus the TUN reads, the signal read, the UAPI socket's and cancellations; with TCP, per
    // connection its buffers, a send and a connect, plus the accept.
    const unsigned tcp_pending =
        tcp_enabled ? p.tcp_max_connections * (p.tcp_rx_buffers + 2) + 1 + tcp_copy_buffers : 0;
    // Bounds that hold whichever offloads the kernel grants at start (check cannot know):
    // the larger of each count with and without them.
    LoopParams without = p;
    without.offloads = {};
    const unsigned tun_buffers = std::max(tun_buffer_count(p), tun_buffer_count(without));
    const unsigned udp_buffers = std::max(udp_buffer_count(p), udp_buffer_count(without));
    const unsigned tun_writes = p.may_offload ? tun_batch_write_slots : 0;
    const unsigned worst = tun_buffers + udp_buffers + tx_slot_count(p) + tun_writes + tun_reads +
                           tcp_pending + max_pending(control_limits) + max_pending(metrics_limits) +
                           8;
    if (worst > cq) {
        return util::fail(util::make_error(
            "[ring]", "entries = " + std::to_string(p.entries) + " gives a completion queue of " +
                          std::to_string(cq) + " but up to " + std::to_string(worst) +
                          " completions can be pending (tx_slots " + std::to_string(p.tx_slots) +
                          " + their TUN buffers, UDP buffers " + std::to_string(udp_buffers) +
                          ", TUN writes " + std::to_string(tun_writes) + ", TUN reads " +
                          std::to_string(tun_reads) + ", TCP " + std::to_string(tcp_pending) +
                          "); raise entries to " +
                          std::to_string(round_up_pow2((worst + cq_factor - 1) / cq_factor)) +
                          " or lower the slot counts"));
    }
    return p;
}

util::Result<std::unique_ptr<Loop>> Loop::create(const LoopParams& params, int tun_fd,
                                                 UdpSocket udp, util::SignalPipe& signals,
                                                 TcpSetup tcp, ControlSetup control,
                                                 MetricsSetup metrics) {
    auto p = size(params, tcp.enabled());
    if (!p) return util::fail(p.error());
    std::unique_ptr<Loop> loop(new Loop(*p, std::move(udp)));
    if (auto r =
            loop->setup(tun_fd, signals, std::move(tcp), std::move(control), std::move(metrics));
        !r)
        return util::fail(r.error());
    return loop;
}

util::Result<void> Loop::setup(int tun_fd, util::SignalPipe& signals, TcpSetup tcp,
                               ControlSetup control, MetricsSetup metrics) {
    auto ring =
        create_loop_ring(params_, {.tun_multishot = params_.tun_read_multishot,
                                   .tcp = tcp.enabled(),
                                   .streams = control.listener >= 0 || metrics.listener >= 0});
    if (!ring) return util::fail(ring.error());
    ring_ = std::move(*ring);
    const int files[] = {tun_fd, udp_.fd.get(), signals.read_fd()};
    if (auto r = ring_->register_files(files); !r) return util::fail(r.error());

    // Without the virtio-net header a packet is sealed where it was read: room around it.
    const bool vnet = params_.offloads.vnet_hdr;
    auto tun = ring::BufferRing::create(
        *ring_, {.group_id = tun_group,
                 .count = tun_buffer_count(params_),
                 .buffer_size = tun_buffer_size(params_),
                 .headroom = vnet ? 0u : static_cast<std::uint32_t>(layout::headroom),
                 .tailroom = vnet ? 0u : static_cast<std::uint32_t>(layout::tailroom)});
    if (!tun) return util::fail(tun.error());
    tun_buffers_ = std::move(*tun);
    auto udpb = ring::BufferRing::create(
        *ring_, {.group_id = udp_group,
                 .count = udp_buffer_count(params_),
                 .buffer_size = static_cast<std::uint32_t>(udp_buffer_size(params_))});
    if (!udpb) return util::fail(udpb.error());
    udp_buffers_ = std::move(*udpb);

    datapath_ =
        std::make_unique<Datapath>(Datapath::Params{.mtu = params_.mtu,
                                                    .tx_slots = params_.tx_slots,
                                                    .control_reserve = control_tx_reserve,
                                                    .udp_family = udp_family_,
                                                    .offloads = params_.offloads,
                                                    .tun_buffers = tun_buffers_->count(),
                                                    .rx_buffers = udp_buffers_->count(),
                                                    .tun_write_slots = tun_write_count(params_)},
                                   *this, *this);

    // Packets that arrive over TCP are copied out of the receive buffer to be written.
    if (tcp.enabled())
        copies_ = std::make_unique<CopyBuffers>(tcp_copy_buffers,
                                                layout::largest_peer_message(params_.mtu));
    udp_recv_msg_.msg_namelen = udp_name_room;
    udp_recv_msg_.msg_controllen = udp_control_space;
    if (tcp.enabled()) tcp_ = std::make_unique<TcpIo>(*this, tcp.listener, std::move(tcp.dial));
    if (control.listener >= 0)
        servers_[server_control] = std::make_unique<StreamServer>(
            *this, server_control, "control", control_limits, std::move(control));
    if (metrics.listener >= 0)
        servers_[server_metrics] = std::make_unique<StreamServer>(
            *this, server_metrics, "metrics", metrics_limits,
            ControlSetup{.listener = metrics.listener, .watch = -1, .still_ours = {}});
    metrics_interface_ = std::move(metrics.interface);
    // Set-up's registrations are done: from here on the ring takes only what opcodes.hpp lists.
    if (auto r = ring_->enable(); !r) return util::fail(r.error());
    RT_LOG_NOTICE(
        "loop: TUN reads %s, %u TUN buffers of %u bytes, %u UDP buffers of %zu bytes, "
        "%u tx slots; %zu KiB of packet buffers; offloads: %s",
        params_.tun_read_multishot ? "multishot" : std::to_string(params_.tun_rx_slots).c_str(),
        tun_buffers_->count(), tun_buffers_->buffer_size(), udp_buffers_->count(),
        udp_buffer_size(params_), tx_slot_count(params_), buffer_memory(params_) / 1024,
        params_.offloads.describe().c_str());
    return {};
}

void Loop::refresh_now() noexcept {
    now_ = read_clock();
}

void Loop::arm_turn() noexcept {
    if (!signal_armed_) arm_signal_read();
    if (!link_armed_ && hooks_.link_watch >= 0) arm_link_read();
    // After -ENOBUFS, re-arm once a share of the buffers is back, not at the first one.
    if (!udp_recv_armed_ && udp_buffers_->lent() >= rearm_watermark(*udp_buffers_) &&
        now_.boot >= udp_rearm_at_)
        arm_udp_recv();
    if (tun_reads_in_flight_ == 0 && tun_buffers_->lent() >= rearm_watermark(*tun_buffers_) &&
        now_.boot >= tun_rearm_at_)
        arm_tun_reads();
    if (tcp_) tcp_->transport().arm(now_.boot);
    for (auto& s : servers_)
        if (s) s->arm();
}

Nanos Loop::next_wait() const noexcept {
    Nanos deadline = device_->next_deadline();
    if (!udp_recv_armed_ && udp_rearm_at_ > now_.boot) deadline = std::min(deadline, udp_rearm_at_);
    if (tun_reads_in_flight_ == 0 && tun_rearm_at_ > now_.boot)
        deadline = std::min(deadline, tun_rearm_at_);
    if (tcp_) deadline = std::min(deadline, tcp_->transport().next_deadline());
    for (const auto& s : servers_)
        if (s) deadline = std::min(deadline, s->next_deadline());
    deadline = std::min(deadline, timed_.next());
    return deadline <= now_.boot ? 0 : std::min<Nanos>(deadline - now_.boot, max_wait);
}

util::Result<RunEnd> Loop::run(Device& device, RunHooks hooks) {
    device_ = &device;
    hooks_ = std::move(hooks);
    datapath_->bind(device, tcp_ ? &tcp_->transport() : nullptr);
    if (tcp_) tcp_->transport().bind(device);
    start_serving();
    refresh_now();
    device.start(now_);
    timed_.start(hooks_, now_.boot);
    bool failed = false;
    while (!stopping_) {
        arm_turn();
        const Nanos wait = next_wait();
        datapath_->flush();
        const int r = ring_->submit_and_wait(wait == 0 ? 0 : 1, std::chrono::nanoseconds(wait));
        if (r < 0 && r != -EINTR && r != -EBUSY && r != -ETIME) {
            RT_LOG_ERROR("io_uring_submit_and_wait: %s", std::strerror(-r));
            stopping_ = true;  // leave through the drain: buffers may not go while in flight
            failed = true;
            break;
        }
        refresh_now();
        ring_->reap([this](const io_uring_cqe& cqe) { dispatch(cqe); });
        tun_buffers_->commit();
        udp_buffers_->commit();
        if (device.next_deadline() <= now_.boot) device.on_timers(now_);
        timed_.run_due(hooks_, device, *this, now_);
        if (tcp_) tcp_->transport().sweep(now_.boot);
        for (auto& s : servers_)
            if (s) s->sweep(now_.boot);
        if (servers_[server_control] && servers_[server_control]->socket_gone())
            stop(StopReason::control_socket_gone,
                 "the control socket file was deleted or replaced");
    }
    datapath_->stop();
    if (hooks_.on_stopping) hooks_.on_stopping();
    RunEnd end{.reason = stop_reason_};
    shutdown_and_drain(end.cancelled);
    device_ = nullptr;
    if (failed) return util::fail(util::make_error("io_uring", "the loop failed; see above"));
    if (failure_) return util::fail(util::make_error("loop", failure_));
    return end;
}

void Loop::shutdown_and_drain(unsigned& cancelled) noexcept {
    const unsigned before = ring_->in_flight();
    ring_->cancel_all();
    (void)ring_->submit();
    cancelled = ring_->drain([this](const io_uring_cqe& cqe) { dispatch(cqe); },
                             std::chrono::milliseconds(800));
    tun_buffers_->commit();
    udp_buffers_->commit();
    if (const unsigned left = ring_->in_flight(); left != 0) {
        // The kernel may still write into what those requests point at: keep every buffer
        // for the life of the process rather than free it under them.
        RT_LOG_ERROR("shutdown: %u requests did not complete; keeping their buffers", left);
        (void)tun_buffers_.release();
        (void)udp_buffers_.release();
        (void)datapath_.release();
        (void)copies_.release();
        (void)tcp_.release();
        for (auto& s : servers_)
            (void)s.release();
        return;
    }
    if (tcp_) tcp_->close_all();
    for (auto& s : servers_)
        if (s) s->close_all();
    // The registered-file table holds the TUN and the sockets; the ring's own teardown is
    // asynchronous and would keep them (and the interface) alive after we exit, so a quick
    // restart would find the TUN busy. Drop them now that nothing is in flight.
    if (auto r = ring_->unregister_files(); !r)
        RT_LOG_WARN("shutdown: %s", r.error().to_string().c_str());
    RT_LOG_NOTICE(
        "shutdown: %u requests in flight, %u cancelled, %u left; %u TUN and %u UDP "
        "buffers held, %u tx slots in use, %u TUN writes, %llu requests refused while stopping",
        before, cancelled, ring_->in_flight(), tun_buffers_->held(), udp_buffers_->held(),
        datapath_->slots().in_use(), datapath_->tun_writes().in_flight(),
        static_cast<unsigned long long>(counters_.refused_while_stopping));
}

void Loop::dispatch(const io_uring_cqe& cqe) noexcept {
    const auto kind = static_cast<Kind>(ring::kind_of(cqe.user_data));
    if (failed_completion(kind, cqe)) {
        on_error(kind, cqe);  // errors.cpp
        return;
    }
    switch (kind) {
        case Kind::tun_read:
            on_tun_read(cqe);
            return;
        case Kind::udp_recv:
            on_udp_recv(cqe);
            return;
        case Kind::udp_send:
            on_udp_sent(cqe);
            return;
        case Kind::tun_write:
            on_tun_written(cqe);
            return;
        case Kind::tun_write_copy:
            on_tun_written_copy(cqe);
            return;
        case Kind::signal:
            on_signal(cqe);
            return;
        case Kind::link_watch:
            on_link(cqe);
            return;
        case Kind::tcp_accept:
        case Kind::tcp_connect:
        case Kind::tcp_recv:
        case Kind::tcp_send:
            dispatch_tcp(kind, cqe);
            return;
        case Kind::stream_accept:
        case Kind::stream_recv:
        case Kind::stream_send:
        case Kind::control_watch:
            dispatch_stream(kind, cqe);
            return;
    }
    ++counters_.stale_completions;
}

void Loop::dispatch_tcp(Kind kind, const io_uring_cqe& cqe) noexcept {
    if (!tcp_) {
        ++counters_.stale_completions;
        return;
    }
    if (kind == Kind::tcp_accept)
        tcp_->on_accept(cqe);
    else if (kind == Kind::tcp_connect)
        tcp_->on_connect(cqe);
    else if (kind == Kind::tcp_recv)
        tcp_->on_recv(cqe);
    else
        tcp_->on_sent(cqe);
}

void Loop::dispatch_stream(Kind kind, const io_uring_cqe& cqe) noexcept {
    const std::uint16_t index = ring::decode(cqe.user_data).generation;
    StreamServer* s = index < servers_.size() ? servers_[index].get() : nullptr;
    if (s == nullptr) {
        ++counters_.stale_completions;
        return;
    }
    if (kind == Kind::stream_accept)
        s->on_accept(cqe);
    else if (kind == Kind::stream_recv)
        s->on_recv(cqe);
    else if (kind == Kind::stream_send)
        s->on_sent(cqe);
    else
        s->on_watch(cqe);
}

void Loop::start_serving() {
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

}  // namespace ringtun::daemon
