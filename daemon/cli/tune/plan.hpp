// `ringtun tune`'s sweep plan, sans-IO: the points measured (the [ring] defaults for this
// kernel, then one key changed at a time), which of them fit the time budget, and how long
// each measurement may take so that the whole sweep does.
#pragma once

#include <string>
#include <vector>

#include "conf/config.hpp"

namespace ringtun::daemon::tune {

// What an empty [ring] resolves to here (cli/backend_plan's answer): every point varies one
// key away from it.
struct Defaults {
    bool epoll = false;  // "auto" takes the epoll backend here (io_uring refused)
    bool tun_read_multishot = true;
    bool tun_blocking = false;
    unsigned tun_rx_slots = 32;
    unsigned tx_slots = 512;
    unsigned entries = 1024;
};

// One point of the sweep: the [ring] keys it sets, nothing else.
struct Point {
    conf::RingTunables ring;
    // When the budget cannot take every point, lower numbers are kept first.
    int priority = 0;
    bool defaults = false;  // the empty [ring]
    bool repeat = false;    // the defaults again, measured last: the spread of the two runs
                            // is the sweep's noise
    bool spare = false;     // left out of the budget's estimate: measured only if the points
                            // before it took less time than estimated
    std::string skip;       // why this point is not measured (empty: it is, or may be)
};

// The [ring] keys `ring` sets, one "key = value" line each, in the order of ringtun.toml(5);
// what a point's configuration carries and what the recommendation prints.
std::vector<std::string> ring_lines(const conf::RingTunables& ring);
// The point's name for tables: its keys joined by ", ", "defaults" for none, "defaults
// (again)" for the repeat.
std::string label(const Point& p);

// The defaults first, then each key varied alone (io_uring's keys only where io_uring is
// the default backend: on epoll they have no effect), then the repeat of the defaults.
std::vector<Point> candidate_points(const Defaults& d);

// How long each measurement of a point takes. The estimates (restart, latency) are upper
// bounds: the sweep checks the clock, and the time the points really took, against them.
struct Timing {
    double throughput_s = 0;      // one TCP stream, warm-up included
    double warmup_s = 0;          // discarded at its start (slow start)
    double capacity_step_s = 0;   // each offered rate of the small-packet search
    unsigned capacity_steps = 0;  // the unpaced probe and the search steps after it
    unsigned latency_trips = 0;   // request/response round trips
    double latency_cap_s = 0;     // at most this long
    double restart_s = 0;         // both daemons restarted with the point's [ring]
    double point_s() const noexcept;
};

struct Plan {
    std::vector<Point> points;  // every candidate, in order; those with `skip` set are not run
    Timing timing;
    double setup_s = 0;                     // the lab made and removed
    std::size_t runnable() const noexcept;  // neither skipped nor spare
    std::size_t spares() const noexcept;
    double estimate_s() const noexcept;  // setup and every runnable point
};

// The budget below which no useful sweep fits (the defaults and two other points).
double minimum_budget_s() noexcept;

// Fits the points without `skip` into `budget_s`: all of them when each can have at least
// the shortest timing (measurements lengthened up to a cap to use the budget), else as many
// as fit at the shortest, by priority; the others become spares.
// Precondition: budget_s >= minimum_budget_s().
Plan plan_sweep(std::vector<Point> points, double budget_s);

}  // namespace ringtun::daemon::tune
