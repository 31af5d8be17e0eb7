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

void StagedPool::holds(StagedPackets& q, std::uint32_t from, std::uint32_t to) noexcept {
    if (from != 0) {
        if (q.prev_)
            q.prev_->next_ = q.next_;
        else
            holders_[from] = q.next_;
        if (q.next_) q.next_->prev_ = q.prev_;
        q.prev_ = q.next_ = nullptr;
    }
    if (to != 0) {
        q.next_ = holders_[to];
        if (q.next_) q.next_->prev_ = &q;
        holders_[to] = &q;
    }
    // Counts change by one, so the largest moves by at most one step.
    if (to > most_) most_ = to;
    while (most_ != 0 && holders_[most_] == nullptr)
        --most_;
}

StagedPackets::Push StagedPackets::push(std::span<const std::uint8_t> packet) noexcept {
    StagedPool& pool = *pool_;
    if (packet.empty()) {
        keepalive_ = true;
        return Push::stored;
    }
    if (packet.size() > pool.max_packet_) return Push::too_long;
    Push result = Push::stored;
    if (count_ == capacity) {
        drop_oldest_packet();
        result = Push::stored_dropping_oldest;
    }
    std::uint32_t slot = pool.take();
    if (slot == StagedPool::none) {
        StagedPackets* victim = pool.largest();
        if (!victim) return Push::dropped;
        if (victim->count_ <= count_) victim = this;  // a tie costs the pusher
        victim->drop_oldest_packet();
        slot = pool.take();
        result = Push::stored_pool_empty;
    }
    std::memcpy(pool.bytes(slot), packet.data(), packet.size());
    pool.slots_[slot].length = static_cast<std::uint16_t>(packet.size());
    if (tail_ == StagedPool::none)
        head_ = slot;
    else
        pool.slots_[tail_].next = slot;
    tail_ = slot;
    ++count_;
    pool.holds(*this, count_ - 1, count_);
    return result;
}

std::span<const std::uint8_t> StagedPackets::front() const noexcept {
    if (keepalive_ || count_ == 0) return {};
    return {pool_->bytes(head_), pool_->slots_[head_].length};
}

void StagedPackets::pop() noexcept {
    if (keepalive_)
        keepalive_ = false;
    else if (count_ != 0)
        drop_oldest_packet();
}

void StagedPackets::drop_oldest_packet() noexcept {
    const std::uint32_t s = head_;
    head_ = pool_->slots_[s].next;
    if (head_ == StagedPool::none) tail_ = StagedPool::none;
    pool_->give(s);
    --count_;
    pool_->holds(*this, count_ + 1, count_);
}

std::size_t StagedPackets::clear() noexcept {
    const std::size_t n = size();
    keepalive_ = false;
    while (count_ != 0)
        drop_oldest_packet();
    return n;
}

}  // namespace ringtun::daemon
