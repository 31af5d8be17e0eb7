#include "daemon/engine/device.hpp"

#include <algorithm>
#include <cstring>

#include "util/log.hpp"

namespace ringtun::daemon {

Device::Device(const crypto::PrivateKey& private_key, std::size_t mtu, MessageSink& sink,
               crypto::Rng& rng)
    : identity_(crypto::Identity::create(private_key)),
      mtu_(mtu),
      sink_(sink),
      rng_(rng),
      cookie_checker_(identity_),
      source_limiter_(crypto::random_value<std::uint64_t>(rng)),
      staged_pool_(mtu),
      allowed_ips_(nullptr) {}

Peer* Device::add_peer(const crypto::PublicKey& key, const crypto::SymmetricKey& psk,
                       std::uint16_t persistent_keepalive, std::optional<Endpoint> endpoint) {
    if (key == identity_.public_key || find_peer(key)) return nullptr;
    staged_pool_.reserve_for(peers_.size() + 1);
    auto peer = std::make_unique<Peer>(identity_, key, psk, staged_pool_);
    peer->timers.set_persistent_keepalive(persistent_keepalive);
    peer->endpoint = endpoint;
    RT_LOG_INFO("%s: created%s%s", peer->label().c_str(), endpoint ? ", endpoint " : "",
                endpoint ? endpoint->to_string().c_str() : "");
    peer->id = static_cast<std::uint32_t>(peers_.size());
    // Room first, so that nothing after the key's entry can throw: a peer found by key that
    // peers_ does not own would be freed under it. Grown by doubling, as push_back would.
    if (peers_.size() == peers_.capacity()) peers_.reserve(2 * peers_.size() + 16);
    by_key_.emplace(key, peer.get());
    peers_.push_back(std::move(peer));
    // Setup, not the data path: the deadline heap holds a few entries per peer (timers.cpp).
    // Grown by doubling, so that adding n peers copies it O(log n) times, not n.
    if (due_.capacity() < due_capacity()) due_.reserve(2 * due_capacity());
    return peers_.back().get();
}

bool Device::add_allowed_ip(Peer& peer, int family, const std::uint8_t* addr, std::uint8_t cidr) {
    return allowed_ips_.insert(family, addr, cidr, &peer);
}

void Device::start(const Now& now) noexcept {
    for (auto& p : peers_) {
        if (p->endpoint) p->timers.owe_persistent_keepalive(now.boot);
        reschedule(*p);
    }
}

void Device::on_transport_connected(const Endpoint& to, const Now& now) noexcept {
    for (auto& p : peers_) {
        if (!p->endpoint || !p->endpoint->tcp || !p->endpoint->same_address(to)) continue;
        send_initiation(*p, now, false, true);
        reschedule(*p);
    }
}

void Device::on_source_unusable(const Endpoint& to) noexcept {
    if (!to.has_local) return;
    // O(peers), but only on a failed send, and the first one clears what caused it.
    for (auto& p : peers_) {
        Endpoint* e = p->endpoint ? &*p->endpoint : nullptr;
        if (e && e->has_local && std::memcmp(&e->local, &to.local, sizeof to.local) == 0)
            e->has_local = false;
    }
}

}  // namespace ringtun::daemon
