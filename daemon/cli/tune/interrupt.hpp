// Ctrl-C for `ringtun tune`: SIGINT, SIGTERM and SIGHUP only set a flag, which the sweep and
// every measurement loop check at least every 100 ms, so the lab is always torn down (daemons
// stopped, namespaces deleted) and the command ends within a second or two.
#pragma once

namespace ringtun::daemon::tune {

// Installs the handlers (without SA_RESTART: a blocking call returns EINTR on the thread
// that takes the signal); the destructor puts the previous ones back. One at a time.
class InterruptGuard {
  public:
    InterruptGuard();
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;
};

// Whether a signal asked us to stop; safe from any thread.
bool interrupted() noexcept;
// The signal that did (0 if none): the exit status is 128 + it.
int interrupt_signal() noexcept;

}  // namespace ringtun::daemon::tune
