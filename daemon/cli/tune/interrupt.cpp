#include "daemon/cli/tune/interrupt.hpp"

#include <signal.h>

#include <atomic>

namespace ringtun::daemon::tune {

namespace {

// Lock-free, so a handler may store to it (async-signal-safe).
std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
struct sigaction g_previous[3];

extern "C" void on_signal(int sig) {
    int none = 0;
    g_signal.compare_exchange_strong(none, sig);
}

}  // namespace

InterruptGuard::InterruptGuard() {
    g_signal.store(0);
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; ++i)
        sigaction(kSignals[i], &sa, &g_previous[i]);
}

InterruptGuard::~InterruptGuard() {
    for (int i = 0; i < 3; ++i)
        sigaction(kSignals[i], &g_previous[i], nullptr);
}

bool interrupted() noexcept {
    return g_signal.load(std::memory_order_relaxed) != 0;
}

int interrupt_signal() noexcept {
    return g_signal.load(std::memory_order_relaxed);
}

}  // namespace ringtun::daemon::tune
