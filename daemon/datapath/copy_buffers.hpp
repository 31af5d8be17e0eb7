// CopyBuffers: buffers for packets that must be copied before they are written to the TUN —
// those that arrived over TCP, whose receive buffer is reused at once. A pool of their own, so
// inbound packets never compete with outbound sends for transmit slots: a TCP peer that fills
// every data slot outbound cannot make its inbound packets drop. Each buffer holds the largest
// message any peer may send; generations tell a current completion from a stale one.
// Allocation happens in the constructor only. Not thread-safe: one per loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "util/slot_pool.hpp"

namespace ringtun::daemon {

class CopyBuffers {
  public:
    CopyBuffers(std::uint32_t count, std::size_t size)
        : pool_(count),
          size_(size),
          // Not zeroed: a buffer's pages are touched only as far as its packets reach.
          storage_(std::make_unique_for_overwrite<std::uint8_t[]>(count * size)) {}

    // A free buffer (its index and generation), or nullopt when all are being written.
    std::optional<util::SlotPool::Slot> acquire() noexcept { return pool_.acquire(); }
    std::span<std::uint8_t> buffer(std::uint32_t index) noexcept {
        return {storage_.get() + index * size_, size_};
    }
    // Frees the buffer a completion names; false (nothing freed) if it is stale.
    bool release(std::uint32_t index, std::uint16_t generation) noexcept {
        return pool_.is_current(index, generation) && pool_.release(index);
    }
    std::uint32_t in_use() const noexcept { return pool_.in_use(); }

  private:
    util::SlotPool pool_;
    std::size_t size_;
    std::unique_ptr<std::uint8_t[]> storage_;
};

}  // namespace ringtun::daemon
