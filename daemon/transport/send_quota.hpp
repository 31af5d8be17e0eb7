// SendQuota: how much of the transmit slots the TCP connections may hold, each and together.
//
// A frame queued on a connection holds a transmit slot — and, for a sealed TUN packet, the TUN
// buffer it was read into — until the kernel took it. A connection whose peer stops reading
// would otherwise hold them all, and the TUN reads of every peer would stop (defect 1). So a
// frame is admitted only within these bounds, counting queued frames and the batch in flight:
//   - an authenticated connection: `frames` frames and `bytes` bytes of data — unless it is
//     draining (its sends complete): then it may hold more, and when the TUN buffers run out
//     the TUN pushes back on the senders as it does for UDP, instead of packets being read
//     and dropped. A connection that stops draining loses that at once (see TcpTransport);
//   - `control_extra` control frames of its own (handshakes, keepalives, cookie replies), which
//     data never uses up;
//   - a connection no peer authenticated on yet: `unauthenticated_frames`, and all of those
//     together `unauthenticated_total`;
//   - data on connections that stopped draining, all together: `total_data_frames`, so while
//     they stall UDP peers and draining connections keep the rest.
// Beyond them the new frame is dropped (tail drop): what is queued is already on its way.
//
// Sans-IO, no allocation after construction. Not thread-safe: one per loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "daemon/engine/message_sink.hpp"

namespace ringtun::daemon {

struct SendQuotaParams {
    std::uint32_t frames = 64;
    std::size_t bytes = 128 * 1024;
    std::uint32_t control_extra = 8;
    std::uint32_t unauthenticated_frames = 8;
    std::uint32_t unauthenticated_total = 64;
    std::uint32_t total_data_frames = 256;
};

class SendQuota {
  public:
    SendQuota(std::uint32_t connections, const SendQuotaParams& p);

    // Whether connection `conn` may take one more frame of class `c` and `bytes` bytes;
    // `draining`: its sends are completing, so data may exceed the connection's own bound.
    bool admits(std::uint32_t conn, TxClass c, std::size_t bytes,
                bool draining = false) const noexcept;
    // Whether `conn` holds more data than its own bound (admitted while draining).
    bool over(std::uint32_t conn) const noexcept;
    // Counts a frame `conn` now holds (queued or in flight). Precondition: admits().
    void take(std::uint32_t conn, TxClass c, std::size_t bytes) noexcept;
    // A frame `conn` held was sent, dropped or freed.
    void give_back(std::uint32_t conn, TxClass c, std::size_t bytes) noexcept;
    // `conn` closed: everything it held is given back at once.
    void reset(std::uint32_t conn) noexcept;
    // A peer authenticated on `conn` (or, false, the connection lost its peer).
    void set_authenticated(std::uint32_t conn, bool yes) noexcept;

    std::uint32_t frames(std::uint32_t conn) const noexcept { return held_[conn].frames; }
    std::uint32_t unauthenticated_frames() const noexcept { return unauthenticated_; }
    std::uint32_t data_frames() const noexcept { return data_; }

  private:
    struct Held {
        std::uint32_t frames = 0;  // all classes
        std::uint32_t data = 0;
        std::size_t data_bytes = 0;
        bool authenticated = false;
    };

    SendQuotaParams p_;
    std::vector<Held> held_;
    std::uint32_t unauthenticated_ = 0;  // frames held by unauthenticated connections
    std::uint32_t data_ = 0;             // data frames held by all connections
};

}  // namespace ringtun::daemon
