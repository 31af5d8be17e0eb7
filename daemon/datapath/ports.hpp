// The seams between the backend-neutral data path and what is on either side of it, small
// like wireguard-go's tun.Device and conn.Bind. A backend implements TunPort and NetPort; the
// TCP transport implements StreamPort. Each is called on the loop thread and never blocks.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <span>

#include "daemon/engine/endpoint.hpp"

namespace ringtun::daemon {

class TunPort {
  public:
    virtual ~TunPort() = default;
    // The TUN read buffer `bid` is free again: its packet was sent or dropped.
    virtual void recycle(std::uint16_t bid) noexcept = 0;
    // Starts one write (writev) of `pieces` to the TUN for TunWrites slot `slot`; the
    // completion comes back through Datapath::on_tun_written with `generation`. False when
    // the backend cannot (stopping, no room): the datapath drops the packets.
    virtual bool write(std::uint32_t slot, std::uint16_t generation,
                       std::span<const iovec> pieces) noexcept = 0;
};

class NetPort {
  public:
    virtual ~NetPort() = default;
    // Starts one sendmsg of transmit slot `head`'s prepared msghdr, carrying `count`
    // datagrams; the completion comes back through Datapath::on_udp_sent. False when the
    // backend cannot (stopping, no room): the datapath frees the slots.
    virtual bool send_udp(std::uint32_t head, unsigned count) noexcept = 0;
    // The receive buffer `bid` is free again: every packet in it was written or dropped.
    virtual void recycle_rx(std::uint16_t bid) noexcept = 0;
};

class StreamPort {
  public:
    virtual ~StreamPort() = default;
    // Takes transmit slot `tx`, whose iov holds a whole frame (length prefix and message),
    // for the stream `to` names; frees it if it cannot. It leaves at the next flush(), with
    // the frames queued behind it: the segments of one super-packet go in one send.
    virtual void send(const Endpoint& to, std::uint32_t tx) noexcept = 0;
    // Starts the sends that send() queued. The datapath calls it before the backend waits.
    virtual void flush() noexcept = 0;
};

}  // namespace ringtun::daemon
