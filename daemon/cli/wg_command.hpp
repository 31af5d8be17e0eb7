// wireguard-go's command line, which wg-quick and other WireGuard tooling run:
//
//   ringtun [-f|--foreground] IFNAME
//
// creates the TUN IFNAME (MTU 1420, no addresses, link left down: wg-quick configures it) and
// the UAPI socket /var/run/wireguard/IFNAME.sock, then serves `wg` on it. Without -f (or
// WG_PROCESS_FOREGROUND=1) it daemonises: the command exits 0 only once the TUN and the socket
// exist and the loop is ready, 1 with the error on standard error otherwise. The daemon ends
// with status 0 when its TUN is deleted (`wg-quick down`), its socket file is deleted, or on
// SIGTERM/SIGINT. Honoured from the environment as wireguard-go honours them: WG_TUN_FD and
// WG_UAPI_FD (an inherited TUN and listening socket), WG_PROCESS_FOREGROUND, LOG_LEVEL
// (verbose|debug, info, error, silent; a daemon keeps standard error only when it is set and
// not silent).
#pragma once

#include <string_view>

namespace ringtun::daemon {

// Returns the exit status (in the foreground, or the launching process's).
int wg_command(std::string_view ifname, bool foreground);

}  // namespace ringtun::daemon
