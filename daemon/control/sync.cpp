#include "daemon/control/sync.hpp"

#include <algorithm>

namespace ringtun::daemon::control {

namespace {

void append_peer(std::vector<SetCommand>& out, const WantedPeer& p) {
    out.emplace_back(set::PublicKey{p.public_key});
    set::PresharedKey psk;
    psk.key = p.preshared_key;  // always: a psk removed from the file is cleared
    out.emplace_back(std::move(psk));
    if (p.endpoint) out.emplace_back(set::PeerEndpoint{*p.endpoint, false});
    out.emplace_back(set::Keepalive{p.persistent_keepalive});
    out.emplace_back(set::ReplaceAllowedIps{});
    for (const set::AllowedIp& ip : p.allowed_ips)
        out.emplace_back(ip);
}

}  // namespace

std::vector<SetCommand> sync_commands(const Device& device, const WantedDevice& wanted) {
    std::vector<SetCommand> out;
    set::PrivateKey key;
    key.key = wanted.private_key;
    out.emplace_back(std::move(key));
    if (wanted.listen_port != 0) out.emplace_back(set::ListenPort{wanted.listen_port});
    for (const auto& running : device.peers()) {
        const bool kept =
            std::any_of(wanted.peers.begin(), wanted.peers.end(),
                        [&](const WantedPeer& w) { return w.public_key == running->public_key(); });
        if (kept) continue;
        out.emplace_back(set::PublicKey{running->public_key()});
        out.emplace_back(set::Remove{});
    }
    for (const WantedPeer& p : wanted.peers)
        append_peer(out, p);
    return out;
}

UapiError apply_commands(UapiTarget& target, const std::vector<SetCommand>& commands) {
    target.begin_set();
    UapiError result = UapiError::none;
    for (const SetCommand& c : commands) {
        result = target.apply(c);
        if (result != UapiError::none) break;
    }
    target.end_set();
    return result;
}

}  // namespace ringtun::daemon::control
