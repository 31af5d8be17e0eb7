// `ringtun run FILE` and `ringtun check FILE`.
#pragma once

#include <string>

namespace ringtun::daemon {

// Validates FILE as `run` would read it; prints the error (or a summary) and returns the exit code.
int check_command(const std::string& path);

// Brings the interface up from FILE and runs the loop in the foreground until SIGTERM or
// SIGINT. Returns the process exit code: 0 after a clean shutdown.
int run_command(const std::string& path);

}  // namespace ringtun::daemon
