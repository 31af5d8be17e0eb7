#include "daemon/backend/path_metrics.hpp"

#include "util/log.hpp"

namespace ringtun::daemon {

using control::MetricsText;
using Type = MetricsText::Type;

void write_labelled(MetricsText& m, std::string_view name, std::string_view help,
                    std::string_view label, std::initializer_list<LabelledCount> samples) {
    m.family(name, Type::counter, help);
    for (const LabelledCount& s : samples)
        m.sample(s.value, {{label, s.label}});
}

void log_offload_statistics(const Datapath& dp) {
    const DatapathCounters& d = dp.counters();
    const TunWriteCounters& w = dp.tun_writes().counters();
    RT_LOG_NOTICE(
        "stats: offload tun_super_packets %llu tun_bad_offload %llu "
        "udp_gso_batches %llu udp_gso_refused %llu udp_rx_coalesced %llu tun_writes %llu "
        "coalesced %llu "
        "no_write_slot %llu gro_refused %llu tun_parked %zu",
        (unsigned long long)d.tun_super_packets, (unsigned long long)d.tun_bad_offload,
        (unsigned long long)d.udp_gso_batches, (unsigned long long)d.udp_gso_refused,
        (unsigned long long)d.udp_rx_coalesced, (unsigned long long)w.writes,
        (unsigned long long)w.coalesced, (unsigned long long)w.no_write_slot,
        (unsigned long long)w.gro_refused, dp.tun_parked());
}

void log_tcp_statistics(const TcpTransport& transport) {
    const TcpCounters& t = transport.counters();
    RT_LOG_NOTICE(
        "stats: tcp connections %u; accepted %llu dialed %llu refused %llu evicted %llu "
        "connect_failures %llu; closed eof %llu error %llu stalled %llu idle %llu; "
        "protocol zero_length %llu oversized %llu malformed %llu; queue_drops %llu "
        "no_connection %llu not_started %llu; rx %llu B %llu frames, tx %llu B",
        transport.connections(), (unsigned long long)t.accepted, (unsigned long long)t.dialed,
        (unsigned long long)t.refused, (unsigned long long)t.evicted,
        (unsigned long long)t.connect_failures, (unsigned long long)t.closed_eof,
        (unsigned long long)t.closed_error, (unsigned long long)t.stalled,
        (unsigned long long)t.idle_closed, (unsigned long long)t.zero_length,
        (unsigned long long)t.oversized, (unsigned long long)t.malformed,
        (unsigned long long)t.queue_drops, (unsigned long long)t.no_connection,
        (unsigned long long)t.not_started, (unsigned long long)t.rx_bytes,
        (unsigned long long)t.rx_frames, (unsigned long long)t.tx_bytes);
}

void write_path_metrics(const Datapath& dp, const BackendPathCounts& b, MetricsText& m) {
    const DatapathCounters& d = dp.counters();
    const TunWriteCounters& w = dp.tun_writes().counters();
    m.single("ringtun_udp_receive_packets_total", Type::counter, "Datagrams received.",
             d.udp_rx_packets);
    m.single("ringtun_udp_receive_bytes_total", Type::counter, "Bytes of datagrams received.",
             d.udp_rx_bytes);
    m.single("ringtun_udp_transmit_packets_total", Type::counter, "Datagrams sent.",
             d.udp_tx_packets);
    m.single("ringtun_udp_transmit_bytes_total", Type::counter, "Bytes of datagrams sent.",
             d.udp_tx_bytes);
    m.single("ringtun_tun_written_packets_total", Type::counter, "IP packets written to the TUN.",
             b.tun_written_packets + w.packets);
    m.single("ringtun_tun_written_bytes_total", Type::counter,
             "Bytes of IP packets written to the TUN.", b.tun_written_bytes + w.bytes);
    write_labelled(m, "ringtun_offload_fallbacks_total",
                   "Offloads the kernel refused or sent unusably, each followed by the plain path.",
                   "kind",
                   {{"udp_gso_refused", d.udp_gso_refused},
                    {"tun_gro_refused", w.gro_refused},
                    {"tun_bad_offload", d.tun_bad_offload}});
    write_labelled(m, "ringtun_offload_batches_total",
                   "Work the offloads batched: TUN super-packets split, UDP GSO sends, datagrams "
                   "UDP GRO coalesced, TUN writes of several packets.",
                   "kind",
                   {{"tun_super_packets", d.tun_super_packets},
                    {"udp_gso_sends", d.udp_gso_batches},
                    {"udp_gro_datagrams", d.udp_rx_coalesced},
                    {"tun_gro_writes", w.coalesced}});
    write_labelled(m, "ringtun_io_errors_total", "Failed I/O, by path.", "path",
                   {{"udp_send", d.send_errors},
                    {"udp_receive", b.udp_receive_errors},
                    {"tun_write", b.tun_write_errors + w.errors},
                    {"tun_read", b.tun_read_errors}});
    write_labelled(m, "ringtun_datapath_events_total",
                   "Conditions of the data path worth watching: each should stay at or near zero.",
                   "event",
                   {{"tx_slot_exhausted", d.tx_slot_exhausted},
                    {"tun_write_no_slot", w.no_write_slot},
                    {"stale_completion", d.stale_completions},
                    {"udp_source_retry", d.udp_source_retries},
                    {"unframeable", d.unframeable},
                    {"log_line_dropped", util::log::dropped()}});
}

void write_tcp_metrics(const TcpTransport& t, MetricsText& m) {
    const TcpCounters& c = t.counters();
    m.single("ringtun_tcp_connections", Type::gauge, "TCP transport connections open.",
             t.connections());
    write_labelled(m, "ringtun_tcp_connections_opened_total", "TCP transport connections opened.",
                   "how", {{"accepted", c.accepted}, {"dialed", c.dialed}});
    write_labelled(
        m, "ringtun_tcp_connections_closed_total",
        "TCP transport connections closed, by reason (error includes connects that failed).",
        "reason",
        {{"eof", c.closed_eof},
         {"error", c.closed_error},
         {"stalled", c.stalled},
         {"idle", c.idle_closed},
         {"evicted", c.evicted}});
    m.single("ringtun_tcp_connections_refused_total", Type::counter,
             "TCP connections refused when accepted (at the connection limit, none evictable).",
             c.refused);
    m.single("ringtun_tcp_connect_failures_total", Type::counter,
             "Connects to a TCP peer that failed.", c.connect_failures);
    write_labelled(
        m, "ringtun_tcp_frame_errors_total",
        "TCP transport frames that ended their connection, by fault.", "fault",
        {{"zero_length", c.zero_length}, {"oversized", c.oversized}, {"malformed", c.malformed}});
    write_labelled(m, "ringtun_tcp_send_drops_total",
                   "Messages for the TCP transport that were not sent, by reason.", "reason",
                   {{"queue_full", c.queue_drops},
                    {"no_connection", c.no_connection},
                    {"not_started", c.not_started}});
    write_labelled(m, "ringtun_tcp_bytes_total", "Bytes on TCP transport connections.", "direction",
                   {{"receive", c.rx_bytes}, {"transmit", c.tx_bytes}});
}

}  // namespace ringtun::daemon
