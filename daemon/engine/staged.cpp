#include "daemon/engine/staged.hpp"

#include <cstring>

namespace ringtun::daemon {

StagedPackets::StagedPackets(std::size_t max_packet)
    : max_packet_(max_packet), storage_(new std::uint8_t[capacity * max_packet]) {}

bool StagedPackets::push(std::span<const std::uint8_t> packet, bool& dropped_oldest) noexcept {
    dropped_oldest = false;
    if (packet.size() > max_packet_) return false;
    if (count_ == capacity) {
        pop();
        dropped_oldest = true;
    }
    const std::size_t slot = (head_ + count_) % capacity;
    if (!packet.empty())
        std::memcpy(storage_.get() + slot * max_packet_, packet.data(), packet.size());
    lengths_[slot] = static_cast<std::uint16_t>(packet.size());
    ++count_;
    return true;
}

std::span<const std::uint8_t> StagedPackets::front() const noexcept {
    return {storage_.get() + head_ * max_packet_, lengths_[head_]};
}

void StagedPackets::pop() noexcept {
    if (count_ == 0) return;
    head_ = (head_ + 1) % capacity;
    --count_;
}

std::size_t StagedPackets::clear() noexcept {
    const std::size_t n = count_;
    head_ = count_ = 0;
    return n;
}

}  // namespace ringtun::daemon
