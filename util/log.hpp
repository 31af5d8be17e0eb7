// Logging to stderr with sd-daemon priority prefixes ("<3>" error ... "<7>" debug) so that
// journald assigns levels; no timestamps (journald adds them).
//
// Errors and warnings always print; debug prints only when enabled at runtime. Anything a
// remote packet can trigger must go through a RateLimit so a flood cannot flood the log.
// Never pass secret material to these functions.
//
// Writing never blocks and never raises SIGPIPE, since the loop thread logs: a line the sink
// cannot take at once (a full pipe, a stalled or vanished reader) is dropped and counted in
// dropped(). How each kind of standard error is written is explained in log.cpp.
#pragma once

#include <chrono>
#include <cstdint>

namespace ringtun::util::log {

// `silent` is only for set_min_level: nothing is written.
enum class Level : int { silent = 0, error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

void set_debug(bool on) noexcept;
bool debug_enabled() noexcept;
// Messages less severe than `level` are not written (default: everything but debug).
void set_min_level(Level level) noexcept;

// Chooses how to write to `fd` (standard error by default) without blocking, and makes it the
// log's destination. The first write() does this for standard error when nobody has; call it
// again after redirecting the fd. Must not run while another thread logs (call it at start-up).
void open_sink(int fd = 2) noexcept;

// How many lines were lost because the sink could not take them at once, or failed. Never
// fatal; for the statistics.
std::uint64_t dropped() noexcept;

// printf-style; one line per call (a trailing newline is added).
void write(Level level, const char* fmt, ...) noexcept __attribute__((format(printf, 2, 3)));

#define RT_LOG_ERROR(...) \
    ::ringtun::util::log::write(::ringtun::util::log::Level::error, __VA_ARGS__)
#define RT_LOG_WARN(...) \
    ::ringtun::util::log::write(::ringtun::util::log::Level::warning, __VA_ARGS__)
#define RT_LOG_NOTICE(...) \
    ::ringtun::util::log::write(::ringtun::util::log::Level::notice, __VA_ARGS__)
#define RT_LOG_INFO(...) ::ringtun::util::log::write(::ringtun::util::log::Level::info, __VA_ARGS__)
#define RT_LOG_DEBUG(...)                                                                 \
    do {                                                                                  \
        if (::ringtun::util::log::debug_enabled())                                        \
            ::ringtun::util::log::write(::ringtun::util::log::Level::debug, __VA_ARGS__); \
    } while (0)

// Token bucket: allow() is true for at most `burst` events, refilled at `per_second`.
// Time is passed in so callers on the loop reuse the loop's clock.
class RateLimit {
  public:
    RateLimit(double per_second, double burst) noexcept
        : rate_(per_second), burst_(burst), tokens_(burst) {}
    bool allow(std::uint64_t now_ns) noexcept;

  private:
    double rate_, burst_, tokens_;
    std::uint64_t last_ns_ = 0;
};

}  // namespace ringtun::util::log
