// SendQueue: one TCP connection's bounded FIFO of messages waiting to be sent, as tx-slot ids.
//
// The loop keeps one send in flight per connection (a stream must not interleave two sends);
// the queue holds the ones behind it. The in-flight item is not in the queue: the loop pop()s
// an item before it submits it. When the queue is full, push() drops the oldest item, as the
// daemon's other bounded queues do (style §11): under a stalled connection fresh packets are
// worth more than stale ones. Every item that leaves by dropping or clear() is handed back so
// the caller frees its tx slot.
//
// Storage is allocated once at construction; nothing else allocates. Not thread-safe.
#pragma once

#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>

namespace ringtun::daemon {

class SendQueue {
  public:
    // Precondition: capacity >= 1 (0 is raised to 1).
    explicit SendQueue(std::uint32_t capacity);

    SendQueue(SendQueue&&) noexcept = default;
    SendQueue& operator=(SendQueue&&) noexcept = default;

    // Appends `item`. When the queue was full, the oldest item was dropped to make room and is
    // returned: the caller frees it and counts the drop.
    [[nodiscard]] std::optional<std::uint32_t> push(std::uint32_t item) noexcept;
    // Removes and returns the oldest item; nullopt when empty.
    std::optional<std::uint32_t> pop() noexcept;
    // The oldest item, left in place; nullopt when empty.
    std::optional<std::uint32_t> front() const noexcept;

    // Empties the queue, calling on_item(item) for each item, oldest first. Returns how many.
    template <std::invocable<std::uint32_t> F>
    std::uint32_t clear(F&& on_item) noexcept;

    std::uint32_t size() const noexcept { return size_; }
    std::uint32_t capacity() const noexcept { return capacity_; }
    bool empty() const noexcept { return size_ == 0; }
    bool full() const noexcept { return size_ == capacity_; }

  private:
    std::uint32_t at(std::uint32_t offset) const noexcept {
        return items_[(head_ + offset) % capacity_];
    }

    std::unique_ptr<std::uint32_t[]> items_;
    std::uint32_t capacity_;
    std::uint32_t head_ = 0;  // index of the oldest item
    std::uint32_t size_ = 0;
};

template <std::invocable<std::uint32_t> F>
std::uint32_t SendQueue::clear(F&& on_item) noexcept {
    const std::uint32_t n = size_;
    for (std::uint32_t i = 0; i < n; ++i)
        on_item(at(i));
    head_ = 0;
    size_ = 0;
    return n;
}

}  // namespace ringtun::daemon
