#include "daemon/engine/ratelimiter.hpp"

#include <algorithm>

namespace ringtun::daemon {

bool HandshakeLoad::count_and_check(crypto::Nanos now) noexcept {
    if (now - window_start_ >= crypto::seconds_ns(1)) {
        window_start_ = now;
        in_window_ = 0;
    }
    if (++in_window_ > threshold_) under_load_until_ = now + crypto::seconds_ns(1);
    return now < under_load_until_;
}

namespace {

// 64-bit FNV-1a over the seed and the address, then a final mix.
std::uint64_t keyed_hash(std::uint64_t seed, std::span<const std::uint8_t> bytes) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (std::uint8_t b : bytes)
        h = (h ^ b) * 0x100000001b3ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h | 1;  // never 0, which marks an unused bucket
}

}  // namespace

bool SourceRateLimiter::allow(std::span<const std::uint8_t> ip, crypto::Nanos now) noexcept {
    // IPv6 sources are limited per /64 (one host usually holds a whole /64), as in the kernel.
    const auto prefix = ip.size() == 16 ? ip.first(8) : ip;
    const std::uint64_t key = keyed_hash(seed_, prefix);
    // Sources whose keys collide share a bucket: a collision must not refill it.
    Bucket& b = table_[key % buckets];
    if (b.key == 0) {
        b = Bucket{key, now, burst};
    } else {
        const double elapsed = static_cast<double>(now - b.last) * 1e-9;
        b.tokens = std::min(burst, b.tokens + elapsed * per_second);
        b.last = now;
    }
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
}

}  // namespace ringtun::daemon
