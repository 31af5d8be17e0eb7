#include "daemon/control/sync.hpp"

#include <algorithm>

namespace ringtun::daemon::control {

namespace {

void append_peer(std::vector<SetCommand>& out, const WantedPeer& p) {
    out.emplace_back(set::PublicKey{p.public_key});
    set::PresharedKey psk;
    psk.key = p.preshared_key;  // always: a psk removed from the file is cleared
    out.emplace_back(std::move(psk));
    if (p.endpoint)
        out.emplace_back(
            set::PeerEndpoint{.endpoint = *p.endpoint, .keep_transport = false, .scope = {}});
    out.emplace_back(set::Keepalive{p.persistent_keepalive});
    out.emplace_back(set::ReplaceAllowedIps{});
    for (const set::AllowedIp& ip : p.allowed_ips)
        out.emplace_back(ip);
}

bool by_bytes(const crypto::PublicKey& a, const crypto::PublicKey& b) noexcept {
    return a.bytes < b.bytes;
}

}  // namespace

std::vector<SetCommand> sync_commands(const Device& device, const WantedDevice& wanted) {
    std::vector<SetCommand> out;
    set::PrivateKey key;
    key.key = wanted.private_key;
    out.emplace_back(std::move(key));
    // Sorted once: thousands of peers compare in n log n, not n × m.
    std::vector<crypto::PublicKey> keep;
    keep.reserve(wanted.peers.size());
    for (const WantedPeer& w : wanted.peers)
        keep.push_back(w.public_key);
    std::sort(keep.begin(), keep.end(), by_bytes);
    for (const auto& running : device.peers()) {
        if (std::binary_search(keep.begin(), keep.end(), running->public_key(), by_bytes)) continue;
        out.emplace_back(set::PublicKey{running->public_key()});
        out.emplace_back(set::Remove{});
    }
    for (const WantedPeer& p : wanted.peers)
        append_peer(out, p);
    // Last, so a port that cannot be bound leaves every peer change applied.
    if (wanted.listen_port != 0) out.emplace_back(set::ListenPort{wanted.listen_port});
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
