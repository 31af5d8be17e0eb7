// Process-wide state the daemon sets before anything else: signal dispositions and the log
// sink. Kept apart from run so that tests can check what a daemon process starts with.
#pragma once

#include "util/result.hpp"

namespace ringtun::util {

// Ignores SIGPIPE, so that a write to a socket or pipe whose peer is gone fails with EPIPE
// instead of ending the daemon (the disposition survives exec; ringtun runs no programs), and
// chooses the log's non-blocking sink for the current standard error.
// Call once at start-up, before any other thread exists.
[[nodiscard]] Result<void> setup_daemon_process();

}  // namespace ringtun::util
