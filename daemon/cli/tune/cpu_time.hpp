// A process's CPU time (user and system, all its threads) from /proc/PID/stat, for
// `ringtun tune`'s CPU per GB. The parsing is sans-IO so tests can feed it lines.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "util/result.hpp"

namespace ringtun::daemon::tune {

// utime + stime (fields 14 and 15, in clock ticks) of a /proc/PID/stat line. The command
// name (field 2, in parentheses) may hold spaces and parentheses, so fields are counted from
// the last ')'. nullopt if the line does not have them.
std::optional<std::uint64_t> parse_cpu_ticks(std::string_view stat) noexcept;

// The CPU seconds `pid` has used so far (resolution: one clock tick, 10 ms on most kernels).
util::Result<double> cpu_seconds(pid_t pid);

}  // namespace ringtun::daemon::tune
