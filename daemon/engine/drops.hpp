// Why the daemon dropped a packet, and the counters it keeps per reason. Every drop on the data
// path increments exactly one counter; none is logged except through a rate limit.
#pragma once

#include <array>
#include <cstdint>

#include "crypto/reject.hpp"

namespace ringtun::daemon {

enum class Drop : std::uint8_t {
    // From the network: the protocol core's reasons (crypto::Reject), then the daemon's own.
    malformed,
    invalid_mac1,
    decrypt_failed,
    unknown_peer,
    invalid_public_key,
    replayed_timestamp,
    initiation_flood,
    unexpected_message,
    replayed_counter,
    counter_exhausted,
    malformed_inner,
    unknown_index,      // receiver index names no session or handshake of ours
    session_expired,    // data for a session past REJECT_AFTER_TIME
    source_mismatch,    // inner source address does not route to the sending peer
    under_load_cookie,  // handshake answered with a cookie reply instead
    rate_limited,       // handshake over the per-source limit under load
    no_private_key,     // handshake while the device has no private key (wg's all-zero key)
    // From the TUN.
    tun_malformed,      // not an IPv4/IPv6 packet
    tun_oversized,      // read cut short: the IP header claims more (the TUN's MTU exceeds ours)
    no_route,           // destination matches no peer's allowed IPs
    no_endpoint,        // the peer has no known endpoint yet
    staged_overflow,    // a packet waiting for a session dropped: the peer had 128 waiting
                        // (its oldest goes)
    staged_pool_empty,  // a packet waiting for a session dropped: the device's pool of them
                        // was full (the oldest of the peer holding the most goes)
    staged_given_up,    // staged packets dropped when the handshake gave up
    // Local resources.
    no_tx_buffer,  // all transmit slots busy
    internal_error,
    count_
};

const char* to_string(Drop d) noexcept;
Drop drop_from(crypto::Reject r) noexcept;

class DropCounters {
  public:
    void add(Drop d) noexcept { ++counts_[static_cast<std::size_t>(d)]; }
    std::uint64_t get(Drop d) const noexcept { return counts_[static_cast<std::size_t>(d)]; }
    std::uint64_t total() const noexcept;

  private:
    std::array<std::uint64_t, static_cast<std::size_t>(Drop::count_)> counts_{};
};

}  // namespace ringtun::daemon
