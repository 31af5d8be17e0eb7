#include "daemon/cli/tune/plan.hpp"

#include <algorithm>
#include <cmath>

namespace ringtun::daemon::tune {

namespace {

// Seconds. A point restarts both daemons (a new TUN, a handshake: 0.3 s on a busy 2-CPU
// machine), measures latency (a few hundred round trips, capped; 30 ms when none is lost)
// and spends the rest on the stream and the small-packet search, half each.
constexpr double kSetup = 3.0;
constexpr double kRestart = 1.0;
constexpr double kLatencyCap = 0.5;
constexpr unsigned kLatencyTrips = 300;
constexpr unsigned kCapacitySteps = 4;
// The variable part of a point: 2 s gives a 1 s stream (too short for less: slow start and
// the 10 ms resolution of /proc's CPU times) and 0.25 s per offered rate; beyond 12 s (a 6 s
// stream) longer runs no longer change the figures much, more points would.
constexpr double kVariableMin = 2.0;
constexpr double kVariableMax = 12.0;

Timing timing_for(double variable_s) {
    Timing t;
    t.throughput_s = variable_s / 2;
    t.warmup_s = std::min(0.5, t.throughput_s / 5);
    t.capacity_step_s = variable_s / 2 / kCapacitySteps;
    t.capacity_steps = kCapacitySteps;
    t.latency_trips = kLatencyTrips;
    t.latency_cap_s = kLatencyCap;
    t.restart_s = kRestart;
    return t;
}

std::string quoted(std::string_view s) {
    return "\"" + std::string(s) + "\"";
}

Point varied(int priority, conf::RingTunables ring, std::string skip = {}) {
    Point p;
    p.ring = ring;
    p.priority = priority;
    p.skip = std::move(skip);
    return p;
}

// The io_uring keys, from the defaults; on the epoll backend they have no effect.
void add_io_uring_points(const Defaults& d, std::vector<Point>& out) {
    const std::string skip = d.epoll ? "no effect on the epoll backend, the default here" : "";
    conf::RingTunables r;
    r.tun_read = d.tun_read_multishot ? conf::TunRead::slots : conf::TunRead::multishot;
    out.push_back(varied(3, r, skip));
    // tun_rx_slots counts the reads of "slots" only.
    conf::RingTunables slots;
    if (d.tun_read_multishot) slots.tun_read = conf::TunRead::slots;
    for (const auto& [n, prio] : {std::pair{8U, 10}, std::pair{128U, 11}}) {
        if (n == d.tun_rx_slots) continue;
        slots.tun_rx_slots = n;
        out.push_back(varied(prio, slots, skip));
    }
    for (const auto& [n, prio] : {std::pair{512U, 13}, std::pair{1024U, 20}, std::pair{4096U, 8}}) {
        if (n == d.entries) continue;
        r = {};
        r.entries = n;
        out.push_back(varied(prio, r, skip));
    }
    r = {};
    r.tun_blocking = !d.tun_blocking;
    out.push_back(varied(4, r, skip));
    r = {};
    r.sqpoll_idle_ms = 50;
    out.push_back(varied(5, r, skip));
}

}  // namespace

std::vector<std::string> ring_lines(const conf::RingTunables& r) {
    std::vector<std::string> out;
    if (r.backend == conf::Backend::io_uring) out.push_back("backend = " + quoted("io_uring"));
    if (r.backend == conf::Backend::epoll) out.push_back("backend = " + quoted("epoll"));
    if (r.entries) out.push_back("entries = " + std::to_string(*r.entries));
    if (r.tun_read) out.push_back("tun_read = " + quoted(conf::to_string(*r.tun_read)));
    if (r.tun_rx_slots) out.push_back("tun_rx_slots = " + std::to_string(*r.tun_rx_slots));
    if (r.udp_rx_slots) out.push_back("udp_rx_slots = " + std::to_string(*r.udp_rx_slots));
    if (r.tx_slots) out.push_back("tx_slots = " + std::to_string(*r.tx_slots));
    if (r.tun_blocking)
        out.push_back(std::string("tun_blocking = ") + (*r.tun_blocking ? "true" : "false"));
    if (r.sqpoll_idle_ms != 0)
        out.push_back("sqpoll_idle_ms = " + std::to_string(r.sqpoll_idle_ms));
    if (r.tcp_rx_buffers) out.push_back("tcp_rx_buffers = " + std::to_string(*r.tcp_rx_buffers));
    if (r.tcp_max_connections)
        out.push_back("tcp_max_connections = " + std::to_string(*r.tcp_max_connections));
    return out;
}

std::string label(const Point& p) {
    if (p.repeat) return "defaults (again)";
    const std::vector<std::string> lines = ring_lines(p.ring);
    if (lines.empty()) return "defaults";
    std::string out;
    for (const std::string& l : lines)
        out += (out.empty() ? "" : ", ") + l;
    return out;
}

std::vector<Point> candidate_points(const Defaults& d) {
    std::vector<Point> out;
    Point defaults;
    defaults.defaults = true;
    out.push_back(defaults);
    conf::RingTunables r;
    r.backend = d.epoll ? conf::Backend::io_uring : conf::Backend::epoll;
    out.push_back(varied(2, r));
    add_io_uring_points(d, out);
    for (const auto& [n, prio] : {std::pair{64U, 14}, std::pair{256U, 9}, std::pair{1024U, 6}}) {
        r = {};
        r.udp_rx_slots = n;
        out.push_back(varied(prio, r));
    }
    for (const auto& [n, prio] : {std::pair{256U, 12}, std::pair{512U, 20}, std::pair{1024U, 7}}) {
        if (n == d.tx_slots) continue;
        r = {};
        r.tx_slots = n;
        out.push_back(varied(prio, r));
    }
    Point again = defaults;
    again.repeat = true;
    again.priority = 1;
    out.push_back(again);
    return out;
}

double Timing::point_s() const noexcept {
    return restart_s + throughput_s + capacity_step_s * capacity_steps + latency_cap_s;
}

std::size_t Plan::runnable() const noexcept {
    return static_cast<std::size_t>(std::count_if(
        points.begin(), points.end(), [](const Point& p) { return p.skip.empty() && !p.spare; }));
}

std::size_t Plan::spares() const noexcept {
    return static_cast<std::size_t>(std::count_if(
        points.begin(), points.end(), [](const Point& p) { return p.skip.empty() && p.spare; }));
}

double Plan::estimate_s() const noexcept {
    return setup_s + static_cast<double>(runnable()) * timing.point_s();
}

// The setup and three points at the shortest timing, rounded up.
constexpr double kMinimumBudget = 15;
static_assert(kMinimumBudget >= kSetup + 3 * (kRestart + kLatencyCap + kVariableMin));

double minimum_budget_s() noexcept {
    return kMinimumBudget;
}

Plan plan_sweep(std::vector<Point> points, double budget_s) {
    Plan plan;
    plan.setup_s = kSetup;
    plan.points = std::move(points);
    const double fixed = kRestart + kLatencyCap;
    const double per_point_room = budget_s - kSetup;
    const std::size_t n = plan.runnable();
    const double share = n == 0 ? kVariableMax : per_point_room / static_cast<double>(n) - fixed;
    if (share >= kVariableMin) {
        plan.timing = timing_for(std::min(share, kVariableMax));
        return plan;
    }
    // Not all fit: keep as many as fit at the shortest timing, by priority (the stable sort
    // keeps the listed order among equals).
    plan.timing = timing_for(kVariableMin);
    const auto fit =
        static_cast<std::size_t>(std::max(0.0, std::floor(per_point_room / plan.timing.point_s())));
    std::vector<Point*> order;
    for (Point& p : plan.points)
        if (p.skip.empty()) order.push_back(&p);
    std::stable_sort(order.begin(), order.end(),
                     [](const Point* a, const Point* b) { return a->priority < b->priority; });
    for (std::size_t i = fit; i < order.size(); ++i)
        order[i]->spare = true;
    return plan;
}

}  // namespace ringtun::daemon::tune
