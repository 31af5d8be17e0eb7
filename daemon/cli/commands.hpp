// ringtun's command line: a table of commands, each with its synopsis, its help and the flags
// it takes, parsed the same way for all: flags anywhere after the command, `--` ends them,
// `--help` on any command prints that command's help. A first word that is no command is
// wireguard-go's `ringtun [-f|--foreground] IFNAME`.
#pragma once

namespace ringtun::daemon {

// Runs the command argv names; returns the process exit status (2: a usage error).
int dispatch(int argc, char** argv);

}  // namespace ringtun::daemon
