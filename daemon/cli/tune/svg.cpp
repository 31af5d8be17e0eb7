#include "daemon/cli/tune/svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ringtun::daemon::tune {

namespace {

// The canvas and the plot inside it (pixels); the bottom margin holds the slanted labels.
constexpr double kWidth = 1000, kHeight = 600;
constexpr double kLeft = 80, kRight = 920, kTop = 70, kBottom = 400;
constexpr int kTicks = 5;

const char* const kBarColour = "#4e79a7";
const char* const kDefaultsColour = "#9a9a9a";
const char* const kBestColour = "#59a14f";
const char* const kCpuColour = "#e15759";

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
}

std::string px(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

// The smallest 1, 2, 2.5 or 5 times a power of ten at or above `v`: a round top for an axis.
double round_up(double v) {
    if (!(v > 0)) return 1;
    const double p = std::pow(10.0, std::floor(std::log10(v)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * p >= v * (1 - 1e-9)) return m * p;
    return 10 * p;
}

std::string text(double x, double y, std::string_view body, std::string_view attrs = "") {
    return "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\"" +
           (attrs.empty() ? "" : " " + std::string(attrs)) + ">" + xml_escape(body) + "</text>\n";
}

std::string line(double x1, double y1, double x2, double y2, std::string_view attrs) {
    return "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" +
           px(y2) + "\" " + std::string(attrs) + "/>\n";
}

// Both y axes with their ticks, grid lines and titles.
std::string axes(double gbit_top, double cpu_top) {
    std::string out;
    for (int i = 0; i <= kTicks; ++i) {
        const double y = kBottom - (kBottom - kTop) * i / kTicks;
        out += line(kLeft, y, kRight, y, "stroke=\"#e0e0e0\"");
        out += text(kLeft - 8, y + 4, num(gbit_top * i / kTicks), "text-anchor=\"end\"");
        out += text(kRight + 8, y + 4, num(cpu_top * i / kTicks),
                    "fill=\"" + std::string(kCpuColour) + "\"");
    }
    out += line(kLeft, kTop, kLeft, kBottom, "stroke=\"black\"");
    out += line(kRight, kTop, kRight, kBottom, "stroke=\"black\"");
    out += line(kLeft, kBottom, kRight, kBottom, "stroke=\"black\"");
    const double mid = (kTop + kBottom) / 2;
    out += text(25, mid, "throughput, Gbit/s (bars)",
                "text-anchor=\"middle\" transform=\"rotate(-90 25 " + px(mid) + ")\"");
    out += text(kWidth - 20, mid, "CPU seconds per GB (dots)",
                "text-anchor=\"middle\" fill=\"" + std::string(kCpuColour) +
                    "\" transform=\"rotate(90 " + px(kWidth - 20) + " " + px(mid) + ")\"");
    return out;
}

struct Scale {
    double gbit_top, cpu_top, slot;
    double y_gbit(double v) const { return kBottom - (kBottom - kTop) * v / gbit_top; }
    double y_cpu(double v) const { return kBottom - (kBottom - kTop) * v / cpu_top; }
};

std::string bar(const Outcome& o, std::size_t i, const Scale& s, bool best) {
    const Figures& f = *o.figures;
    const double x = kLeft + s.slot * static_cast<double>(i);
    const double w = s.slot * 0.6, cx = x + s.slot / 2;
    const double y = s.y_gbit(f.gbit_s);
    const char* colour = best ? kBestColour : o.point.defaults ? kDefaultsColour : kBarColour;
    std::string out = "<rect x=\"" + px(cx - w / 2) + "\" y=\"" + px(y) + "\" width=\"" + px(w) +
                      "\" height=\"" + px(kBottom - y) + "\" fill=\"" + colour + "\"/>\n";
    out += text(cx, y - 4, num(f.gbit_s), "text-anchor=\"middle\" font-size=\"11\"");
    out += "<circle cx=\"" + px(cx) + "\" cy=\"" + px(s.y_cpu(f.cpu_s_per_gb)) +
           "\" r=\"4\" fill=\"" + kCpuColour + "\"/>\n";
    const std::string lx = px(cx), ly = px(kBottom + 14);
    out += text(
        cx, kBottom + 14, label(o.point),
        "text-anchor=\"end\" font-size=\"11\" transform=\"rotate(-35 " + lx + " " + ly + ")\"");
    return out;
}

std::string legend(double baseline_y) {
    std::string out;
    out += line(kLeft, baseline_y, kRight, baseline_y,
                "stroke=\"" + std::string(kDefaultsColour) + "\" stroke-dasharray=\"6 4\"");
    const double y = kHeight - 20;
    const std::pair<const char*, const char*> keys[] = {{kDefaultsColour, "defaults"},
                                                        {kBestColour, "recommended"},
                                                        {kBarColour, "one key changed"}};
    double x = kLeft;
    for (const auto& [colour, name] : keys) {
        out += "<rect x=\"" + px(x) + "\" y=\"" + px(y - 10) +
               "\" width=\"12\" height=\"12\" fill=\"" + colour + "\"/>\n";
        out += text(x + 18, y, name);
        x += 150;
    }
    out += "<circle cx=\"" + px(x + 6) + "\" cy=\"" + px(y - 4) + "\" r=\"4\" fill=\"" +
           kCpuColour + "\"/>\n";
    out += text(x + 18, y, "CPU seconds per GB (both daemons)");
    out += line(x + 270, y - 4, x + 300, y - 4,
                "stroke=\"" + std::string(kDefaultsColour) + "\" stroke-dasharray=\"6 4\"");
    out += text(x + 306, y, "the defaults (mean)");
    return out;
}

}  // namespace

std::string xml_escape(std::string_view in) {
    std::string out;
    for (char ch : in) {
        switch (ch) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                const auto u = static_cast<unsigned char>(ch);
                out += (u < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') ? '?' : ch;
        }
    }
    return out;
}

std::string sweep_svg(const std::vector<Outcome>& outcomes, const std::optional<Choice>& choice,
                      std::string_view title, std::string_view subtitle) {
    std::vector<std::size_t> measured;
    double gbit_max = 0, cpu_max = 0;
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        if (!outcomes[i].figures) continue;
        measured.push_back(i);
        gbit_max = std::max(gbit_max, outcomes[i].figures->gbit_s);
        cpu_max = std::max(cpu_max, outcomes[i].figures->cpu_s_per_gb);
    }
    const Scale s{
        round_up(gbit_max * 1.1), round_up(cpu_max * 1.1),
        (kRight - kLeft) / static_cast<double>(std::max<std::size_t>(measured.size(), 1))};
    std::string out =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" +
        px(kWidth) + "\" height=\"" + px(kHeight) + "\" viewBox=\"0 0 " + px(kWidth) + " " +
        px(kHeight) + "\" font-family=\"sans-serif\" font-size=\"13\">\n";
    out += "<title>" + xml_escape(title) + "</title>\n";
    out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    out += text(kWidth / 2, 28, title, "text-anchor=\"middle\" font-size=\"17\"");
    out += text(kWidth / 2, 48, subtitle, "text-anchor=\"middle\" font-size=\"12\"");
    out += axes(s.gbit_top, s.cpu_top);
    for (std::size_t k = 0; k < measured.size(); ++k) {
        const std::size_t i = measured[k];
        const bool best = choice && !choice->keep_defaults && choice->best == i;
        out += bar(outcomes[i], k, s, best);
    }
    if (measured.empty())
        out += text((kLeft + kRight) / 2, (kTop + kBottom) / 2, "no point was measured",
                    "text-anchor=\"middle\"");
    out += legend(choice ? s.y_gbit(choice->baseline.gbit_s) : kBottom);
    return out + "</svg>\n";
}

}  // namespace ringtun::daemon::tune
