// Packet buffers for the readiness backend: `count` slots of [headroom | buffer_size |
// tailroom] in one allocation, lent out by id and given back. The same layout as the io_uring
// backend's buffer rings (layout.hpp), so the datapath cannot tell them apart; here the loop
// itself, not the kernel, takes a free buffer before each read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace ringtun::daemon {

class PacketPool {
  public:
    PacketPool(std::uint32_t count, std::uint32_t buffer_size, std::uint32_t headroom = 0,
               std::uint32_t tailroom = 0)
        : count_(count),
          buffer_size_(buffer_size),
          headroom_(headroom),
          stride_((std::size_t{headroom} + buffer_size + tailroom + 63) / 64 * 64),
          memory_(new std::byte[stride_ * count]()),
          free_(count),
          held_(count, 0) {
        for (std::uint32_t i = 0; i < count; ++i)
            free_[i] = static_cast<std::uint16_t>(count - 1 - i);
    }

    std::uint32_t count() const noexcept { return count_; }
    std::uint32_t buffer_size() const noexcept { return buffer_size_; }
    std::uint32_t available() const noexcept { return static_cast<std::uint32_t>(free_.size()); }
    std::uint32_t held() const noexcept { return count_ - available(); }

    // A free buffer, now held by the caller; nullopt when every one is out.
    std::optional<std::uint16_t> take() noexcept {
        if (free_.empty()) return std::nullopt;
        const std::uint16_t bid = free_.back();
        free_.pop_back();
        held_[bid] = 1;
        return bid;
    }
    // Gives `bid` back. False (no effect) when it is not held (given back twice).
    bool recycle(std::uint16_t bid) noexcept {
        if (bid >= count_ || held_[bid] == 0) return false;
        held_[bid] = 0;
        free_.push_back(bid);  // never beyond count_: reserved at construction
        return true;
    }
    // What a read fills.
    std::span<std::byte> buffer(std::uint16_t bid) const noexcept {
        return {slot(bid) + headroom_, buffer_size_};
    }
    // The whole slot: headroom, buffer, tailroom.
    std::span<std::byte> frame(std::uint16_t bid) const noexcept { return {slot(bid), stride_}; }

  private:
    std::byte* slot(std::uint16_t bid) const noexcept {
        return memory_.get() + std::size_t{bid} * stride_;
    }

    std::uint32_t count_, buffer_size_, headroom_;
    std::size_t stride_;
    std::unique_ptr<std::byte[]> memory_;
    std::vector<std::uint16_t> free_;
    std::vector<std::uint8_t> held_;
};

}  // namespace ringtun::daemon
