#include "daemon/control/metrics_text.hpp"

namespace ringtun::daemon::control {

namespace {

void append_label(std::string& out, const MetricLabel& l) {
    out += l.name;
    out += "=\"";
    append_label_value(out, l.value);
    out += '"';
}

}  // namespace

void append_label_value(std::string& out, std::string_view value) {
    for (const char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
}

MetricsText::MetricsText(std::string& out, std::initializer_list<MetricLabel> constant)
    : out_(out) {
    for (const MetricLabel& l : constant) {
        if (!constant_.empty()) constant_ += ',';
        append_label(constant_, l);
    }
}

void MetricsText::family(std::string_view name, Type type, std::string_view help) {
    name_ = name;
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    // A help text escapes backslash and line feed (not the double quote).
    for (const char c : help) {
        if (c == '\\')
            out_ += "\\\\";
        else if (c == '\n')
            out_ += "\\n";
        else
            out_ += c;
    }
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += type == Type::counter ? " counter\n" : " gauge\n";
}

void MetricsText::sample(std::uint64_t value, std::initializer_list<MetricLabel> labels) {
    out_ += name_;
    if (!constant_.empty() || labels.size() != 0) {
        out_ += '{';
        out_ += constant_;
        bool first = constant_.empty();
        for (const MetricLabel& l : labels) {
            if (!first) out_ += ',';
            first = false;
            append_label(out_, l);
        }
        out_ += '}';
    }
    out_ += ' ';
    out_ += std::to_string(value);
    out_ += '\n';
}

}  // namespace ringtun::daemon::control
