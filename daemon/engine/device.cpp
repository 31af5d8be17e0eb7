#include "daemon/engine/device.hpp"

#include <algorithm>
#include <cstring>

#include "util/log.hpp"

namespace ringtun::daemon {

namespace {

std::uint64_t random_u64(crypto::Rng& rng) noexcept {
    std::uint64_t v = 0;
    rng.fill({reinterpret_cast<std::uint8_t*>(&v), sizeof v});
    return v;
}

}  // namespace

Device::Device(const crypto::PrivateKey& private_key, std::size_t mtu, MessageSink& sink,
               crypto::Rng& rng)
    : identity_(crypto::Identity::create(private_key)),
      mtu_(mtu),
      sink_(sink),
      rng_(rng),
      cookie_checker_(identity_),
      source_limiter_(random_u64(rng)),
      allowed_ips_(nullptr) {}

Peer* Device::add_peer(const crypto::PublicKey& key, const crypto::SymmetricKey& psk,
                       std::uint16_t persistent_keepalive, std::optional<Endpoint> endpoint) {
    if (key == identity_.public_key || find_peer(key)) return nullptr;
    auto peer = std::make_unique<Peer>(identity_, key, psk, mtu_);
    peer->timers.set_persistent_keepalive(persistent_keepalive);
    peer->endpoint = endpoint;
    RT_LOG_INFO("%s: created%s%s", peer->label().c_str(), endpoint ? ", endpoint " : "",
                endpoint ? endpoint->to_string().c_str() : "");
    peers_.push_back(std::move(peer));
    return peers_.back().get();
}

bool Device::add_allowed_ip(Peer& peer, int family, const std::uint8_t* addr, std::uint8_t cidr) {
    return allowed_ips_.insert(family, addr, cidr, &peer);
}

Peer* Device::find_peer(const crypto::PublicKey& key) noexcept {
    // Linear: consulted once per accepted initiation, never per data packet.
    for (auto& p : peers_)
        if (p->public_key() == key) return p.get();
    return nullptr;
}

void Device::start(const Now& now) noexcept {
    for (auto& p : peers_)
        if (p->timers.persistent_keepalive() != 0 && p->endpoint) send_keepalive(*p, now);
}

crypto::Nanos Device::next_deadline() const noexcept {
    crypto::Nanos earliest = no_deadline;
    for (const auto& p : peers_)
        earliest = std::min(earliest, p->timers.next_deadline());
    return earliest;
}

void Device::on_transport_connected(const Endpoint& to, const Now& now) noexcept {
    for (auto& p : peers_)
        if (p->endpoint && p->endpoint->tcp && p->endpoint->same_address(to))
            send_initiation(*p, now, false, true);
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

void Device::on_timers(const Now& now) noexcept {
    for (auto& p : peers_) {
        if (p->timers.next_deadline() > now.boot) continue;
        if (unsigned fired = p->timers.take_expired(now.boot)) on_peer_timers(*p, fired, now);
    }
}

void Device::on_peer_timers(Peer& peer, unsigned fired, const Now& now) noexcept {
    auto has = [fired](Timer t) { return (fired & static_cast<unsigned>(t)) != 0; };
    if (has(Timer::retransmit_handshake)) {
        if (peer.timers.handshake_attempts() >= max_handshake_retries) {
            RT_LOG_INFO("%s: handshake did not complete after %u retries, giving up",
                        peer.label().c_str(), max_handshake_retries);
            peer.timers.stop_send_keepalive();
            for (std::size_t n = peer.staged.clear(); n > 0; --n)
                counters_.drops.add(Drop::staged_given_up);
            peer.timers.arm_zero_key_material_if_idle(now.boot);
        } else {
            peer.timers.count_handshake_attempt();
            RT_LOG_DEBUG("%s: no handshake response, retry %u", peer.label().c_str(),
                         peer.timers.handshake_attempts());
            if (peer.endpoint) peer.endpoint->has_local = false;  // the route may have changed
            send_initiation(peer, now, true);
        }
    }
    if (has(Timer::send_keepalive)) {
        send_keepalive(peer, now);
        if (peer.timers.take_need_another_keepalive()) peer.timers.rearm_send_keepalive(now.boot);
    }
    if (has(Timer::new_handshake)) {
        RT_LOG_DEBUG(
            "%s: nothing received for %llu s after sending, new handshake", peer.label().c_str(),
            static_cast<unsigned long long>(new_handshake_timeout / crypto::seconds_ns(1)));
        if (peer.endpoint) peer.endpoint->has_local = false;
        send_initiation(peer, now, false);
    }
    if (has(Timer::zero_key_material)) {
        RT_LOG_INFO(
            "%s: no new session for %llu s, all keys wiped", peer.label().c_str(),
            static_cast<unsigned long long>(zero_key_material_after / crypto::seconds_ns(1)));
        peer.wipe_keys(index_);
    }
    if (has(Timer::persistent_keepalive)) send_keepalive(peer, now);
}

}  // namespace ringtun::daemon
