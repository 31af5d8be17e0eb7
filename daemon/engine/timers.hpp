// A peer's WireGuard timers (paper §6; kernel timers.c) as deadlines, not OS timers.
//
// The device calls an on_* hook when the matching event happens; each hook arms or disarms
// deadlines. The loop keeps one ring timeout for the earliest deadline of all peers and then
// calls take_expired(now), which disarms and returns what fired; the device acts on it.
// Jitter is a parameter so tests are exact.
#pragma once

#include <cstdint>
#include <limits>

#include "crypto/messages.hpp"

namespace ringtun::daemon {

using crypto::Nanos;

inline constexpr Nanos no_deadline = std::numeric_limits<Nanos>::max();
inline constexpr Nanos rekey_timeout_jitter_max = crypto::millis_ns(334);  // 0..333 ms
// Retries of the handshake initiation before giving up. The kernel gives up once its attempt
// count exceeds REKEY_ATTEMPT_TIME / REKEY_TIMEOUT (18), counting after the check: 19 retries.
// Retries without an answer (15 s after the first initiation) before the peer is logged as
// not answering, once, at notice.
inline constexpr unsigned silent_after_retries = 3;
inline constexpr unsigned max_handshake_retries =
    crypto::rekey_attempt_time / crypto::rekey_timeout + 1;  // 19
inline constexpr Nanos new_handshake_timeout = crypto::keepalive_timeout + crypto::rekey_timeout;
inline constexpr Nanos zero_key_material_after = 3 * crypto::reject_after_time;  // 540 s
// How long due timers wait for a transmit buffer at a time, and in one run of waits
// (Device::on_timers). Sends in flight complete within microseconds; a second without a free
// buffer is something else (a stalled TCP peer holding them), and the timers must not stop
// for it.
inline constexpr Nanos timer_hold_step = crypto::millis_ns(1);
inline constexpr Nanos max_timer_hold = crypto::seconds_ns(1);
// Peers whose timers Device::on_timers acts on in one call: an initiation costs about 0.1 ms,
// so 64 keep the loop's other work waiting under 10 ms when thousands are due at once.
inline constexpr unsigned timers_per_call = 64;

enum class Timer : std::uint8_t {
    retransmit_handshake = 1 << 0,  // no response to our initiation: retry or give up
    send_keepalive = 1 << 1,        // data received, nothing sent back: passive keepalive
    new_handshake = 1 << 2,         // data sent, nothing received: start a new handshake
    zero_key_material = 1 << 3,     // no new session for 540 s: wipe every key
    persistent_keepalive = 1 << 4,  // configured keepalive interval passed
};

class Timers {
  public:
    // Persistent keepalive interval in seconds, 0 = off.
    void set_persistent_keepalive(std::uint16_t seconds) noexcept {
        persistent_interval_ = seconds;
    }
    std::uint16_t persistent_keepalive() const noexcept { return persistent_interval_; }

    // A data packet (not a keepalive) was sent: expect to hear back within 15 s (+ jitter).
    void on_data_sent(Nanos now, Nanos jitter) noexcept;
    // A data packet (not a keepalive) was received: answer within 10 s, or with a keepalive.
    void on_data_received(Nanos now) noexcept;
    // Any authenticated packet was sent: it answers the peer, so no keepalive is owed.
    void on_authenticated_packet_sent() noexcept;
    // Any authenticated packet was received: the peer is alive, no new handshake needed.
    void on_authenticated_packet_received() noexcept;
    // Any authenticated packet was sent or received: restart the persistent keepalive.
    void on_authenticated_packet_traversal(Nanos now) noexcept;
    // A persistent keepalive is owed at once (the device starts, or the interval was set):
    // due now, so that it goes out from the timers, as transmit buffers allow.
    void owe_persistent_keepalive(Nanos now) noexcept {
        if (persistent_interval_ != 0) persistent_ = now;
    }
    // We sent an initiation: retry after REKEY_TIMEOUT + jitter.
    void on_handshake_initiated(Nanos now, Nanos jitter) noexcept;
    // A handshake completed (response consumed, or first data under the new session).
    void on_handshake_complete() noexcept;
    // New session keys exist: wipe them all if nothing newer arrives within 540 s.
    void on_session_derived(Nanos now) noexcept;

    // Retry bookkeeping for retransmit_handshake. A handshake that is not a retry resets it.
    unsigned handshake_attempts() const noexcept { return attempts_; }
    void reset_handshake_attempts() noexcept { attempts_ = 0; }
    void count_handshake_attempt() noexcept { ++attempts_; }

    // Keepalive owed again after the one about to be sent (data kept arriving meanwhile).
    bool take_need_another_keepalive() noexcept;

    // Disarms the timers the device stops when a handshake gives up.
    void stop_send_keepalive() noexcept { send_keepalive_ = no_deadline; }
    // Arms the key wipe unless it is armed already (after giving up).
    void arm_zero_key_material_if_idle(Nanos now) noexcept;
    // Rearms send_keepalive after sending one, when another is owed.
    void rearm_send_keepalive(Nanos now) noexcept {
        send_keepalive_ = now + crypto::keepalive_timeout;
    }
    void stop_all() noexcept;

    Nanos next_deadline() const noexcept;
    bool armed(Timer t) const noexcept;
    // Disarms and returns (as a Timer bitmask) every timer whose deadline is <= now.
    unsigned take_expired(Nanos now) noexcept;

  private:
    Nanos retransmit_ = no_deadline;
    Nanos send_keepalive_ = no_deadline;
    Nanos new_handshake_ = no_deadline;
    Nanos zero_keys_ = no_deadline;
    Nanos persistent_ = no_deadline;
    unsigned attempts_ = 0;
    bool need_another_keepalive_ = false;
    std::uint16_t persistent_interval_ = 0;
};

}  // namespace ringtun::daemon
