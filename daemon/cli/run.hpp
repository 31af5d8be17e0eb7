// `ringtun run FILE`.
#pragma once

#include <string>

namespace ringtun::daemon {

// Brings the interface up from FILE and runs the loop in the foreground until SIGTERM or
// SIGINT (SIGHUP reloads FILE). Returns the process exit code: 0 after a clean shutdown, 1
// when it could not start or its TUN was deleted.
// `name`, if not empty, is the interface's name whatever FILE says (`--name=`).
int run_command(const std::string& path, const std::string& name = {});

}  // namespace ringtun::daemon
