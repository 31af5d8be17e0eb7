// `ringtun tune --svg`: the sweep drawn as an SVG bar chart, written by hand (no plotting
// library): one bar per measured point for its throughput (the defaults grey, the
// recommendation green, a dashed line at the defaults' level), its CPU per GB as a dot on a
// second axis, the value over each bar. Sans-IO: the document is returned.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/cli/tune/choice.hpp"

namespace ringtun::daemon::tune {

// `text` for XML character data or an attribute value: &, <, >, " and ' as entities, and
// the control characters XML 1.0 does not allow (all below 0x20 but tab, LF and CR) as '?'.
std::string xml_escape(std::string_view text);

// The chart: a complete, well-formed SVG 1.1 document titled `title`, with `subtitle` in
// smaller type under it.
std::string sweep_svg(const std::vector<Outcome>& outcomes, const std::optional<Choice>& choice,
                      std::string_view title, std::string_view subtitle);

}  // namespace ringtun::daemon::tune
