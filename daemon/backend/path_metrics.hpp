// The metrics every backend has, from the datapath's and the TCP transport's counters (and
// what the backend adds to them): traffic on the UDP socket and the TUN writes, offload
// fallbacks and batches, I/O errors, the datapath's conditions, the TCP transport. A backend
// adds its own families (the io_uring loop's re-arms, for one).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "daemon/control/metrics_text.hpp"
#include "daemon/datapath/datapath.hpp"
#include "daemon/transport/tcp_transport.hpp"

namespace ringtun::daemon {

// What the backend counted itself beside the datapath.
struct BackendPathCounts {
    std::uint64_t tun_written_packets = 0, tun_written_bytes = 0;  // not through TunWrites
    std::uint64_t udp_receive_errors = 0, tun_write_errors = 0;
    std::uint64_t tun_read_errors = 0;  // the io_uring loop counts its own as re-arms
};

// The "stats: offload" line of SIGUSR1's statistics, the same on every backend.
void log_offload_statistics(const Datapath& d);

// The "stats: tcp" line of SIGUSR1's statistics.
void log_tcp_statistics(const TcpTransport& t);

void write_path_metrics(const Datapath& d, const BackendPathCounts& b, control::MetricsText& m);
void write_tcp_metrics(const TcpTransport& t, control::MetricsText& m);

struct LabelledCount {
    const char* label;
    std::uint64_t value;
};
// A counter family whose samples differ by one label.
void write_labelled(control::MetricsText& m, std::string_view name, std::string_view help,
                    std::string_view label, std::initializer_list<LabelledCount> samples);

}  // namespace ringtun::daemon
