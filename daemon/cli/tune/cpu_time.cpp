#include "daemon/cli/tune/cpu_time.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <string>

namespace ringtun::daemon::tune {

std::optional<std::uint64_t> parse_cpu_ticks(std::string_view stat) noexcept {
    const auto paren = stat.rfind(')');
    if (paren == std::string_view::npos) return std::nullopt;
    std::string_view rest = stat.substr(paren + 1);
    std::uint64_t sum = 0;
    // After ')' come fields 3 (state), 4, ...: utime and stime are the 12th and 13th.
    for (int field = 3; field <= 15; ++field) {
        while (!rest.empty() && rest.front() == ' ')
            rest.remove_prefix(1);
        const auto end = std::min(rest.find(' '), rest.size());
        if (end == 0) return std::nullopt;
        if (field >= 14) {
            std::uint64_t v = 0;
            const auto [p, ec] = std::from_chars(rest.data(), rest.data() + end, v);
            if (ec != std::errc{} || p != rest.data() + end) return std::nullopt;
            sum += v;
        }
        rest.remove_prefix(end);
    }
    return sum;
}

util::Result<double> cpu_seconds(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/stat";
    std::ifstream in(path);
    const std::string line((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto ticks = parse_cpu_ticks(line);
    if (!ticks) return util::fail(util::make_error(path, "cannot read the CPU times"));
    static const long per_second = ::sysconf(_SC_CLK_TCK);
    return static_cast<double>(*ticks) / static_cast<double>(per_second > 0 ? per_second : 100);
}

}  // namespace ringtun::daemon::tune
