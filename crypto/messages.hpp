// The WireGuard wire format (paper §5.4, kernel messages.h) and the protocol's constants.
// Messages are little-endian packed structs; a packet is classified by (type, exact length)
// before anything else looks at it.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

namespace ringtun::crypto {

static_assert(std::endian::native == std::endian::little,
              "wire structs are read in place; a big-endian port needs byte swapping");

using Nanos = std::uint64_t;  // monotonic nanoseconds, supplied by the caller
inline constexpr Nanos seconds_ns(std::uint64_t s) {
    return s * 1'000'000'000ULL;
}
inline constexpr Nanos millis_ns(std::uint64_t ms) {
    return ms * 1'000'000ULL;
}

inline constexpr std::uint64_t rekey_after_messages = 1ULL << 60;
inline constexpr std::uint64_t reject_after_messages = ~0ULL - (1ULL << 13);  // 2^64 − 2^13 − 1
inline constexpr Nanos rekey_after_time = seconds_ns(120);
inline constexpr Nanos reject_after_time = seconds_ns(180);
inline constexpr Nanos rekey_attempt_time = seconds_ns(90);
inline constexpr Nanos rekey_timeout = seconds_ns(5);
inline constexpr Nanos keepalive_timeout = seconds_ns(10);
inline constexpr Nanos cookie_secret_max_age = seconds_ns(120);
// A cookie is used this much less than the secret lives, so the responder never meets a
// mac2 made under a secret it rotated meanwhile (kernel COOKIE_SECRET_LATENCY).
inline constexpr Nanos cookie_secret_latency = seconds_ns(5);
inline constexpr Nanos initiation_flood_interval = millis_ns(20);

enum class MessageType : std::uint8_t { initiation = 1, response = 2, cookie_reply = 3, data = 4 };

struct MacPair {
    std::uint8_t mac1[16];
    std::uint8_t mac2[16];
};

struct MessageInitiation {
    std::uint32_t type;
    std::uint32_t sender;
    std::uint8_t ephemeral[32];
    std::uint8_t encrypted_static[32 + 16];
    std::uint8_t encrypted_timestamp[12 + 16];
    MacPair macs;
};

struct MessageResponse {
    std::uint32_t type;
    std::uint32_t sender;
    std::uint32_t receiver;
    std::uint8_t ephemeral[32];
    std::uint8_t encrypted_nothing[16];
    MacPair macs;
};

struct MessageCookieReply {
    std::uint32_t type;
    std::uint32_t receiver;
    std::uint8_t nonce[24];
    std::uint8_t encrypted_cookie[16 + 16];
};

struct MessageDataHeader {
    std::uint32_t type;
    std::uint32_t receiver;
    std::uint64_t counter;
};

static_assert(sizeof(MessageInitiation) == 148);
static_assert(sizeof(MessageResponse) == 92);
static_assert(sizeof(MessageCookieReply) == 64);
static_assert(sizeof(MessageDataHeader) == 16);
static_assert(offsetof(MessageInitiation, macs) == 116);
static_assert(offsetof(MessageResponse, macs) == 60);

inline constexpr std::size_t data_header_len = sizeof(MessageDataHeader);
inline constexpr std::size_t data_tag_len = 16;
inline constexpr std::size_t data_overhead = data_header_len + data_tag_len;
inline constexpr std::size_t keepalive_len = data_overhead;
inline constexpr std::size_t padding_multiple = 16;

// Offsets of mac1 and mac2 in a handshake message of `type` (1 or 2).
constexpr std::size_t mac1_offset(MessageType t) {
    return t == MessageType::initiation ? offsetof(MessageInitiation, macs)
                                        : offsetof(MessageResponse, macs);
}
constexpr std::size_t mac2_offset(MessageType t) {
    return mac1_offset(t) + 16;
}

// The message type if `packet` has a known type, zero reserved bytes and the exact length of
// that type (at least the minimum for data); nullopt otherwise.
inline std::optional<MessageType> classify(std::span<const std::uint8_t> packet) noexcept {
    if (packet.size() < 4 || packet[1] != 0 || packet[2] != 0 || packet[3] != 0)
        return std::nullopt;
    switch (packet[0]) {
        case 1:
            if (packet.size() == sizeof(MessageInitiation)) return MessageType::initiation;
            break;
        case 2:
            if (packet.size() == sizeof(MessageResponse)) return MessageType::response;
            break;
        case 3:
            if (packet.size() == sizeof(MessageCookieReply)) return MessageType::cookie_reply;
            break;
        case 4:
            if (packet.size() >= keepalive_len) return MessageType::data;
            break;
    }
    return std::nullopt;
}

// Reads a struct out of a classified packet (no alignment assumptions).
template <typename T>
T read_message(std::span<const std::uint8_t> packet) noexcept {
    T m;
    std::memcpy(&m, packet.data(), sizeof m);
    return m;
}

template <typename T>
std::span<const std::uint8_t> message_bytes(const T& m) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(&m), sizeof m};
}

template <typename T>
std::span<std::uint8_t> message_bytes(T& m) noexcept {
    return {reinterpret_cast<std::uint8_t*>(&m), sizeof m};
}

}  // namespace ringtun::crypto
