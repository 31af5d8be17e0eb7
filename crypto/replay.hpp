// Sliding replay window over 64-bit counters (RFC 6479 style, as in the kernel's
// receive.c): a ring of 128 × 64-bit words, of which 8128 bits are the usable window.
#pragma once

#include <array>
#include <cstdint>

namespace ringtun::crypto {

class ReplayWindow {
  public:
    static constexpr unsigned word_count = 128;
    static constexpr std::uint64_t bits_total = word_count * 64;
    static constexpr std::uint64_t window_size = bits_total - 64;  // 8128

    // True if `counter` could be accepted now. Cheap; a filter before decrypting.
    bool check(std::uint64_t counter) const noexcept;

    // Marks `counter` as seen; false if it is a duplicate, behind the window or at/past
    // REJECT_AFTER_MESSAGES. Call only after the packet has authenticated.
    bool accept(std::uint64_t counter) noexcept;

  private:
    // One more than the greatest counter accepted so far (0: none yet). Bit positions use the
    // same "counter + 1" numbering so that the first word needs no special case.
    std::uint64_t next_ = 0;
    std::array<std::uint64_t, word_count> words_{};
};

}  // namespace ringtun::crypto
