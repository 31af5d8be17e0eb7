// `ringtun tune`'s verdict, sans-IO: what was measured at each point, and which point the
// sweep recommends — by throughput, CPU per GB breaking ties, guarded by small-packet
// capacity and latency, and biased towards the defaults (a change must earn its place).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "daemon/cli/tune/plan.hpp"

namespace ringtun::daemon::tune {

// One point's figures.
struct Figures {
    double gbit_s = 0;         // one TCP stream A→B through the tunnel, at the receiver
    double cpu_s_per_gb = 0;   // both daemons' CPU time over that stream, per GB received
    double capacity_kpps = 0;  // highest offered rate of 64-byte datagrams with < 1% loss
    double rtt_us = 0;         // median round trip of a 64-byte UDP request and response
};

// A point and what became of it: figures, or why there are none.
struct Outcome {
    Point point;
    std::optional<Figures> figures;
    std::string note;  // the skip or failure reason; for measured points, the verdict's
};

// The rule. Throughputs within `tie` (or the measured noise, if larger) of the fastest are
// equal, and among equals the lowest CPU per GB wins; the defaults win any tie they are part
// of unless another point's CPU per GB is lower by more than that margin. A point is not
// eligible if its capacity is below `min_capacity` of the defaults' or its median RTT above
// `max_rtt` of theirs (figures for one stream must not cost small packets or latency); these
// bounds too widen to the noise of those figures, so a noisy host does not disqualify points
// for what the defaults' own runs differ by.
struct Rule {
    double tie = 0.03;
    double min_capacity = 0.90;
    double max_rtt = 1.25;
};

struct Choice {
    std::size_t best = 0;  // index into the outcomes; a defaults point when they win
    bool keep_defaults = true;
    Figures baseline;   // the defaults' figures (the mean of their runs)
    unsigned runs = 0;  // measured runs of the defaults: 1, or 2 with the repeat
    Figures noise;      // each figure's relative spread over the defaults' two runs (0: one)
    double margin = 0;  // max(rule.tie, noise.gbit_s)
    std::string why;    // one sentence
};

// Chooses among the measured outcomes, and writes each measured point's verdict into its
// note ("ineligible: RTT +40% over the defaults'"). nullopt when the defaults were not
// measured: there is nothing to compare with.
std::optional<Choice> choose(std::vector<Outcome>& outcomes, const Rule& rule = {});

// `value` relative to `base` as a signed percentage ("+9.3%", "-2.0%").
std::string percent(double value, double base);

}  // namespace ringtun::daemon::tune
