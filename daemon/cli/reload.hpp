// SIGHUP: the configuration file read again and applied to the running device with `wg
// syncconf` semantics (control/sync), so a peer whose settings did not change keeps its
// sessions and counters — except that a file without listen_port keeps the running port
// (syncconf would pick a random one), and an endpoint given by host name is not looked up here
// (the reload runs on the loop: no DNS lookup there): the peer keeps its endpoint, and the
// names go to EndpointNames, which has a new or changed one looked up off the loop at once.
// A file that does not load is reported (FILE:LINE:COLUMN) and the daemon runs on as it was;
// one that loads but cannot be applied in full (a listen port already taken) is applied up to
// that point, and that is logged.
// Settings that cannot change while running — the interface's name, addresses and MTU, the TCP
// listener, [ring], [offload], the control socket, the routing table — are named in the log and
// keep their running values. Routes follow the allowed IPs (cli/routes).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "daemon/cli/endpoint_names.hpp"
#include "daemon/cli/routes.hpp"
#include "daemon/cli/settings.hpp"
#include "daemon/control/device_config.hpp"
#include "daemon/control/sync.hpp"

namespace ringtun::daemon {

// The settings of `fresh` that differ from `running` but need a restart, by their keys.
std::vector<std::string> restart_only_changes(const Settings& running, const Settings& fresh);

// The device `s` describes. A TCP peer's endpoint is left out when `tcp_running` is false:
// the transport cannot start without a restart.
control::WantedDevice wanted_device(const Settings& s, bool tcp_running);

// What a reload keeps in step besides the device; each optional, and outliving the Reloader.
struct ReloadFollowers {
    Routes* routes = nullptr;  // follows the file's allowed IPs
    bool name_fixed = false;   // the interface's name came from the command line, not the file
    EndpointNames* names = nullptr;  // given the file's endpoint names
};

class Reloader {
  public:
    // `started` is what the daemon runs from; `device` outlives the Reloader.
    Reloader(std::string path, const Settings& started, const Device& device,
             ReloadFollowers followers = {})
        : path_(std::move(path)), started_(started), device_(&device), followers_(followers) {}

    // Never throws and never stops the daemon; everything it did or refused is logged.
    // Returns the error (for `ringtun reload`), or nullopt once the file was applied.
    std::optional<std::string> operator()(control::DeviceConfig& config, const Now& now) noexcept;

  private:
    std::optional<std::string> apply(control::DeviceConfig& config);

    std::string path_;
    Settings started_;
    const Device* device_;
    ReloadFollowers followers_;
};

}  // namespace ringtun::daemon
