#include "util/log.hpp"

#include <unistd.h>
#include <atomic>
#include <cstdarg>
#include <cstdio>

namespace ringtun::util::log {

namespace {
std::atomic<bool> g_debug{false};
std::atomic<int> g_min_level{static_cast<int>(Level::info)};
}  // namespace

void set_debug(bool on) noexcept {
    g_debug.store(on, std::memory_order_relaxed);
}
bool debug_enabled() noexcept {
    return g_debug.load(std::memory_order_relaxed);
}
void set_min_level(Level level) noexcept {
    g_min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

void write(Level level, const char* fmt, ...) noexcept {
    if (level != Level::debug &&
        static_cast<int>(level) > g_min_level.load(std::memory_order_relaxed))
        return;
    // One write(2) per line so concurrent writers do not interleave partial lines.
    char line[1024];
    int n = std::snprintf(line, sizeof line, "<%d>", static_cast<int>(level));
    va_list ap;
    va_start(ap, fmt);
    int m = std::vsnprintf(line + n, sizeof line - static_cast<size_t>(n) - 1, fmt, ap);
    va_end(ap);
    if (m < 0) return;
    size_t len = static_cast<size_t>(n) + static_cast<size_t>(m);
    if (len > sizeof line - 2) len = sizeof line - 2;
    line[len++] = '\n';
    [[maybe_unused]] ssize_t w = ::write(STDERR_FILENO, line, len);
}

bool RateLimit::allow(std::uint64_t now_ns) noexcept {
    if (last_ns_ != 0 && now_ns > last_ns_) {
        tokens_ += static_cast<double>(now_ns - last_ns_) * 1e-9 * rate_;
        if (tokens_ > burst_) tokens_ = burst_;
    }
    last_ns_ = now_ns;
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
}

}  // namespace ringtun::util::log
