#include "daemon/cli/tune/report.hpp"

#include <algorithm>
#include <cstdio>

namespace ringtun::daemon::tune {

namespace {

std::string format(const char* fmt, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, fmt, v);
    return buf;
}

std::string row(std::size_t n, const Outcome& o, std::size_t width) {
    char head[32];
    std::snprintf(head, sizeof head, "%3zu  ", n);
    std::string out = head + label(o.point);
    out.append(width + 2 > label(o.point).size() ? width + 2 - label(o.point).size() : 1, ' ');
    char figures[96];
    if (const auto& f = o.figures)
        std::snprintf(figures, sizeof figures, "%7.2f  %8.2f  %9.1f  %6.0f  ", f->gbit_s,
                      f->cpu_s_per_gb, f->capacity_kpps, f->rtt_us);
    else
        std::snprintf(figures, sizeof figures, "%7s  %8s  %9s  %6s  ", "-", "-", "-", "-");
    out += figures;
    if (!o.figures && !o.point.skip.empty())
        out += "skipped: " + o.point.skip;
    else if (!o.figures)
        out += "failed: " + o.note;
    else
        out += o.point.defaults ? "baseline" : o.note;
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    std::replace(out.begin(), out.end(), '\n', ' ');  // one line per row, whatever a note says
    return out + "\n";
}

// "#   throughput  3.41 Gbit/s   defaults 3.12   +9.3%"
std::string compare(const char* what, const char* fmt, const char* unit, double v, double base) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "#   %-11s %10s %-8s defaults %-9s %s\n", what,
                  format(fmt, v).c_str(), unit, format(fmt, base).c_str(),
                  percent(v, base).c_str());
    return buf;
}

std::string baseline_line(const Choice& c) {
    char buf[320];
    int n = std::snprintf(buf, sizeof buf,
                          "# the defaults: %.2f Gbit/s, %.2f CPU s/GB, %.1f kpps, median RTT %.0f "
                          "us\n",
                          c.baseline.gbit_s, c.baseline.cpu_s_per_gb, c.baseline.capacity_kpps,
                          c.baseline.rtt_us);
    if (c.runs < 2) return std::string(buf) + "# noise: unknown (the defaults ran once)\n";
    std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n),
                  "# noise (their two runs differ by): throughput %.0f%%, CPU per GB %.0f%%, "
                  "capacity %.0f%%, RTT %.0f%%\n",
                  c.noise.gbit_s * 100, c.noise.cpu_s_per_gb * 100, c.noise.capacity_kpps * 100,
                  c.noise.rtt_us * 100);
    return buf;
}

}  // namespace

std::string sweep_table(const std::vector<Outcome>& outcomes) {
    std::size_t width = 5;
    for (const Outcome& o : outcomes)
        width = std::max(width, label(o.point).size());
    std::string out = "  #  point";
    out.append(width + 2 - 5, ' ');
    out += " Gbit/s  CPU s/GB  kpps 64 B  RTT us  note\n";
    for (std::size_t i = 0; i < outcomes.size(); ++i)
        out += row(i + 1, outcomes[i], width);
    return out;
}

std::string recommendation(const std::vector<Outcome>& outcomes,
                           const std::optional<Choice>& choice, std::string_view context) {
    std::string out = "# " + std::string(context) + "\n";
    if (!choice) return out + "# the defaults were not measured: no recommendation\n";
    out += baseline_line(*choice);
    if (choice->keep_defaults) {
        out += "# keep the defaults: " + choice->why + "\n";
        return out + "[ring]\n";
    }
    const Outcome& best = outcomes[choice->best];
    const Figures& f = *best.figures;
    const Figures& b = choice->baseline;
    out += "# " + label(best.point) + ": " + choice->why + "\n";
    out += compare("throughput", "%.2f", "Gbit/s", f.gbit_s, b.gbit_s);
    out += compare("CPU per GB", "%.2f", "s", f.cpu_s_per_gb, b.cpu_s_per_gb);
    out += compare("capacity", "%.1f", "kpps", f.capacity_kpps, b.capacity_kpps);
    out += compare("median RTT", "%.0f", "us", f.rtt_us, b.rtt_us);
    out += "[ring]\n";
    for (const std::string& l : ring_lines(best.point.ring))
        out += l + "\n";
    return out;
}

}  // namespace ringtun::daemon::tune
