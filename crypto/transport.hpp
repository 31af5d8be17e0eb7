// Transport data messages (type 4): sealing a plaintext IP packet and opening one, in the
// caller's buffer, with no allocation. Buffer layout, shared with the daemon's buffer pools:
//
//   [ 16-byte header | packet ‖ zero padding | 16-byte tag ]
//     ^ buffer[0]      ^ buffer[data_header_len]
//
// so a packet read from the TUN at offset data_header_len is encrypted where it lies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "crypto/messages.hpp"
#include "crypto/reject.hpp"
#include "crypto/session.hpp"

namespace ringtun::crypto {

// Plaintext length after WireGuard padding: the next multiple of 16, never past the MTU.
constexpr std::size_t padded_length(std::size_t packet_len, std::size_t mtu) noexcept {
    std::size_t padded = (packet_len + padding_multiple - 1) / padding_multiple * padding_multiple;
    if (padded > mtu) padded = mtu > packet_len ? mtu : packet_len;
    return padded;
}

// Bytes of buffer needed to seal a packet of `packet_len` at `mtu`.
constexpr std::size_t sealed_length(std::size_t packet_len, std::size_t mtu) noexcept {
    return data_overhead + padded_length(packet_len, mtu);
}

struct SealResult {
    Reject reject = Reject::none;
    std::size_t length = 0;  // bytes of buffer to send
};

// Seals the `packet_len` bytes at buffer[data_header_len] (0 = keepalive). Precondition:
// !session.expired(now) (the caller's timers decide). Fails with counter_exhausted or
// buffer_too_small.
SealResult seal_data(Session& session, std::span<std::uint8_t> buffer, std::size_t packet_len,
                     std::size_t mtu) noexcept;

struct OpenResult {
    Reject reject = Reject::none;
    std::span<std::uint8_t> packet;  // inside the message, padding trimmed; empty = keepalive
    std::uint64_t counter = 0;
};

// Receiver index of a message classified as data.
std::uint32_t data_receiver(std::span<const std::uint8_t> message) noexcept;

// Opens a data message found (by its receiver index) to belong to `session`: counter limit,
// replay pre-check, decryption in place, replay window update, then padding trimmed using the
// inner IPv4 total length or IPv6 payload length. A keepalive yields an empty packet.
OpenResult open_data(Session& session, std::span<std::uint8_t> message) noexcept;

}  // namespace ringtun::crypto
