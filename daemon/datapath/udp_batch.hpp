// UdpBatch: UDP sends grouped for GSO, and what a failed send means — sans-IO; the backend
// submits what it is handed and reports each result back.
//
// Batching: consecutive messages to the same endpoint (address, port and sticky source) leave
// in one sendmsg with UDP_SEGMENT, in order. GSO cuts the payload into equal segments and only
// the last may be shorter, so a message joins the open batch if it is no longer than the
// first one, and a shorter one closes it. A batch is a chain of transmit slots (TxSlots).
//
// Failures (one owner for what a send error means, as the kernel's socket.c):
//   - EADDRNOTAVAIL or ENETUNREACH while a sticky source was given, or EINVAL for a single
//     datagram: the source address is gone (DHCP renew, roaming, an expired temporary
//     address). Send again once without it; the caller also tells the device, so later sends
//     go without it until the peer is heard from again.
//   - EIO, EMSGSIZE or EINVAL from a batch: the egress device cannot segment (EIO), or a
//     segment plus headers exceeds the route's MTU (EMSGSIZE, EINVAL before Linux 6.15), or
//     the kernel refused the segmentation: batching stops for good (every later batch would
//     fail the same way) and this batch is resent datagram by datagram. EINVAL from a batch
//     that named a sticky source may instead be that source gone (roaming): the batch is
//     resent datagram by datagram, each of which may then find its source gone as above, and
//     batching stays on.
//   - Anything else, or a retry of a kind already tried: the datagrams are lost (counted).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

#include "daemon/datapath/tx_slots.hpp"
#include "daemon/engine/endpoint.hpp"

namespace ringtun::daemon {

// One sendmsg to submit: the chain of slots from `head`, `count` datagrams, each `segment`
// bytes but the last (segment 0: a single datagram, no UDP_SEGMENT).
struct UdpSend {
    std::uint32_t head = 0;
    unsigned count = 0;
    std::size_t segment = 0;
};

enum class UdpRetry : std::uint8_t {
    none,            // done: sent, or lost
    without_source,  // send the same batch again without the sticky source
    one_by_one,      // send each datagram of the batch on its own
};

struct UdpVerdict {
    UdpRetry retry = UdpRetry::none;
    bool stop_gso = false;  // batching is off from now on
};

// The retries a send already had (TxSlot::retries, a bit set).
inline constexpr std::uint8_t udp_retry_no_source = 1;  // resent without its sticky source
inline constexpr std::uint8_t udp_retry_split = 2;      // resent alone, out of a batch

// What send result `res` (bytes, or -errno) of a batch of `count` datagrams means. `had_source`:
// the send named a sticky source; `retries`: the udp_retry_* bits of the retries it had.
UdpVerdict udp_send_verdict(int res, unsigned count, bool had_source,
                            std::uint8_t retries) noexcept;

class UdpBatch {
  public:
    // Adds slot `index` (its iov holds a message to `to`) to the open batch. Calls
    // submit(UdpSend) for each batch this closes: the open one, if `index` cannot join it, and
    // the new one at once if `index` is shorter than its segment, batching is off or `alone`.
    template <std::invocable<const UdpSend&> F>
    void add(TxSlots& slots, std::uint32_t index, const Endpoint& to, bool alone,
             F&& submit) noexcept;
    // Closes the open batch, if any, through submit.
    template <std::invocable<const UdpSend&> F>
    void flush(F&& submit) noexcept;

    bool gso() const noexcept { return gso_; }
    void stop_gso() noexcept { gso_ = false; }

  private:
    bool joins(const TxSlots& slots, std::uint32_t index, const Endpoint& to) const noexcept;

    std::int32_t head_ = no_slot, tail_ = no_slot;
    unsigned count_ = 0;
    std::size_t segment_ = 0, bytes_ = 0;
    bool gso_ = true;
};

template <std::invocable<const UdpSend&> F>
void UdpBatch::flush(F&& submit) noexcept {
    if (count_ == 0) return;
    const UdpSend send{static_cast<std::uint32_t>(head_), count_, count_ > 1 ? segment_ : 0};
    head_ = tail_ = no_slot;
    count_ = 0;
    segment_ = bytes_ = 0;
    submit(send);
}

template <std::invocable<const UdpSend&> F>
void UdpBatch::add(TxSlots& slots, std::uint32_t index, const Endpoint& to, bool alone,
                   F&& submit) noexcept {
    const std::size_t length = slots[index].iov.iov_len;
    slots[index].next = no_slot;
    if (alone || !joins(slots, index, to)) {
        flush(submit);
        head_ = static_cast<std::int32_t>(index);
        segment_ = length;
        slots[index].batch_to = to;
    } else {
        slots[static_cast<std::uint32_t>(tail_)].next = static_cast<std::int32_t>(index);
    }
    tail_ = static_cast<std::int32_t>(index);
    ++count_;
    bytes_ += length;
    if (alone || length < segment_ || !gso_) flush(submit);
}

}  // namespace ringtun::daemon
