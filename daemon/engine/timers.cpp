// The timers (kernel timers.c): a peer's deadlines and the hooks that move them (Timers), the
// device's heap of the earliest deadline of every peer, and what each expiry does.
#include "daemon/engine/timers.hpp"

#include "daemon/engine/device.hpp"
#include "util/log.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace ringtun::daemon {

void Timers::on_data_sent(Nanos now, Nanos jitter) noexcept {
    if (new_handshake_ == no_deadline) new_handshake_ = now + new_handshake_timeout + jitter;
}

void Timers::on_data_received(Nanos now) noexcept {
    if (send_keepalive_ == no_deadline)
        send_keepalive_ = now + crypto::keepalive_timeout;
    else
        need_another_keepalive_ = true;
}

void Timers::on_authenticated_packet_sent() noexcept {
    send_keepalive_ = no_deadline;
}

void Timers::on_authenticated_packet_received() noexcept {
    new_handshake_ = no_deadline;
}

void Timers::on_authenticated_packet_traversal(Nanos now) noexcept {
    if (persistent_interval_ != 0) persistent_ = now + crypto::seconds_ns(persistent_interval_);
}

void Timers::on_handshake_initiated(Nanos now, Nanos jitter) noexcept {
    retransmit_ = now + crypto::rekey_timeout + jitter;
}

void Timers::on_handshake_complete() noexcept {
    retransmit_ = no_deadline;
    attempts_ = 0;
}

void Timers::on_session_derived(Nanos now) noexcept {
    zero_keys_ = now + zero_key_material_after;
}

bool Timers::take_need_another_keepalive() noexcept {
    return std::exchange(need_another_keepalive_, false);
}

void Timers::arm_zero_key_material_if_idle(Nanos now) noexcept {
    if (zero_keys_ == no_deadline) zero_keys_ = now + zero_key_material_after;
}

void Timers::stop_all() noexcept {
    retransmit_ = send_keepalive_ = new_handshake_ = zero_keys_ = persistent_ = no_deadline;
    need_another_keepalive_ = false;
}

Nanos Timers::next_deadline() const noexcept {
    return std::min({retransmit_, send_keepalive_, new_handshake_, zero_keys_, persistent_});
}

bool Timers::armed(Timer t) const noexcept {
    switch (t) {
        case Timer::retransmit_handshake:
            return retransmit_ != no_deadline;
        case Timer::send_keepalive:
            return send_keepalive_ != no_deadline;
        case Timer::new_handshake:
            return new_handshake_ != no_deadline;
        case Timer::zero_key_material:
            return zero_keys_ != no_deadline;
        case Timer::persistent_keepalive:
            return persistent_ != no_deadline;
    }
    return false;
}

unsigned Timers::take_expired(Nanos now) noexcept {
    unsigned fired = 0;
    auto take = [&](Nanos& deadline, Timer t) {
        if (deadline <= now) {
            deadline = no_deadline;
            fired |= static_cast<unsigned>(t);
        }
    };
    take(retransmit_, Timer::retransmit_handshake);
    take(send_keepalive_, Timer::send_keepalive);
    take(new_handshake_, Timer::new_handshake);
    take(zero_keys_, Timer::zero_key_material);
    take(persistent_, Timer::persistent_keepalive);
    return fired;
}

void Device::on_timers(const Now& now) noexcept {
    if (now.boot < timers_held_until_) return;
    const auto later = [](const Due& x, const Due& y) { return x.at > y.at; };
    unsigned acted = 0;
    while (!due_.empty() && due_.front().at <= now.boot) {
        const Due d = due_.front();
        // An entry of a removed peer (reconfigure.cpp), or one superseded by an earlier entry
        // and already handled, sends nothing: it waits for neither room nor budget.
        const bool live = d.peer < peers_.size() && peers_[d.peer]->scheduled == d.at;
        if (live && (acted == timers_per_call || wait_for_room(now))) return;
        std::pop_heap(due_.begin(), due_.end(), later);
        due_.pop_back();
        ++counters_.timer_visits;
        if (!live) continue;
        Peer& p = *peers_[d.peer];
        p.scheduled = no_deadline;
        if (unsigned fired = p.timers.take_expired(now.boot)) {
            on_peer_timers(p, fired, now);
            ++acted;
        }
        reschedule(p);
    }
}

bool Device::wait_for_room(const Now& now) noexcept {
    if (sink_.has_room(TxClass::control)) return false;
    // A run without room is one hold after another; a hold that ended more than a step ago
    // (room seen since, or nothing due) starts a new run.
    if (timers_held_since_ == no_deadline || now.boot > timers_held_until_ + timer_hold_step)
        timers_held_since_ = now.boot;
    if (now.boot - timers_held_since_ >= max_timer_hold) return false;
    timers_held_until_ = now.boot + timer_hold_step;
    ++counters_.timer_holds;
    return true;
}

Nanos Device::next_deadline() const noexcept {
    return due_.empty() ? no_deadline : std::max(due_.front().at, timers_held_until_);
}

void Device::reschedule(Peer& p) noexcept {
    // Invariant: the heap holds an entry at p.scheduled <= p's earliest deadline. A deadline
    // that moved later keeps its entry (it fires early, finds nothing due, and is pushed
    // again); one that moved earlier gets a new entry, and the old one turns stale.
    const Nanos at = p.timers.next_deadline();
    if (at >= p.scheduled) return;
    // The heap's storage is reserved at setup; full of stale entries, it is rebuilt rather
    // than grown (no allocation on the data path).
    if (due_.size() == due_.capacity()) rebuild_due();
    p.scheduled = at;
    due_.push_back({at, p.id});
    std::push_heap(due_.begin(), due_.end(),
                   [](const Due& x, const Due& y) { return x.at > y.at; });
}

void Device::rebuild_due() noexcept {
    // Stale entries piled up (deadlines that kept moving earlier): one entry per peer again.
    due_.clear();
    for (auto& p : peers_) {
        p->scheduled = p->timers.next_deadline();
        if (p->scheduled != no_deadline) due_.push_back({p->scheduled, p->id});
    }
    std::make_heap(due_.begin(), due_.end(),
                   [](const Due& x, const Due& y) { return x.at > y.at; });
}

namespace {

std::string seconds_since(std::uint64_t then_unix_ns, const Now& now) {
    if (then_unix_ns == 0 || now.unix_ns < then_unix_ns) return "never";
    return std::to_string((now.unix_ns - then_unix_ns) / 1'000'000'000) + " s ago";
}

}  // namespace

void Device::report_silent(Peer& peer, const Now& now) noexcept {
    if (peer.reported_silent) return;
    peer.reported_silent = true;
    RT_LOG_NOTICE("%s: not answering: no handshake response since %s (last handshake: %s)",
                  peer.label().c_str(), seconds_since(peer.unanswered_since_unix_ns, now).c_str(),
                  seconds_since(peer.last_handshake_unix_ns, now).c_str());
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
            if (peer.timers.handshake_attempts() == silent_after_retries) report_silent(peer, now);
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
    // Its interval may have been set to 0 since it was armed (kernel timers.c checks too), and
    // a keepalive owed when it was turned on may still have no endpoint.
    if (has(Timer::persistent_keepalive) && peer.timers.persistent_keepalive() != 0 &&
        peer.endpoint)
        send_keepalive(peer, now);
}

}  // namespace ringtun::daemon
