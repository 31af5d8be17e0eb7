// The composition root both command lines share: opens the TUN, the sockets and the UAPI
// socket, drops privileges (run), chooses the backend, makes the device and runs it until it
// stops.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "daemon/cli/settings.hpp"
#include "util/privileges.hpp"

namespace ringtun::daemon {

// Where `wg` looks for userspace interfaces (wireguard-tools' RUNSTATEDIR/wireguard).
inline constexpr const char* control_socket_dir = "/var/run/wireguard";

struct ServeOptions {
    Settings settings;
    // The file SIGHUP reloads; empty: none (wireguard-go's command line).
    std::string config_path;
    // wireguard-go's command line: the TUN and socket may be inherited (WG_TUN_FD,
    // WG_UAPI_FD); the link is left to wg-quick (no addresses, not set up); and a deleted TUN
    // is the normal end (`wg-quick down`), not a failure.
    bool wg_mode = false;
    // The interface's name was given on the command line (`run --name=`): a reload keeps it.
    bool name_fixed = false;
    // Dropped to once the TUN, the link, the routes and every socket exist, before the loop
    // (its ring included) is made; none: the process keeps what it was started with.
    std::optional<util::PrivilegeDrop> drop;
    // Called once the TUN, the sockets and the loop exist, just before the loop runs.
    std::function<void()> on_ready;
};

// Returns the process exit status: 0 after a clean stop.
int serve(ServeOptions options);

}  // namespace ringtun::daemon
