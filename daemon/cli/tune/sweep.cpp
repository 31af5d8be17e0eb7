#include "daemon/cli/tune/sweep.hpp"

#include <algorithm>
#include <cstdio>

#include "daemon/cli/tune/interrupt.hpp"
#include "daemon/cli/tune/measure.hpp"

namespace ringtun::daemon::tune {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

void progress(std::size_t n, std::size_t of, const Outcome& o, double seconds) {
    const std::string name = label(o.point);
    if (const auto& f = o.figures)
        std::fprintf(stderr,
                     "ringtun tune: [%zu/%zu] %s: %.2f Gbit/s, %.2f CPU s/GB, %.1f kpps, "
                     "RTT %.0f us (%.1f s)\n",
                     n, of, name.c_str(), f->gbit_s, f->cpu_s_per_gb, f->capacity_kpps, f->rtt_us,
                     seconds);
    else
        std::fprintf(stderr, "ringtun tune: [%zu/%zu] %s: failed: %s\n", n, of, name.c_str(),
                     o.note.c_str());
}

// One point: the daemons restarted with its [ring], then the measurements.
void measure(Lab& lab, const Timing& timing, Outcome& o) {
    if (auto started = lab.start(ring_lines(o.point.ring)); !started) {
        o.note = started.error().to_string();
        return;
    }
    auto figures = measure_point(lab, timing);
    if (figures)
        o.figures = *figures;
    else
        o.note = figures.error().to_string();
}

}  // namespace

// Indexes into plan.points in the order they run.
std::vector<std::size_t> run_order(const Plan& plan) {
    std::vector<std::size_t> planned, spares, repeat;
    for (std::size_t i = 0; i < plan.points.size(); ++i) {
        const Point& p = plan.points[i];
        if (!p.skip.empty()) continue;
        (p.repeat ? repeat : p.spare ? spares : planned).push_back(i);
    }
    std::stable_sort(spares.begin(), spares.end(), [&](std::size_t a, std::size_t b) {
        return plan.points[a].priority < plan.points[b].priority;
    });
    planned.insert(planned.end(), spares.begin(), spares.end());
    planned.insert(planned.end(), repeat.begin(), repeat.end());
    return planned;
}

SweepResult run_sweep(Lab& lab, const Plan& plan, Clock::time_point deadline) {
    SweepResult r;
    for (const Point& p : plan.points)
        r.outcomes.push_back(Outcome{p, std::nullopt, {}});
    const std::vector<std::size_t> order = run_order(plan);
    const bool repeat_planned = std::any_of(order.begin(), order.end(),
                                            [&](std::size_t i) { return plan.points[i].repeat; });
    double longest = plan.timing.point_s();
    bool measured_one = false;
    for (std::size_t k = 0; k < order.size(); ++k) {
        Outcome& o = r.outcomes[order[k]];
        // 10% to spare: points differ (SQPOLL's take longer to stop).
        const double needed = 1.1 * longest * ((o.point.spare && repeat_planned) ? 2 : 1);
        if (interrupted()) {
            o.point.skip = "interrupted";
        } else if (Clock::now() + std::chrono::duration<double>(needed) > deadline) {
            o.point.skip =
                o.point.spare ? "no room in the budget (--budget)" : "the budget ran out";
            r.budget_ran_out = r.budget_ran_out || !o.point.spare;
        } else {
            const auto start = Clock::now();
            measure(lab, plan.timing, o);
            if (interrupted() && !o.figures) {
                o.point.skip = "interrupted";
                o.note.clear();
                continue;
            }
            const double took = since(start);
            if (o.figures) {  // a failure may be quick; it says nothing of the next point
                longest = measured_one ? std::max(longest, took) : took;
                measured_one = true;
                ++r.measured;
            }
            progress(k + 1, order.size(), o, took);
        }
    }
    lab.stop();
    return r;
}

}  // namespace ringtun::daemon::tune
