#include "daemon/transport/send_queue.hpp"

#include <algorithm>

namespace ringtun::daemon {

SendQueue::SendQueue(std::uint32_t capacity)
    : items_(std::make_unique<std::uint32_t[]>(std::max<std::uint32_t>(capacity, 1))),
      capacity_(std::max<std::uint32_t>(capacity, 1)) {}

std::optional<std::uint32_t> SendQueue::push(std::uint32_t item) noexcept {
    std::optional<std::uint32_t> dropped;
    if (full()) dropped = pop();
    items_[(head_ + size_) % capacity_] = item;
    ++size_;
    return dropped;
}

std::optional<std::uint32_t> SendQueue::pop() noexcept {
    if (empty()) return std::nullopt;
    const std::uint32_t item = items_[head_];
    head_ = (head_ + 1) % capacity_;
    --size_;
    return item;
}

std::optional<std::uint32_t> SendQueue::front() const noexcept {
    if (empty()) return std::nullopt;
    return items_[head_];
}

}  // namespace ringtun::daemon
