#include "crypto/replay.hpp"

#include <algorithm>

#include "crypto/messages.hpp"

namespace ringtun::crypto {

namespace {
constexpr unsigned word_mask = ReplayWindow::word_count - 1;
}

bool ReplayWindow::check(std::uint64_t counter) const noexcept {
    if (counter >= reject_after_messages) return false;
    const std::uint64_t position = counter + 1;
    if (position > next_) return true;
    if (position + window_size < next_) return false;
    const std::uint64_t word = words_[(position >> 6) & word_mask];
    return (word & (1ULL << (position & 63))) == 0;
}

bool ReplayWindow::accept(std::uint64_t counter) noexcept {
    if (!check(counter)) return false;
    const std::uint64_t position = counter + 1;
    if (position > next_) {
        // Clear the words the window slides over: those after the current top word, up to and
        // including the new top word, at most the whole ring.
        const std::uint64_t current_word = next_ >> 6;
        const std::uint64_t steps =
            std::min<std::uint64_t>((position >> 6) - current_word, word_count);
        for (std::uint64_t i = 1; i <= steps; ++i)
            words_[(current_word + i) & word_mask] = 0;
        next_ = position;
    }
    words_[(position >> 6) & word_mask] |= 1ULL << (position & 63);
    return true;
}

}  // namespace ringtun::crypto
