// Secret<N>: fixed-size secret bytes that are wiped (OPENSSL_cleanse) when destroyed or
// overwritten, and that cannot be printed: there is deliberately no operator<< and no
// conversion to a string. Copies are allowed (key slots move between sessions); every copy
// wipes itself.
#pragma once

#include <openssl/crypto.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ringtun::crypto {

template <std::size_t N>
class Secret {
  public:
    static constexpr std::size_t size_bytes = N;

    Secret() noexcept { bytes_.fill(0); }
    explicit Secret(std::span<const std::uint8_t, N> b) noexcept { assign(b); }
    Secret(const Secret& o) noexcept : bytes_(o.bytes_) {}
    Secret& operator=(const Secret& o) noexcept {
        bytes_ = o.bytes_;
        return *this;
    }
    ~Secret() { clear(); }

    void assign(std::span<const std::uint8_t, N> b) noexcept {
        for (std::size_t i = 0; i < N; ++i)
            bytes_[i] = b[i];
    }
    void clear() noexcept { OPENSSL_cleanse(bytes_.data(), N); }
    bool is_zero() const noexcept {
        std::uint8_t acc = 0;
        for (auto b : bytes_)
            acc |= b;
        return acc == 0;
    }

    std::uint8_t* data() noexcept { return bytes_.data(); }
    const std::uint8_t* data() const noexcept { return bytes_.data(); }
    static constexpr std::size_t size() noexcept { return N; }
    std::span<std::uint8_t, N> span() noexcept { return bytes_; }
    std::span<const std::uint8_t, N> span() const noexcept { return bytes_; }

    // Constant-time comparison.
    friend bool operator==(const Secret& a, const Secret& b) noexcept {
        return CRYPTO_memcmp(a.bytes_.data(), b.bytes_.data(), N) == 0;
    }

  private:
    std::array<std::uint8_t, N> bytes_;
};

}  // namespace ringtun::crypto
