// Packets waiting for a session (kernel: peer->staged_packet_queue): up to 128 per peer,
// copied into storage allocated once per peer, the oldest dropped first when full.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace ringtun::daemon {

class StagedPackets {
  public:
    static constexpr std::size_t capacity = 128;

    // `max_packet` is the largest packet kept (the interface MTU).
    explicit StagedPackets(std::size_t max_packet);

    // Copies `packet` (empty = a keepalive request); sets `dropped_oldest` when the oldest
    // packet made room for it. A packet longer than max_packet is refused: false, nothing
    // stored.
    bool push(std::span<const std::uint8_t> packet, bool& dropped_oldest) noexcept;

    bool empty() const noexcept { return count_ == 0; }
    std::size_t size() const noexcept { return count_; }
    std::span<const std::uint8_t> front() const noexcept;
    void pop() noexcept;
    // Drops everything; returns how many packets were dropped.
    std::size_t clear() noexcept;

  private:
    std::size_t max_packet_;
    std::unique_ptr<std::uint8_t[]> storage_;
    std::uint16_t lengths_[capacity]{};
    std::size_t head_ = 0;
    std::size_t count_ = 0;
};

}  // namespace ringtun::daemon
