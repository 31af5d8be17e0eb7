// Packets waiting for a session (kernel: peer->staged_packet_queue): up to 128 per peer, the
// oldest dropped first when full.
//
// Their bytes live in one StagedPool the device owns, not in storage of each peer's own: 128
// packets of an MTU each are 182 KiB, which at 10,000 peers would be 1.8 GB of address space
// (and a resident page each) for queues that are empty unless a peer is waiting for its
// handshake. The pool holds 128 slots per peer up to 4,096 in all (5.8 MB at MTU 1420),
// allocated as peers are added, never on the data path.
//
// Shared, it must not let some peers starve the others: 4,096 peers with a persistent
// keepalive towards endpoints that never answer, or 32 unreachable peers with traffic, would
// hold every slot while a live peer's packets waited for its handshake. So a pending keepalive
// is a flag, not a slot, and a packet that finds the pool empty takes the slot of the oldest
// packet of the peer holding the most (itself on a tie). The pool tracks its holders by how
// many slots each holds, so that peer is found in O(1), not by a scan of every peer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace ringtun::daemon {

class StagedPackets;

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
    // `q`'s slot count went from `from` to `to` (they differ by one): moves it between the
    // holder lists.
    void holds(StagedPackets& q, std::uint32_t from, std::uint32_t to) noexcept;
    // A queue holding the most slots, or null if none holds any.
    StagedPackets* largest() const noexcept { return holders_[most_]; }

    std::size_t max_packet_;
    std::vector<std::unique_ptr<std::uint8_t[]>> blocks_;  // per_peer slots each
    std::vector<Slot> slots_;
    std::uint32_t free_ = none;
    std::size_t free_count_ = 0;
    // holders_[n]: the queues holding n slots (1..per_peer), linked through their own
    // prev_/next_; most_ is the largest n with a holder (0: none, holders_[0] stays null).
    std::array<StagedPackets*, per_peer + 1> holders_{};
    std::uint32_t most_ = 0;
};

// One peer's queue: a chain of pool slots, in order, and at most one keepalive request ahead
// of them. `pool` must outlive it; it must not move while it holds slots (the pool links it).
class StagedPackets {
  public:
    static constexpr std::size_t capacity = StagedPool::per_peer;

    enum class Push {
        stored,
        stored_dropping_oldest,  // full (its 128): the peer's own oldest packet made room
        stored_pool_empty,       // the pool was empty: the oldest packet of the peer holding
                                 // the most (this one on a tie) made room
        dropped,                 // the pool has no slots at all
        too_long,                // longer than the pool's max_packet: nothing changed
    };

    explicit StagedPackets(StagedPool& pool) noexcept : pool_(&pool) {}
    StagedPackets(const StagedPackets&) = delete;
    StagedPackets& operator=(const StagedPackets&) = delete;
    ~StagedPackets() { clear(); }

    // Copies `packet`. An empty one is a keepalive request: a flag that takes no slot and is
    // always stored; it comes out first, and a second one while it waits changes nothing.
    Push push(std::span<const std::uint8_t> packet) noexcept;

    bool empty() const noexcept { return size() == 0; }
    // Packets waiting, a keepalive request included.
    std::size_t size() const noexcept { return count_ + (keepalive_ ? 1 : 0); }
    std::span<const std::uint8_t> front() const noexcept;
    void pop() noexcept;
    // Drops everything (the slots go back to the pool); returns how many packets were dropped,
    // a keepalive request included.
    std::size_t clear() noexcept;

  private:
    friend class StagedPool;
    // Gives the oldest packet's slot back to the pool (count_ > 0).
    void drop_oldest_packet() noexcept;

    StagedPool* pool_;
    std::uint32_t head_ = StagedPool::none, tail_ = StagedPool::none;
    std::uint32_t count_ = 0;
    bool keepalive_ = false;
    StagedPackets* prev_ = nullptr;  // among the pool's holders of count_ slots
    StagedPackets* next_ = nullptr;
};

}  // namespace ringtun::daemon
