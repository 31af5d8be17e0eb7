// The io_uring loop's metrics: the ones every backend has, and its ring's.
#include "daemon/backend/path_metrics.hpp"
#include "daemon/backend/uring/loop.hpp"
#include "daemon/backend/uring/tcp_io.hpp"

namespace ringtun::daemon {

using control::MetricsText;
using Type = MetricsText::Type;

void Loop::write_metrics(MetricsText& m) const {
    const LoopCounters& c = counters_;
    write_path_metrics(*datapath_,
                       {.tun_written_packets = c.tun_write_packets,
                        .tun_written_bytes = c.tun_write_bytes,
                        .udp_receive_errors = c.udp_recv_errors,
                        .tun_write_errors = c.tun_write_errors},
                       m);
    write_labelled(
        m, "ringtun_ring_rearms_total",
        "Multishot reads and receives the kernel ended and the loop armed again, by "
        "cause.",
        "cause",
        {{"eagain", c.rearm_eagain}, {"enobufs", c.rearm_enobufs}, {"other", c.rearm_other}});
    write_labelled(m, "ringtun_loop_events_total",
                   "Conditions of the io_uring loop worth watching: each should stay at or near "
                   "zero.",
                   "event",
                   {{"tcp_to_tun_no_buffer", c.tcp_to_tun_no_buffer},
                    {"truncated", c.truncated},
                    {"stale_completion", c.stale_completions},
                    {"no_submission_entry", c.no_sqe}});
    m.single("ringtun_ring_cq_overflow_total", Type::counter,
             "Completions the kernel could not post (the completion queue was full).",
             ring_->cq_overflow());
    if (tcp_) write_tcp_metrics(tcp_->transport(), m);
}

}  // namespace ringtun::daemon
