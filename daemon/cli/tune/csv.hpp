// `ringtun tune --csv`: the sweep as comma-separated values (RFC 4180: a header line, one
// row per point, CRLF line ends, fields quoted where they hold a comma, a quote or a line
// break), for spreadsheets and scripts. Sans-IO: the text is returned.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "daemon/cli/tune/choice.hpp"

namespace ringtun::daemon::tune {

// The field as RFC 4180 writes it: as it is, or in double quotes with quotes doubled.
std::string csv_field(std::string_view text);

// "measured", "skipped" (not run: the point's skip says why) or "failed" (the note says).
std::string_view status(const Outcome& o) noexcept;

// Columns: point, status, throughput_gbit_s, cpu_s_per_gb, capacity_kpps, rtt_median_us,
// note; the figures empty where there are none.
std::string sweep_csv(const std::vector<Outcome>& outcomes);

}  // namespace ringtun::daemon::tune
