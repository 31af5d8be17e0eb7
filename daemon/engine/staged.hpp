// Packets waiting for a session (kernel: peer->staged_packet_queue): up to 128 per peer, the
// oldest dropped first when full.
//
// Their bytes live in one StagedPool the device owns, not in storage of each peer's own: 128
// packets of an MTU each are 182 KiB, which at 10,000 peers would be 1.8 GB of address space
// (and a resident page each) for queues that are empty unless a peer is waiting for its
// handshake. The pool holds 128 slots per peer up to 4,096 in all (5.8 MB at MTU 1420),
// allocated as peers are added, never on the data path; a peer that finds it empty takes its
// own oldest packet's slot, or drops the new packet if it has none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace ringtun::daemon {

class StagedPool {
  public:
    static constexpr std::size_t per_peer = 128;  // the kernel's MAX_STAGED_PACKETS
    static constexpr std::size_t max_slots = 4096;

    // `max_packet` is the largest packet kept (the interface MTU).
    explicit StagedPool(std::size_t max_packet) noexcept : max_packet_(max_packet) {}
    StagedPool(const StagedPool&) = delete;
    StagedPool& operator=(const StagedPool&) = delete;

    // Room for `peers` peers: per_peer slots each, at most max_slots in all. Setup: allocates
    // (in blocks of per_peer slots); never shrinks.
    void reserve_for(std::size_t peers);

    std::size_t max_packet() const noexcept { return max_packet_; }
    std::size_t slots() const noexcept { return slots_.size(); }
    std::size_t free_slots() const noexcept { return free_count_; }

  private:
    friend class StagedPackets;
    static constexpr std::uint32_t none = 0xffffffff;

    struct Slot {
        std::uint32_t next = none;  // in a peer's queue, or in the free list
        std::uint16_t length = 0;
    };

    std::uint8_t* bytes(std::uint32_t slot) const noexcept {
        return blocks_[slot / per_peer].get() + (slot % per_peer) * max_packet_;
    }
    // A free slot, or none.
    std::uint32_t take() noexcept;
    void give(std::uint32_t slot) noexcept;

    std::size_t max_packet_;
    std::vector<std::unique_ptr<std::uint8_t[]>> blocks_;  // per_peer slots each
    std::vector<Slot> slots_;
    std::uint32_t free_ = none;
    std::size_t free_count_ = 0;
};

// One peer's queue: a chain of pool slots, in order. `pool` must outlive it.
class StagedPackets {
  public:
    static constexpr std::size_t capacity = StagedPool::per_peer;

    enum class Push {
        stored,
        stored_dropping_oldest,  // the peer's oldest packet made room (its 128, or the pool)
        dropped,                 // the pool is empty and the peer holds nothing to give up
        too_long,                // longer than the pool's max_packet: nothing changed
    };

    explicit StagedPackets(StagedPool& pool) noexcept : pool_(&pool) {}
    StagedPackets(const StagedPackets&) = delete;
    StagedPackets& operator=(const StagedPackets&) = delete;
    ~StagedPackets() { clear(); }

    // Copies `packet` (empty = a keepalive request).
    Push push(std::span<const std::uint8_t> packet) noexcept;

    bool empty() const noexcept { return count_ == 0; }
    std::size_t size() const noexcept { return count_; }
    std::span<const std::uint8_t> front() const noexcept;
    void pop() noexcept;
    // Drops everything (the slots go back to the pool); returns how many packets were dropped.
    std::size_t clear() noexcept;

  private:
    StagedPool* pool_;
    std::uint32_t head_ = StagedPool::none, tail_ = StagedPool::none;
    std::uint32_t count_ = 0;
};

}  // namespace ringtun::daemon
