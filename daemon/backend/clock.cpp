#include "daemon/backend/clock.hpp"

#include <time.h>

namespace ringtun::daemon {

namespace {

std::uint64_t read_ns(clockid_t id) noexcept {
    timespec t{};
    clock_gettime(id, &t);
    return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000ULL +
           static_cast<std::uint64_t>(t.tv_nsec);
}

}  // namespace

Now read_clock() noexcept {
    return {.boot = read_ns(CLOCK_BOOTTIME), .unix_ns = read_ns(CLOCK_REALTIME)};
}

}  // namespace ringtun::daemon
