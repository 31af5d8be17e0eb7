// `ringtun run FILE`.
#pragma once

#include <string>

namespace ringtun::daemon {

// Brings the interface up from FILE and runs the loop in the foreground until SIGTERM or
// SIGINT. Returns the process exit code: 0 after a clean shutdown.
int run_command(const std::string& path);

}  // namespace ringtun::daemon
