// `ringtun tune`'s measurements: ringtun's own traffic through the lab's tunnel, from A to
// B, with sockets made inside the namespaces (lab_sockets). Each is bounded by the point's
// Timing and returns within about 100 ms of a Ctrl-C (an "interrupted" error).
#pragma once

#include "daemon/cli/tune/choice.hpp"
#include "daemon/cli/tune/lab.hpp"
#include "daemon/cli/tune/plan.hpp"
#include "util/result.hpp"

namespace ringtun::daemon::tune {

// The ports on B's tunnel address the measurements use.
inline constexpr std::uint16_t kStreamPort = 5201;
inline constexpr std::uint16_t kCapacityPort = 5202;
inline constexpr std::uint16_t kEchoPort = 5203;

struct StreamFigures {
    double gbit_s = 0;
    double cpu_s_per_gb = 0;
};

// One TCP stream A→B for t.throughput_s: bytes received after the warm-up, and both
// daemons' CPU time (/proc/PID/stat) over the same window, per GB received.
util::Result<StreamFigures> measure_stream(const Lab& lab, const Timing& t);

// 64-byte UDP datagrams A→B at offered rates chosen by a RateSearch, t.capacity_steps steps
// of t.capacity_step_s: the highest rate with < 1% loss, in thousands of packets per second.
util::Result<double> measure_capacity(const Lab& lab, const Timing& t);

// t.latency_trips 64-byte UDP requests from A, each answered by an echo on B, one at a time
// (within t.latency_cap_s): the median round trip in microseconds.
util::Result<double> measure_rtt(const Lab& lab, const Timing& t);

// All three, latency first (on a quiet tunnel).
util::Result<Figures> measure_point(const Lab& lab, const Timing& t);

}  // namespace ringtun::daemon::tune
