// A writer of the Prometheus text exposition format (0.0.4): metric families, each with its
// HELP and TYPE lines, then its samples. Label values and help texts are escaped as the
// format requires; names are the caller's constants and must already be valid
// ([a-zA-Z_:][a-zA-Z0-9_:]*). Every sample carries the writer's constant labels first (the
// interface), so the endpoints of several tunnels on one host can be told apart.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace ringtun::daemon::control {

struct MetricLabel {
    std::string_view name, value;
};

class MetricsText {
  public:
    enum class Type { counter, gauge };

    // Appends to `out`; `constant` labels are copied.
    MetricsText(std::string& out, std::initializer_list<MetricLabel> constant);

    // Starts a family. A counter's name ends in _total (the format's convention, which
    // promtool checks).
    void family(std::string_view name, Type type, std::string_view help);
    // A sample of the current family.
    void sample(std::uint64_t value, std::initializer_list<MetricLabel> labels = {});
    // A family with a single sample and no labels of its own.
    void single(std::string_view name, Type type, std::string_view help, std::uint64_t value) {
        family(name, type, help);
        sample(value);
    }

  private:
    std::string& out_;
    std::string constant_;  // `name="value"` pairs, comma-separated
    std::string name_;      // of the current family
};

// `value` with backslash, double quote and line feed escaped, as label values are written.
void append_label_value(std::string& out, std::string_view value);

}  // namespace ringtun::daemon::control
