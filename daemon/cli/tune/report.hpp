// `ringtun tune`'s text output, sans-IO: the table of the sweep (one row per point) and the
// recommended [ring] section with the figures that justify it against the defaults, written
// as TOML comments so the whole block can be pasted into a configuration.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/cli/tune/choice.hpp"

namespace ringtun::daemon::tune {

// Aligned columns: #, point, Gbit/s, CPU s/GB, kpps (64-byte), RTT µs, note (the verdict,
// or why a point was skipped or failed).
std::string sweep_table(const std::vector<Outcome>& outcomes);

// The recommendation: comment lines (`context` first: where and how the sweep ran), then
// "[ring]" and the winner's keys, or an empty section when the defaults win. Without a
// choice (the defaults were not measured) only comments saying so.
std::string recommendation(const std::vector<Outcome>& outcomes,
                           const std::optional<Choice>& choice, std::string_view context);

}  // namespace ringtun::daemon::tune
