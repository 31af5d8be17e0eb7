// `wg syncconf` semantics as a list of UAPI set commands: what makes the running device match a
// wanted configuration while every peer whose settings did not change keeps its sessions and
// counters (wireguard-tools src/setconf.c sync_conf). A reload (SIGHUP) builds the wanted
// configuration from the TOML file and applies these commands through DeviceConfig, exactly
// as a `set=1` request from wg would be applied.
//
// Sans-IO and pure: reads the device, changes nothing.
#pragma once

#include <optional>
#include <vector>

#include "daemon/control/uapi_session.hpp"
#include "daemon/engine/device.hpp"

namespace ringtun::daemon::control {

struct WantedPeer {
    crypto::PublicKey public_key;
    crypto::SymmetricKey preshared_key;  // all zero: none
    std::optional<Endpoint> endpoint;
    std::uint16_t persistent_keepalive = 0;
    std::vector<set::AllowedIp> allowed_ips;
};

struct WantedDevice {
    crypto::PrivateKey private_key;
    // 0: keep the running port. `wg syncconf` sends 0 for a file without ListenPort (a new
    // random port); a reload keeps the port its peers know.
    std::uint16_t listen_port = 0;
    std::vector<WantedPeer> peers;
};

// The commands: the private key, `remove` for every running peer the wanted configuration
// lacks, each wanted peer in full (its allowed IPs replaced, which leaves its sessions alone),
// then the listen port. DeviceConfig takes device keys anywhere; the port comes last so that
// one that cannot be bound fails after every peer change was made.
std::vector<SetCommand> sync_commands(const Device& device, const WantedDevice& wanted);

// Applies `commands` as one set request; the first error stops it (as a request would).
UapiError apply_commands(UapiTarget& target, const std::vector<SetCommand>& commands);

}  // namespace ringtun::daemon::control
