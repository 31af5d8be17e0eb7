#include "daemon/cli/tune/tune.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "daemon/cli/backend_plan.hpp"
#include "daemon/cli/tune/choice.hpp"
#include "daemon/cli/tune/csv.hpp"
#include "daemon/cli/tune/interrupt.hpp"
#include "daemon/cli/tune/lab.hpp"
#include "daemon/cli/tune/report.hpp"
#include "daemon/cli/tune/svg.hpp"
#include "daemon/cli/tune/sweep.hpp"

namespace ringtun::daemon::tune {

namespace {

using Clock = std::chrono::steady_clock;

// The defaults for this host and the plan: every point asked of plan_backend, the check
// `ringtun check` and `run` make, so a point the daemon would refuse is skipped with its
// reason.
util::Result<Plan> make_plan(double budget_s, Defaults& d) {
    auto defaults = plan_backend(Settings{});
    if (!defaults) return util::fail(defaults.error());
    d.epoll = defaults->epoll;
    d.tun_read_multishot = defaults->params.tun_read_multishot;
    d.tun_blocking = defaults->tun_blocking;
    std::vector<Point> points = candidate_points(d);
    for (Point& p : points) {
        if (!p.skip.empty() || p.defaults) continue;
        Settings s;
        s.ring = p.ring;
        if (auto checked = plan_backend(s); !checked) p.skip = checked.error().to_string();
    }
    return plan_sweep(std::move(points), budget_s);
}

// "Linux 6.18.44, 2 CPUs"
std::string host_line() {
    utsname u{};
    const std::string release = ::uname(&u) == 0 ? u.release : "?";
    return "Linux " + release + ", " + std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) + " CPUs";
}

std::string defaults_line(const Defaults& d) {
    if (d.epoll) return "defaults: the epoll backend (io_uring refused)";
    return std::string("defaults: io_uring, tun_read = \"") +
           (d.tun_read_multishot ? "multishot" : "slots") +
           "\", tun_blocking = " + (d.tun_blocking ? "true" : "false");
}

void announce(const Plan& plan, double budget_s) {
    const Timing& t = plan.timing;
    const std::string spares =
        plan.spares() == 0 ? ""
                           : " (and " + std::to_string(plan.spares()) + " more if time allows)";
    std::fprintf(stderr,
                 "ringtun tune: %zu of %zu points%s, at most %.0f s each (a %.1f s TCP stream, "
                 "%u small-packet steps of %.2f s, %u round trips), about %.0f s of the %.0f s "
                 "budget; Ctrl-C stops and cleans up\n",
                 plan.runnable(), plan.points.size(), spares.c_str(), t.point_s(), t.throughput_s,
                 t.capacity_steps, t.capacity_step_s, t.latency_trips, plan.estimate_s(), budget_s);
}

bool write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (out) return true;
    std::fprintf(stderr, "ringtun tune: cannot write %s\n", path.c_str());
    return false;
}

// The table, the recommendation and the files; the exit status. `summary`: the defaults
// and what the sweep did.
int report(std::vector<Outcome>& outcomes, const std::string& summary, const Options& o) {
    const std::optional<Choice> choice = choose(outcomes);
    const std::string context = host_line() + "; " + summary;
    std::printf("ringtun tune: %s\n\n%s", context.c_str(), sweep_table(outcomes).c_str());
    std::printf("\n%s", recommendation(outcomes, choice, "ringtun tune: " + context).c_str());
    std::fflush(stdout);
    const bool csv = write_file(o.csv, sweep_csv(outcomes));
    const bool svg =
        write_file(o.svg, sweep_svg(outcomes, choice, "ringtun tune: " + host_line(), summary));
    if (csv && svg)
        std::fprintf(stderr, "ringtun tune: wrote %s and %s\n", o.csv.c_str(), o.svg.c_str());
    if (interrupted()) return 128 + interrupt_signal();
    return csv && svg && choice ? 0 : 1;
}

}  // namespace

int tune_command(const Options& o) {
    if (::geteuid() != 0) {
        std::fputs("ringtun tune: needs root (it creates network namespaces and TUN devices)\n",
                   stderr);
        return 1;
    }
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(o.budget_s));
    InterruptGuard guard;
    Defaults d;
    auto plan = make_plan(o.budget_s, d);
    if (!plan) {
        std::fprintf(stderr, "ringtun tune: %s\n", plan.error().to_string().c_str());
        return 1;
    }
    announce(*plan, o.budget_s);
    SweepResult result;
    {
        auto lab = Lab::create();  // removed at the end of this block, before the report
        if (!lab) {
            std::fprintf(stderr, "ringtun tune: %s\n", lab.error().to_string().c_str());
            return interrupted() ? 128 + interrupt_signal() : 1;
        }
        result = run_sweep(**lab, *plan, deadline);
    }
    char summary[160];
    std::snprintf(summary, sizeof summary, "; %zu point%s measured in %.0f s%s%s", result.measured,
                  result.measured == 1 ? "" : "s",
                  std::chrono::duration<double>(Clock::now() - start).count(),
                  result.budget_ran_out ? " (the budget ran out)" : "",
                  interrupted() ? " (interrupted)" : "");
    return report(result.outcomes, defaults_line(d) + summary, o);
}

}  // namespace ringtun::daemon::tune
