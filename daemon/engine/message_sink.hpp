// Where the device puts the messages it builds itself: handshake initiations and responses,
// cookie replies, keepalives and staged data. (A TUN packet is sealed in the caller's buffer
// and returned instead; see Device::on_tun_packet.)
//
// Each message travels under an explicit handle: acquire() lends a buffer and names it,
// the device writes the message at its start, then either commit()s it to an endpoint or
// cancel()s it. No state is implied between calls; a handle is spent by commit or cancel.
// SinkLease does the cancel for a handle the device gives up on.
//
// The sink is the seam to the transmit slots: it keeps a reserve for control messages that
// data can never take, so a data burst cannot starve handshakes, keepalives and cookie
// replies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "daemon/engine/endpoint.hpp"

namespace ringtun::daemon {

enum class TxClass : std::uint8_t {
    data,     // a data packet (staged ones flushed after a handshake)
    control,  // handshake messages, cookie replies, keepalives: served from the reserve too
};

struct TxBuffer {
    std::uint32_t handle = 0;              // the sink's name for the buffer
    std::span<std::uint8_t> message = {};  // where the message goes; empty: none was free
    explicit operator bool() const noexcept { return !message.empty(); }
};

class MessageSink {
  public:
    virtual ~MessageSink() = default;
    // A buffer for one message of up to `size` bytes; empty when none is free for `c` (the
    // device then drops the message and counts no_tx_buffer).
    virtual TxBuffer acquire(std::size_t size, TxClass c) noexcept = 0;
    // Whether acquire(size, c) would lend a buffer now for a size that fits one (whatever
    // it is). The device's timers wait while it is false rather than build messages that
    // find no buffer.
    virtual bool has_room(TxClass c) const noexcept = 0;
    // Sends the first `length` bytes of `b` to `to`; spends the handle.
    virtual void commit(const TxBuffer& b, const Endpoint& to, std::size_t length) noexcept = 0;
    // Gives `b` back unsent; spends the handle.
    virtual void cancel(const TxBuffer& b) noexcept = 0;
};

// A buffer the device holds while it builds a message: cancelled on scope exit unless
// committed.
class SinkLease {
  public:
    SinkLease(MessageSink& sink, std::size_t size, TxClass c) noexcept
        : sink_(sink), buffer_(sink.acquire(size, c)) {}
    SinkLease(const SinkLease&) = delete;
    SinkLease& operator=(const SinkLease&) = delete;
    ~SinkLease() {
        if (buffer_) sink_.cancel(buffer_);
    }

    explicit operator bool() const noexcept { return static_cast<bool>(buffer_); }
    std::span<std::uint8_t> message() const noexcept { return buffer_.message; }
    void commit(const Endpoint& to, std::size_t length) noexcept {
        sink_.commit(std::exchange(buffer_, TxBuffer{}), to, length);
    }

  private:
    MessageSink& sink_;
    TxBuffer buffer_;
};

}  // namespace ringtun::daemon
