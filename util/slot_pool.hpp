// SlotPool: a fixed-capacity pool of slot indices for per-request state (send slots, TUN read
// slots, connection slots). The caller keeps the state itself in an array indexed by slot.
//
// acquire/release are O(1) and never allocate after construction. release() bumps the slot's
// generation, so a CQE that names (index, old generation) is recognised as stale by
// is_current() even after the slot has been handed out again. Every completion path —
// success, error, cancellation — must release its slot exactly once.
// Not thread-safe: one pool per loop thread.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace ringtun::util {

class SlotPool {
  public:
    struct Slot {
        std::uint32_t index;
        std::uint16_t generation;
    };

    // The largest index: io_uring user_data carries a slot in 24 bits (ring/user_data.hpp).
    static constexpr std::uint32_t kMaxIndex = (1u << 24) - 1;

    // Precondition: capacity <= kMaxIndex + 1. Allocates here only.
    explicit SlotPool(std::uint32_t capacity)
        : generation_(capacity, 0), used_(capacity, 0), free_(capacity) {
        for (std::uint32_t i = 0; i < capacity; ++i)
            free_[i] = capacity - 1 - i;
        free_count_ = capacity;
    }
    SlotPool(const SlotPool&) = delete;
    SlotPool& operator=(const SlotPool&) = delete;

    // A free slot, or nullopt when all are in use (back-pressure: the caller drops or waits).
    [[nodiscard]] std::optional<Slot> acquire() noexcept {
        if (free_count_ == 0) return std::nullopt;
        const std::uint32_t index = free_[--free_count_];
        used_[index] = 1;
        return Slot{index, generation_[index]};
    }

    // Returns the slot and invalidates its current generation. False (and no effect) if the
    // index is out of range or not in use — a double release is a caller bug worth counting.
    [[nodiscard]] bool release(std::uint32_t index) noexcept {
        if (index >= capacity() || used_[index] == 0) return false;
        used_[index] = 0;
        ++generation_[index];
        free_[free_count_++] = index;
        return true;
    }

    // True if `index` is in use and was handed out with `generation`.
    bool is_current(std::uint32_t index, std::uint16_t generation) const noexcept {
        return index < capacity() && used_[index] != 0 && generation_[index] == generation;
    }

    std::uint32_t in_use() const noexcept { return capacity() - free_count_; }
    std::uint32_t capacity() const noexcept { return static_cast<std::uint32_t>(free_.size()); }

  private:
    std::vector<std::uint16_t> generation_;
    std::vector<std::uint8_t> used_;
    std::vector<std::uint32_t> free_;  // stack of free indices; [0, free_count_) valid
    std::uint32_t free_count_ = 0;
};

}  // namespace ringtun::util
