// TxSlots: the transmit slots. A slot holds what one send needs until it completes — the
// msghdr, address and control messages, the iovec of its message, and either a TUN buffer it
// carries (a sealed TUN packet is sent from where it was read) or its own frame buffer (for
// messages the device builds and packets copied to the TUN). Slots of one send batch (a UDP
// GSO send, a TCP sendmsg of several frames) are chained through `next`; the completion names
// the head, so the whole chain is freed by walking it, here and only here.
//
// Two classes share the pool: data may hold at most `data` slots, so the control reserve is
// never data's; control (handshakes, cookie replies, keepalives) may take any free slot. So a
// data burst — or a TCP connection that stopped reading — can never take the slots a
// handshake needs.
//
// Every slot has a generation (util::SlotPool) that the backend echoes in its completions, so a
// stale completion is recognised. Allocation happens in the constructor only. Not thread-safe:
// one per loop.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "daemon/datapath/layout.hpp"
#include "daemon/datapath/udp_cmsg.hpp"
#include "daemon/engine/endpoint.hpp"
#include "daemon/engine/message_sink.hpp"
#include "util/slot_pool.hpp"

namespace ringtun::daemon {

// UDP GSO: at most this many datagrams, and this many payload bytes, in one sendmsg
// (UDP_MAX_SEGMENTS is 64; an IP packet carries under 64 KiB).
inline constexpr unsigned max_gso_segments = 64;
inline constexpr std::size_t max_gso_bytes = 65000;
inline constexpr std::int32_t no_slot = -1;

struct TxSlot {
    msghdr msg{};
    iovec iov{};  // the message (UDP) or the frame (TCP) this slot sends
    sockaddr_in6 addr{};
    alignas(cmsghdr) std::uint8_t control[udp_control_space]{};
    std::int32_t tun_bid = -1;     // TUN buffer being sent, or -1: the slot's own buffer
    std::int32_t next = no_slot;   // next slot of the same send batch
    std::uint16_t generation = 0;  // echoed in the completion
    TxClass cls = TxClass::data;
    // Kept by a batch's head: the gathered iovecs, the destination and the segment size (to
    // resend the batch), and how it has been retried (see udp_batch.hpp).
    std::array<iovec, max_gso_segments> batch_iov{};
    Endpoint batch_to;
    std::uint8_t retries = 0;
};

class TxSlots {
  public:
    struct Params {
        std::uint32_t data = 512;             // [ring] tx_slots
        std::uint32_t control_reserve = 144;  // beyond them, for control messages only
        std::size_t mtu = 1420;               // sizes each slot's own frame buffer
    };

    explicit TxSlots(const Params& p);
    TxSlots(const TxSlots&) = delete;
    TxSlots& operator=(const TxSlots&) = delete;

    // A free slot for a message of class `c`, or nullopt: data finds none once it holds
    // data_limit() slots, control once every slot is in use.
    [[nodiscard]] std::optional<std::uint32_t> acquire(TxClass c) noexcept;
    // Whether acquire(c) would find a slot now.
    bool can_acquire(TxClass c) const noexcept {
        if (c == TxClass::data && data_in_use_ >= data_limit()) return false;
        return in_use() < capacity();
    }
    // Frees `index`; returns the TUN buffer it carried, or -1. A slot not in use is ignored
    // (returns -1) — every completion path frees its slots exactly once.
    std::int32_t release(std::uint32_t index) noexcept;
    // Frees every slot of the chain that starts at `head`, calling on_tun_buffer(bid) for each
    // TUN buffer they carried. Returns how many slots it freed.
    template <std::invocable<std::uint16_t> F>
    unsigned release_chain(std::uint32_t head, F&& on_tun_buffer) noexcept;

    // True while `index` is in use under `generation` (a completion for it is current).
    bool is_current(std::uint32_t index, std::uint16_t generation) const noexcept {
        return index < capacity() && pool_.is_current(index, generation);
    }
    TxSlot& operator[](std::uint32_t index) noexcept { return slots_[index]; }
    const TxSlot& operator[](std::uint32_t index) const noexcept { return slots_[index]; }
    // The slot's own buffer from the message on (the frame prefix is before it), room for the
    // largest message of our MTU.
    std::span<std::uint8_t> own_message(std::uint32_t index) noexcept;

    std::uint32_t capacity() const noexcept { return pool_.capacity(); }
    std::uint32_t in_use() const noexcept { return pool_.in_use(); }
    std::uint32_t data_in_use() const noexcept { return data_in_use_; }
    std::uint32_t data_limit() const noexcept { return capacity() - reserve_; }
    std::size_t message_capacity() const noexcept { return message_capacity_; }

  private:
    util::SlotPool pool_;
    std::vector<TxSlot> slots_;
    std::unique_ptr<std::uint8_t[]> frames_;  // every slot's own frame, one allocation
    std::size_t frame_size_;
    std::size_t message_capacity_;
    std::uint32_t reserve_;
    std::uint32_t data_in_use_ = 0;
};

template <std::invocable<std::uint16_t> F>
unsigned TxSlots::release_chain(std::uint32_t head, F&& on_tun_buffer) noexcept {
    unsigned n = 0;
    // A chain is at most capacity() long: a corrupt link cannot loop forever.
    for (std::int32_t i = static_cast<std::int32_t>(head); i != no_slot && n < capacity(); ++n) {
        const std::int32_t next = slots_[static_cast<std::uint32_t>(i)].next;
        slots_[static_cast<std::uint32_t>(i)].next = no_slot;
        if (const std::int32_t bid = release(static_cast<std::uint32_t>(i)); bid >= 0)
            on_tun_buffer(static_cast<std::uint16_t>(bid));
        i = next;
    }
    return n;
}

}  // namespace ringtun::daemon
