// Live reconfiguration of the device: what `wg set`, `wg syncconf` and a reload change while
// traffic flows. The rules follow wireguard-go (device/uapi.go, device/device.go) and the
// kernel (netlink.c): a new private key resets every session (the kernel's
// wg_noise_precompute_static_static and keypair expiry), a removed peer's sessions and
// prefixes go with it, and anything else leaves the sessions alone.
#include "daemon/engine/device.hpp"
#include "util/log.hpp"

namespace ringtun::daemon {

void Device::set_private_key(const crypto::PrivateKey& key) {
    if (key == identity_.private_key) return;
    identity_ = crypto::Identity::create(key);
    // A peer with our own new public key would be talking to itself.
    if (Peer* self = find_peer(identity_.public_key)) remove_peer(*self);
    for (auto& p : peers_) {
        p->wipe_keys(index_);
        p->handshake.local_key_changed();
        const std::uint16_t keepalive = p->timers.persistent_keepalive();
        p->timers = Timers{};
        p->timers.set_persistent_keepalive(keepalive);
        p->last_initiation_sent.reset();  // one under the old key does not hold back the next
    }
    rebuild_due();
    RT_LOG_INFO("private key changed: every session reset, %zu peers", peers_.size());
}

void Device::remove_peer(Peer& peer) {
    peer.wipe_keys(index_);
    allowed_ips_.remove_all(&peer);
    RT_LOG_INFO("%s: removed", peer.label().c_str());
    by_key_.erase(peer.public_key());
    const std::uint32_t id = peer.id;
    // Keep ids dense: the last peer takes the removed one's place. The deadline heap keeps its
    // entries (a rebuild per removal made removing n of n peers quadratic): those under the
    // last id now name no peer and are skipped, those under `id` turn stale for the peer that
    // moved there, which gets an entry under its new id.
    if (id + 1 != peers_.size()) {
        std::swap(peers_[id], peers_.back());
        peers_[id]->id = id;
    }
    peers_.pop_back();
    ++peers_removed_;
    if (id < peers_.size()) {
        Peer& moved = *peers_[id];
        moved.scheduled = no_deadline;
        reschedule(moved);
    }
}

void Device::remove_all_peers() {
    for (auto& p : peers_)
        p->wipe_keys(index_);
    allowed_ips_.clear();
    RT_LOG_INFO("every peer removed (%zu)", peers_.size());
    peers_removed_ += peers_.size();
    by_key_.clear();
    peers_.clear();
    rebuild_due();
}

void Device::set_preshared_key(Peer& peer, const crypto::SymmetricKey& psk) noexcept {
    // Applies to the next handshake; the sessions it keyed stay until they expire.
    peer.handshake.set_preshared_key(psk);
}

void Device::set_endpoint(Peer& peer, const Endpoint& endpoint) noexcept {
    peer.endpoint = endpoint;
}

void Device::set_persistent_keepalive(Peer& peer, std::uint16_t seconds, const Now& now) noexcept {
    // As the kernel and wireguard-go: a keepalive at once only when turned on; a changed
    // interval takes effect at the next packet. Whether there is an endpoint to send it to is
    // decided when it is due (a request may set the endpoint after the interval).
    const bool turned_on = peer.timers.persistent_keepalive() == 0 && seconds != 0;
    peer.timers.set_persistent_keepalive(seconds);
    if (turned_on) peer.timers.owe_persistent_keepalive(now.boot);
    reschedule(peer);
}

std::size_t Device::clear_allowed_ips(Peer& peer) {
    return allowed_ips_.remove_all(&peer);
}

bool Device::remove_allowed_ip(Peer& peer, int family, const std::uint8_t* addr,
                               std::uint8_t cidr) {
    return allowed_ips_.remove(family, addr, cidr, &peer);
}

}  // namespace ringtun::daemon
