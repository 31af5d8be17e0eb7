#include "daemon/engine/timers.hpp"

#include <algorithm>
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

}  // namespace ringtun::daemon
