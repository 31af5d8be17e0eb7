// `ringtun tune`'s CPU times without a host: /proc/PID/stat lines as the kernel writes them,
// command names that hold spaces and parentheses, and lines that are cut or garbled.
#include "daemon/cli/tune/cpu_time.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace ringtun::daemon::tune;

TEST_CASE("parse_cpu_ticks: utime + stime, counted from the last ')'") {
    const std::string line =
        "4242 (ringtun) S 1 4242 4242 0 -1 4194560 1261 0 0 0 250 37 0 0 20 0 3 0 123 0 0";
    CHECK(parse_cpu_ticks(line) == 287u);
    // A command name with spaces and parentheses.
    CHECK(parse_cpu_ticks("7 (a) b (c) R 1 7 7 0 -1 0 0 0 0 0 9 1 0 0") == 10u);
    CHECK(!parse_cpu_ticks("7 (short) R 1 2 3"));
    CHECK(!parse_cpu_ticks("no parenthesis"));
    CHECK(!parse_cpu_ticks("7 (x) R 1 7 7 0 -1 0 0 0 0 0 9x 1 0 0"));
}
