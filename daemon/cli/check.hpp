// `ringtun check FILE`.
#pragma once

#include <string>

namespace ringtun::daemon {

// Validates FILE as `run` would read it; prints the error (or a summary) and returns the exit
// code.
int check_command(const std::string& path);

}  // namespace ringtun::daemon
