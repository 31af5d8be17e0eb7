// Why the protocol core refused a packet. The daemon counts each reason; none is logged per
// packet except through a rate limit.
#pragma once

#include <cstdint>

namespace ringtun::crypto {

enum class Reject : std::uint8_t {
    none = 0,
    malformed,           // wrong type or length
    invalid_mac1,        // mac1 does not verify: not meant for us
    decrypt_failed,      // an AEAD field or the data does not authenticate
    unknown_peer,        // initiation from a static key we do not know
    invalid_public_key,  // a DH with the key gives zero
    replayed_timestamp,  // initiation timestamp not newer than the last accepted one
    initiation_flood,    // initiation within 20 ms of the previous accepted one
    unexpected_message,  // response or cookie reply that we are not waiting for
    replayed_counter,    // duplicate or behind the replay window
    counter_exhausted,   // counter at or past REJECT_AFTER_MESSAGES
    malformed_inner,     // decrypted packet is not IPv4/IPv6 of a consistent length
    buffer_too_small,    // caller's buffer cannot hold the result
    internal_error,      // OpenSSL failed to seal (allocation or provider failure)
    count_
};

const char* to_string(Reject r) noexcept;

}  // namespace ringtun::crypto
