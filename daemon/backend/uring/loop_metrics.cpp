// The io_uring loop's counters as Prometheus metrics (what SIGUSR1 logs, for scraping).
#include "daemon/backend/uring/loop.hpp"
#include "daemon/backend/uring/tcp_io.hpp"
#include "daemon/control/metrics_text.hpp"
#include "util/log.hpp"

namespace ringtun::daemon {

namespace {

using control::MetricsText;
using Type = MetricsText::Type;

struct Labelled {
    const char* label;
    std::uint64_t value;
};

// A counter family whose samples differ by one label.
void labelled(MetricsText& m, std::string_view name, std::string_view help, std::string_view label,
              std::initializer_list<Labelled> samples) {
    m.family(name, Type::counter, help);
    for (const Labelled& s : samples)
        m.sample(s.value, {{label, s.label}});
}

void write_tcp_metrics(const TcpTransport& t, MetricsText& m) {
    const TcpCounters& c = t.counters();
    m.single("ringtun_tcp_connections", Type::gauge, "TCP transport connections open.",
             t.connections());
    labelled(m, "ringtun_tcp_connections_opened_total", "TCP transport connections opened.", "how",
             {{"accepted", c.accepted}, {"dialed", c.dialed}});
    labelled(m, "ringtun_tcp_connections_closed_total",
             "TCP transport connections closed, by reason.", "reason",
             {{"eof", c.closed_eof},
              {"error", c.closed_error},
              {"stalled", c.stalled},
              {"idle", c.idle_closed},
              {"evicted", c.evicted},
              {"refused", c.refused},
              {"connect_failed", c.connect_failures}});
    labelled(
        m, "ringtun_tcp_frame_errors_total",
        "TCP transport frames that ended their connection, by fault.", "fault",
        {{"zero_length", c.zero_length}, {"oversized", c.oversized}, {"malformed", c.malformed}});
    labelled(m, "ringtun_tcp_send_drops_total",
             "Messages for the TCP transport that were not sent, by reason.", "reason",
             {{"queue_full", c.queue_drops},
              {"no_connection", c.no_connection},
              {"not_started", c.not_started}});
    labelled(m, "ringtun_tcp_bytes_total", "Bytes on TCP transport connections.", "direction",
             {{"receive", c.rx_bytes}, {"transmit", c.tx_bytes}});
}

}  // namespace

void Loop::write_metrics(MetricsText& m) const {
    const LoopCounters& c = counters_;
    const DatapathCounters& d = datapath_->counters();
    const TunWriteCounters& w = datapath_->tun_writes().counters();
    m.single("ringtun_udp_receive_packets_total", Type::counter, "Datagrams received.",
             d.udp_rx_packets);
    m.single("ringtun_udp_receive_bytes_total", Type::counter, "Bytes of datagrams received.",
             d.udp_rx_bytes);
    m.single("ringtun_udp_transmit_packets_total", Type::counter, "Datagrams sent.",
             d.udp_tx_packets);
    m.single("ringtun_udp_transmit_bytes_total", Type::counter, "Bytes of datagrams sent.",
             d.udp_tx_bytes);
    m.single("ringtun_tun_written_packets_total", Type::counter, "IP packets written to the TUN.",
             c.tun_write_packets + w.packets);
    m.single("ringtun_tun_written_bytes_total", Type::counter,
             "Bytes of IP packets written to the TUN.", c.tun_write_bytes + w.bytes);
    labelled(m, "ringtun_ring_rearms_total",
             "Multishot reads and receives the kernel ended and the loop armed again, by cause.",
             "cause",
             {{"eagain", c.rearm_eagain}, {"enobufs", c.rearm_enobufs}, {"other", c.rearm_other}});
    labelled(m, "ringtun_offload_fallbacks_total",
             "Offloads the kernel refused or sent unusably, each followed by the plain path.",
             "kind",
             {{"udp_gso_refused", d.udp_gso_refused},
              {"tun_gro_refused", w.gro_refused},
              {"tun_bad_offload", d.tun_bad_offload}});
    labelled(m, "ringtun_offload_batches_total",
             "Work the offloads batched: TUN super-packets split, UDP GSO sends, datagrams UDP "
             "GRO coalesced, TUN writes of several packets.",
             "kind",
             {{"tun_super_packets", d.tun_super_packets},
              {"udp_gso_sends", d.udp_gso_batches},
              {"udp_gro_datagrams", d.udp_rx_coalesced},
              {"tun_gro_writes", w.coalesced}});
    labelled(m, "ringtun_io_errors_total", "Failed I/O, by path.", "path",
             {{"udp_send", d.send_errors},
              {"udp_receive", c.udp_recv_errors},
              {"tun_write", c.tun_write_errors + w.errors}});
    labelled(m, "ringtun_loop_events_total",
             "Conditions of the loop worth watching: each should stay at or near zero.", "event",
             {{"tx_slot_exhausted", d.tx_slot_exhausted},
              {"tun_write_no_slot", w.no_write_slot},
              {"tcp_to_tun_no_buffer", c.tcp_to_tun_no_buffer},
              {"truncated", c.truncated},
              {"stale_completion", c.stale_completions + d.stale_completions},
              {"no_submission_entry", c.no_sqe},
              {"udp_source_retry", d.udp_source_retries},
              {"unframeable", d.unframeable},
              {"log_line_dropped", util::log::dropped()}});
    m.single("ringtun_ring_cq_overflow_total", Type::counter,
             "Completions the kernel could not post (the completion queue was full).",
             ring_->cq_overflow());
    if (tcp_) write_tcp_metrics(tcp_->transport(), m);
}

}  // namespace ringtun::daemon
