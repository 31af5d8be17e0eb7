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
    std::uint16_t listen_port = 0;  // 0: keep what the socket has (the file named none)
    std::vector<WantedPeer> peers;
};

// The commands, in the order a set request would carry them: device keys, `remove` for every
// running peer the wanted configuration lacks, then each wanted peer in full (its allowed IPs
// replaced, which leaves its sessions alone).
std::vector<SetCommand> sync_commands(const Device& device, const WantedDevice& wanted);

// Applies `commands` as one set request; the first error stops it (as a request would).
UapiError apply_commands(UapiTarget& target, const std::vector<SetCommand>& commands);

}  // namespace ringtun::daemon::control
