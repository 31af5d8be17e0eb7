// One input of the `device` fuzz target: how its bytes are read, and running it against the
// fixture with every invariant checked (an abort names the one broken).
//
// Byte 0 holds flags, the rest the message:
//   bits 0-1  where it comes from: A's endpoint, B's, a stranger, an IPv6 host
//   bit 2     over TCP (an endpoint with a connection handle, as the TCP transport hands in)
//   bit 3     under load: every handshake message needs a valid mac2 (cookie)
//   bit 4     seal: the rest is a counter (2 bytes, little-endian) and a plaintext, which A's
//             side of the session seals into a valid data message; so the fuzzer reaches the
//             decrypted packet's checks (lengths, allowed-IPs source) without forging a tag
//   bit 5     with seal: the counter counts down from the last one allowed
//   bit 6     late: the input arrives after every session expired and the cookie secret aged
// Otherwise the rest is the datagram (or TCP frame payload) as received.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "crypto/messages.hpp"
#include "device_fixture.hpp"

namespace ringtun::fuzz {

namespace flag {
inline constexpr std::uint8_t from_a = 0, from_b = 1, from_stranger = 2, from_ipv6 = 3;
inline constexpr std::uint8_t tcp = 1 << 2, under_load = 1 << 3, seal = 1 << 4,
                              high_counter = 1 << 5, late = 1 << 6;
}  // namespace flag

struct Outcome {
    bool ran = false;  // false: too short to be an input
    std::optional<crypto::MessageType> type;
    Peer* peer = nullptr;     // the peer the message authenticated for (gone after a rebuild)
    char peer_name = 0;       // what `peer` was: 'a', 'b' or 0 for none
    Bytes packet;             // what went to the TUN
    std::uint64_t drops = 0;  // counted for this input
    std::optional<daemon::Drop> drop;  // the reason, when one was counted
    std::vector<Bytes> sent;           // what the device sent in answer
    bool rebuilt = false;              // the input changed more than restore() puts back
};

// Runs one input (layout above) and leaves the fixture in its setup state again.
Outcome run_input(DeviceFixture& f, std::span<const std::uint8_t> input);

}  // namespace ringtun::fuzz
