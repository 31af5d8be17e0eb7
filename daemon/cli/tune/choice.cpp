#include "daemon/cli/tune/choice.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ringtun::daemon::tune {

namespace {

Figures mean(const std::vector<const Figures*>& runs) {
    Figures m;
    for (const Figures* f : runs) {
        m.gbit_s += f->gbit_s;
        m.cpu_s_per_gb += f->cpu_s_per_gb;
        m.capacity_kpps += f->capacity_kpps;
        m.rtt_us += f->rtt_us;
    }
    const auto n = static_cast<double>(runs.size());
    m.gbit_s /= n;
    m.cpu_s_per_gb /= n;
    m.capacity_kpps /= n;
    m.rtt_us /= n;
    return m;
}

// |a - b| over their mean; 0 when both are 0.
double spread(double a, double b) {
    const double mean = (a + b) / 2;
    return mean > 0 ? std::fabs(a - b) / mean : 0;
}

// Why a point may not win, or empty.
std::string ineligible(const Figures& f, const Choice& c, const Rule& rule) {
    const Figures& base = c.baseline;
    std::string why;
    if (f.capacity_kpps <
        std::min(rule.min_capacity, 1 - c.noise.capacity_kpps) * base.capacity_kpps)
        why = "capacity " + percent(f.capacity_kpps, base.capacity_kpps);
    if (f.rtt_us > std::max(rule.max_rtt, 1 + c.noise.rtt_us) * base.rtt_us)
        why += (why.empty() ? "" : ", ") + std::string("RTT ") + percent(f.rtt_us, base.rtt_us);
    return why.empty() ? why : "ineligible: " + why + " against the defaults";
}

std::string pct(double fraction) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f%%", fraction * 100);
    return buf;
}

// The defaults' figures (the mean of their runs), the noise and the margin into `c`, with
// `c.best` at their first run; false if they were not measured.
bool baseline(const std::vector<Outcome>& outcomes, const Rule& rule, Choice& c) {
    std::vector<const Figures*> runs;
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        const Outcome& o = outcomes[i];
        if (!o.point.defaults || !o.figures) continue;
        if (runs.empty()) c.best = i;
        runs.push_back(&*o.figures);
    }
    if (runs.empty()) return false;
    c.runs = static_cast<unsigned>(runs.size());
    c.baseline = mean(runs);
    if (runs.size() > 1) {
        const Figures &a = *runs[0], &b = *runs[1];
        c.noise = Figures{spread(a.gbit_s, b.gbit_s), spread(a.cpu_s_per_gb, b.cpu_s_per_gb),
                          spread(a.capacity_kpps, b.capacity_kpps), spread(a.rtt_us, b.rtt_us)};
    }
    c.margin = std::max(rule.tie, c.noise.gbit_s);
    return true;
}

// The measured points other than the defaults that may win; the others' notes say why not.
std::vector<std::size_t> mark_eligible(std::vector<Outcome>& outcomes, const Choice& c,
                                       const Rule& rule) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        Outcome& o = outcomes[i];
        if (o.point.defaults || !o.figures) continue;
        o.note = ineligible(*o.figures, c, rule);
        if (o.note.empty()) out.push_back(i);
    }
    return out;
}

}  // namespace

std::string percent(double value, double base) {
    if (base == 0) return "n/a";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%+.1f%%", (value / base - 1) * 100);
    return buf;
}

std::optional<Choice> choose(std::vector<Outcome>& outcomes, const Rule& rule) {
    Choice c;
    if (!baseline(outcomes, rule, c)) return std::nullopt;
    const std::vector<std::size_t> eligible = mark_eligible(outcomes, c, rule);
    double top = c.baseline.gbit_s;
    for (std::size_t i : eligible)
        top = std::max(top, outcomes[i].figures->gbit_s);
    const double floor = top * (1 - c.margin);
    std::optional<std::size_t> cheapest;  // the lowest CPU per GB among the tied
    for (std::size_t i : eligible) {
        const Figures& f = *outcomes[i].figures;
        if (f.gbit_s < floor) continue;
        if (!cheapest || f.cpu_s_per_gb < outcomes[*cheapest].figures->cpu_s_per_gb) cheapest = i;
    }
    const Figures& base = c.baseline;
    if (base.gbit_s < floor) {
        c.best = *cheapest;  // the fastest is tied with itself, so there is one
        c.keep_defaults = false;
        c.why = "fastest (throughputs within " + pct(c.margin) +
                " counted equal, the lower CPU per GB taken): " +
                percent(outcomes[c.best].figures->gbit_s, base.gbit_s) + " over the defaults";
    } else if (cheapest &&
               outcomes[*cheapest].figures->cpu_s_per_gb < base.cpu_s_per_gb * (1 - c.margin)) {
        c.best = *cheapest;
        c.keep_defaults = false;
        c.why = "as fast as the defaults (within " + pct(c.margin) + ") at " +
                percent(outcomes[*cheapest].figures->cpu_s_per_gb, base.cpu_s_per_gb) +
                " CPU per GB";
    } else {
        c.why = "no point was faster than the defaults by more than " + pct(c.margin) +
                ", nor as fast at more than " + pct(c.margin) + " less CPU per GB";
    }
    if (!c.keep_defaults) outcomes[c.best].note = "recommended";
    return c;
}

}  // namespace ringtun::daemon::tune
