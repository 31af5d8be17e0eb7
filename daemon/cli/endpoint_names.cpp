// When endpoint names are looked up, and what their answers change (see the header).
#include "daemon/cli/endpoint_names.hpp"

#include "util/log.hpp"

namespace ringtun::daemon {

void EndpointNames::configure(const std::vector<PeerSettings>& peers, bool tcp_running) {
    std::map<Key, Entry> next;
    for (const PeerSettings& p : peers) {
        if (p.endpoint_name.empty()) continue;
        const bool tcp = p.transport == conf::Transport::tcp;
        if (tcp && !tcp_running) continue;  // the reload names it as needing a restart
        Entry fresh;
        fresh.name = p.endpoint_name;
        fresh.tcp = tcp;
        const auto old = entries_.find(p.public_key.bytes);
        if (old != entries_.end() && old->second.name == fresh.name && old->second.tcp == tcp) {
            fresh = old->second;
        } else if (old != entries_.end()) {
            fresh.in_flight = old->second.in_flight;  // its answer is for the old name
        }
        next.emplace(p.public_key.bytes, std::move(fresh));
    }
    for (auto& [key, e] : entries_)
        if (e.in_flight && !next.contains(key)) {
            Entry forgotten;
            forgotten.in_flight = true;
            next.emplace(key, forgotten);
        }
    entries_ = std::move(next);
}

bool EndpointNames::wanted(Entry& e, const Peer& peer, const Now& now) noexcept {
    if (e.fresh) return true;
    if (!peer.endpoint) return now.boot >= e.next_at;
    const std::uint64_t since = peer.unanswered_since_unix_ns;
    if (since == 0 || now.unix_ns < since || now.unix_ns - since < unanswered_after) return false;
    if (e.unanswered_since == since && now.boot < e.next_at) return false;
    e.unanswered_since = since;  // a new stretch is asked for at once
    return true;
}

std::vector<NameLookup> EndpointNames::due(const Device& device, const Now& now) {
    std::vector<NameLookup> out;
    for (auto& [key, e] : entries_) {
        if (e.name.empty() || e.in_flight) continue;
        crypto::PublicKey peer_key;
        peer_key.bytes = key;
        const Peer* peer = device.find_peer(peer_key);
        if (peer != nullptr && wanted(e, *peer, now)) out.push_back({peer_key, e.name});
    }
    // Marked once the list is whole: a throw above leaves nothing in flight that was not asked.
    for (const NameLookup& lookup : out)
        entries_.find(lookup.peer.bytes)->second.in_flight = true;
    return out;
}

void EndpointNames::not_asked(const crypto::PublicKey& peer) noexcept {
    if (auto it = entries_.find(peer.bytes); it != entries_.end()) it->second.in_flight = false;
}

void EndpointNames::failed(Entry& e, const Peer& peer, const NameAnswer& answer, const Now& now) {
    ++e.failures;
    if (peer.endpoint)
        e.next_at = now.boot + unanswered_retry;
    else
        e.next_at = now.boot + (e.failures <= first_retries ? first_retry : later_retry);
    if (e.failure_logged) return;
    e.failure_logged = true;
    if (peer.endpoint)
        RT_LOG_WARN("%s: endpoint %s does not resolve (%s); keeping %s", peer.label().c_str(),
                    e.name.c_str(), answer.resolved.problem.c_str(),
                    peer.endpoint->to_string().c_str());
    else
        RT_LOG_WARN("%s: endpoint %s does not resolve yet (%s); the peer waits",
                    peer.label().c_str(), e.name.c_str(), answer.resolved.problem.c_str());
}

std::optional<Endpoint> EndpointNames::answered(const Device& device, const NameAnswer& answer,
                                                const Now& now) {
    const auto it = entries_.find(answer.peer.bytes);
    if (it == entries_.end()) return std::nullopt;
    Entry& e = it->second;
    e.in_flight = false;
    if (e.name.empty()) {
        entries_.erase(it);  // forgotten while its lookup ran
        return std::nullopt;
    }
    const Peer* peer = device.find_peer(answer.peer);
    if (e.name != answer.name || peer == nullptr) return std::nullopt;  // changed, or gone
    e.fresh = false;
    if (!answer.resolved.endpoint) {
        failed(e, *peer, answer, now);
        return std::nullopt;
    }
    e.failures = 0;
    e.failure_logged = false;
    e.next_at = now.boot + unanswered_retry;
    Endpoint to = *answer.resolved.endpoint;
    to.tcp = e.tcp;
    if (peer->endpoint && peer->endpoint->same_address(to) && peer->endpoint->tcp == to.tcp)
        return std::nullopt;
    RT_LOG_INFO("%s: endpoint %s now resolves to %s", peer->label().c_str(), e.name.c_str(),
                to.to_string().c_str());
    return to;
}

}  // namespace ringtun::daemon
