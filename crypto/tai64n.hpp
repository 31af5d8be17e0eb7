// TAI64N timestamps for handshake initiations: BE64(2^62 + 10 + seconds) ‖ BE32(nanoseconds).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

namespace ringtun::crypto {

using Tai64n = std::array<std::uint8_t, 12>;

// From wall-clock nanoseconds since the Unix epoch. The low 24 bits of the nanoseconds are
// cleared, as in the kernel and wireguard-go, so the timestamp does not leak fine timing; the
// 16.7 ms granularity stays below the 20 ms initiation flood limit.
constexpr Tai64n tai64n_from_unix_ns(std::uint64_t unix_ns) noexcept {
    std::uint64_t secs = 0x400000000000000aULL + unix_ns / 1000000000ULL;
    auto nanos = static_cast<std::uint32_t>(unix_ns % 1000000000ULL) & ~0xffffffu;
    Tai64n t{};
    for (int i = 0; i < 8; ++i)
        t[i] = static_cast<std::uint8_t>(secs >> (56 - 8 * i));
    for (int i = 0; i < 4; ++i)
        t[8 + i] = static_cast<std::uint8_t>(nanos >> (24 - 8 * i));
    return t;
}

// Big-endian byte order makes lexicographic order chronological.
inline bool tai64n_after(const Tai64n& a, const Tai64n& b) noexcept {
    return std::memcmp(a.data(), b.data(), a.size()) > 0;
}

}  // namespace ringtun::crypto
