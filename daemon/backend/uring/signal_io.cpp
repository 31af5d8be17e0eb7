// The signal pipe and the caller's hooks: SIGTERM/SIGINT stop the loop, SIGUSR1 prints the
// statistics, SIGHUP reloads the configuration through the caller's hook, and the worker that
// looks endpoint names up ('N') has the names hook run; the heartbeat and the names hook also
// run on the loop's time. The link watch's datagrams go to their hook.
#include <liburing.h>

#include "daemon/backend/link_reads.hpp"
#include "daemon/backend/path_metrics.hpp"
#include "daemon/backend/uring/loop.hpp"
#include "daemon/backend/uring/loop_internal.hpp"
#include "daemon/backend/uring/tcp_io.hpp"
#include "daemon/engine/statistics.hpp"
#include "util/log.hpp"

namespace ringtun::daemon {

using namespace loop_detail;

void Loop::arm_signal_read() noexcept {
    io_uring_sqe* sqe = new_request();
    if (!sqe) return;  // tried again next turn
    signal_armed_ = true;
    io_uring_prep_read(sqe, file_signal, &signal_byte_, 1, 0);
    sqe->flags |= IOSQE_FIXED_FILE;
    sqe->user_data = tag(Kind::signal);
}

void Loop::arm_link_read() noexcept {
    io_uring_sqe* sqe = new_request();
    if (!sqe) return;  // tried again next turn
    link_armed_ = true;
    io_uring_prep_read(sqe, hooks_.link_watch, link_buf_.data(), link_buf_.size(), 0);
    sqe->user_data = tag(Kind::link_watch);
}

void Loop::on_link(const io_uring_cqe& cqe) noexcept {
    link_armed_ = false;  // the run loop arms the next read, if the watch goes on
    if (take_link_read(hooks_, link_buf_, cqe.res, stopping_) == LinkRead::ended)
        hooks_.link_watch = -1;
}

void Loop::on_signal(const io_uring_cqe&) noexcept {
    signal_armed_ = false;  // the run loop arms the next read
    if (signal_byte_ == util::SignalPipe::kUser1) log_statistics();
    if (signal_byte_ == util::SignalPipe::kReload && !stopping_) reload();
    if (signal_byte_ == util::SignalPipe::kResolved && !stopping_)
        TimedHooks::run_names(hooks_, *device_, *this, now_);
    if (signal_byte_ == util::SignalPipe::kTerminate) {
        if (!stopping_) RT_LOG_NOTICE("stopping on signal");
        stopping_ = true;
    }
}

void Loop::reload() noexcept {
    if (!hooks_.on_reload) {
        RT_LOG_NOTICE("SIGHUP: no configuration file to reload; ignored");
        return;
    }
    control::DeviceConfig config(*device_, *this);  // a session of its own
    (void)reload_through(config);
}

std::optional<std::string> Loop::reload_through(control::DeviceConfig& config) {
    if (!hooks_.on_reload) return "no configuration file to reload";
    refresh_now();
    config.set_now(now_);
    return hooks_.on_reload(config, now_);
}

void Loop::log_statistics() const {
    const LoopCounters& c = counters_;
    const DatapathCounters& d = datapath_->counters();
    const TunWriteCounters& w = datapath_->tun_writes().counters();
    RT_LOG_NOTICE(
        "stats: udp rx %llu pkts %llu B, udp tx %llu pkts %llu B, tun write %llu pkts "
        "%llu B",
        (unsigned long long)d.udp_rx_packets, (unsigned long long)d.udp_rx_bytes,
        (unsigned long long)d.udp_tx_packets, (unsigned long long)d.udp_tx_bytes,
        (unsigned long long)(c.tun_write_packets + w.packets),
        (unsigned long long)(c.tun_write_bytes + w.bytes));
    log_offload_statistics(*datapath_);
    RT_LOG_NOTICE(
        "stats: rearm eagain %llu enobufs %llu other %llu; errors send %llu tun_write "
        "%llu udp_recv %llu; tx_slot_exhausted %llu truncated %llu stale %llu; cq "
        "overflow %u",
        (unsigned long long)c.rearm_eagain, (unsigned long long)c.rearm_enobufs,
        (unsigned long long)c.rearm_other, (unsigned long long)d.send_errors,
        (unsigned long long)(c.tun_write_errors + w.errors), (unsigned long long)c.udp_recv_errors,
        (unsigned long long)d.tx_slot_exhausted, (unsigned long long)c.truncated,
        (unsigned long long)(c.stale_completions + d.stale_completions), ring_->cq_overflow());
    RT_LOG_NOTICE(
        "stats: tcp_to_tun_no_buffer %llu udp_source_retries %llu refused_while_stopping %llu "
        "no_sqe %llu log_dropped %llu unframeable %llu",
        (unsigned long long)c.tcp_to_tun_no_buffer, (unsigned long long)d.udp_source_retries,
        (unsigned long long)c.refused_while_stopping, (unsigned long long)c.no_sqe,
        (unsigned long long)util::log::dropped(), (unsigned long long)d.unframeable);
    if (tcp_) log_tcp_statistics(tcp_->transport());
    if (device_) log_device_statistics(*device_);
}

}  // namespace ringtun::daemon
