#include "daemon/cli/tune/csv.hpp"

#include <cstdio>

namespace ringtun::daemon::tune {

namespace {

std::string number(const char* format, double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, value);
    return buf;
}

}  // namespace

std::string csv_field(std::string_view text) {
    if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
    std::string out = "\"";
    for (char ch : text) {
        if (ch == '"') out += '"';
        out += ch;
    }
    return out + '"';
}

std::string_view status(const Outcome& o) noexcept {
    if (o.figures) return "measured";
    return o.point.skip.empty() ? "failed" : "skipped";
}

std::string sweep_csv(const std::vector<Outcome>& outcomes) {
    std::string out =
        "point,status,throughput_gbit_s,cpu_s_per_gb,capacity_kpps,rtt_median_us,note\r\n";
    for (const Outcome& o : outcomes) {
        out += csv_field(label(o.point)) + ',' + std::string(status(o)) + ',';
        if (const auto& f = o.figures)
            out += number("%.3f", f->gbit_s) + ',' + number("%.3f", f->cpu_s_per_gb) + ',' +
                   number("%.1f", f->capacity_kpps) + ',' + number("%.0f", f->rtt_us) + ',';
        else
            out += ",,,,";
        out += csv_field(o.figures ? o.note : (o.point.skip.empty() ? o.note : o.point.skip));
        out += "\r\n";
    }
    return out;
}

}  // namespace ringtun::daemon::tune
