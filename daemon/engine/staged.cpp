#include "daemon/engine/staged.hpp"

#include <algorithm>
#include <cstring>

namespace ringtun::daemon {

void StagedPool::reserve_for(std::size_t peers) {
    const std::size_t want = std::min(max_slots, peers * per_peer);
    while (slots_.size() < want) {
        // Uninitialised: only the pages that packets are copied into become resident.
        blocks_.push_back(
            std::unique_ptr<std::uint8_t[]>(new std::uint8_t[per_peer * max_packet_]));
        const auto first = static_cast<std::uint32_t>(slots_.size());
        slots_.resize(slots_.size() + per_peer);
        for (std::uint32_t s = first + per_peer; s-- > first;)
            give(s);
    }
}

std::uint32_t StagedPool::take() noexcept {
    const std::uint32_t s = free_;
    if (s == none) return none;
    free_ = slots_[s].next;
    slots_[s].next = none;
    --free_count_;
    return s;
}

void StagedPool::give(std::uint32_t slot) noexcept {
    slots_[slot].next = free_;
    free_ = slot;
    ++free_count_;
}

StagedPackets::Push StagedPackets::push(std::span<const std::uint8_t> packet) noexcept {
    StagedPool& pool = *pool_;
    if (packet.size() > pool.max_packet_) return Push::too_long;
    Push result = Push::stored;
    std::uint32_t slot = count_ < capacity ? pool.take() : StagedPool::none;
    if (slot == StagedPool::none) {
        if (count_ == 0) return Push::dropped;
        pop();
        slot = pool.take();
        result = Push::stored_dropping_oldest;
    }
    if (!packet.empty()) std::memcpy(pool.bytes(slot), packet.data(), packet.size());
    pool.slots_[slot].length = static_cast<std::uint16_t>(packet.size());
    if (tail_ == StagedPool::none)
        head_ = slot;
    else
        pool.slots_[tail_].next = slot;
    tail_ = slot;
    ++count_;
    return result;
}

std::span<const std::uint8_t> StagedPackets::front() const noexcept {
    if (count_ == 0) return {};
    return {pool_->bytes(head_), pool_->slots_[head_].length};
}

void StagedPackets::pop() noexcept {
    if (count_ == 0) return;
    const std::uint32_t s = head_;
    head_ = pool_->slots_[s].next;
    if (head_ == StagedPool::none) tail_ = StagedPool::none;
    pool_->give(s);
    --count_;
}

std::size_t StagedPackets::clear() noexcept {
    const std::size_t n = count_;
    while (count_ != 0)
        pop();
    return n;
}

}  // namespace ringtun::daemon
