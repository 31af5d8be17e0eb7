// Datapath: the packet plumbing between the engine and a backend, the same for every backend.
// Follow one packet from the TUN to the network:
//
//   1. the backend reads it into a TUN buffer laid out as layout.hpp says and calls
//      on_tun_packet(frame, length, bid);
//   2. a transmit slot is taken first (once the device seals, a nonce is spent), then the
//      device seals the packet where it lies and names the peer (Device::on_tun_packet);
//   3. dispatch: for a UDP endpoint the message joins a GSO batch (UdpBatch), for a TCP one
//      its 2-byte length goes into the frame's prefix and the frame goes to the StreamPort;
//   4. before the backend waits it calls flush(): the batch's msghdr is built in its head slot
//      (address, pktinfo, UDP_SEGMENT) and NetPort::send_udp submits it;
//   5. the completion comes back to on_udp_sent(): the slots and their TUN buffers are freed,
//      or the batch is resent as the send error says (udp_batch.hpp).
// Messages the device builds itself take the same path from step 3, through MessageSink.
// The other way, on_datagram() hands a received datagram to the device and returns the
// packet to write to the TUN.
//
// Must run on the loop thread. No allocation after construction, no I/O: the ports do it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "daemon/datapath/ports.hpp"
#include "daemon/datapath/tx_slots.hpp"
#include "daemon/datapath/udp_batch.hpp"
#include "daemon/engine/device.hpp"
#include "util/log.hpp"

namespace ringtun::daemon {

struct DatapathCounters {
    std::uint64_t udp_rx_packets = 0, udp_rx_bytes = 0;
    std::uint64_t udp_tx_packets = 0, udp_tx_bytes = 0, send_errors = 0;
    std::uint64_t tx_slot_exhausted = 0, stale_completions = 0;
    std::uint64_t udp_source_retries = 0;  // sends repeated without a vanished sticky source
    std::uint64_t unframeable = 0;         // for a TCP endpoint, but no transport or over 65535 B
};

class Datapath final : public MessageSink {
  public:
    struct Params {
        std::size_t mtu = 1420;
        std::uint32_t tx_slots = 512;  // data sends in flight
        std::uint32_t control_reserve = 144;
        int udp_family = AF_INET6;  // of the UDP socket: IPv4 peers go v4-mapped on AF_INET6
    };

    Datapath(const Params& p, TunPort& tun, NetPort& net);
    Datapath(const Datapath&) = delete;
    Datapath& operator=(const Datapath&) = delete;

    // The device packets go to, and the TCP transport (null: none configured).
    void bind(Device& device, StreamPort* stream) noexcept;
    // From now on nothing new is sent: shutdown has begun. The open UDP batch goes to the
    // NetPort once more (a backend that stops refuses it, and its slots are freed).
    void stop() noexcept;

    // TUN → network: the packet of `length` bytes read into TUN buffer `bid`, whose `frame`
    // is laid out as layout.hpp says. The buffer goes back through TunPort::recycle.
    void on_tun_packet(std::span<std::uint8_t> frame, std::size_t length, std::uint16_t bid,
                       const Now& now) noexcept;
    // network → TUN: a datagram's payload from `from`.
    Device::Inbound on_datagram(std::span<std::uint8_t> payload, const Endpoint& from,
                                const Now& now) noexcept;
    // Submits the open UDP batch; call before every wait.
    void flush() noexcept;
    // The send of the batch headed by slot `head` (with `generation`, `count` datagrams)
    // completed with `result` (bytes, or -errno).
    void on_udp_sent(std::uint32_t head, std::uint16_t generation, unsigned count, int result,
                     const Now& now) noexcept;

    // Frees a transmit slot, or a send batch's chain, with the TUN buffers they carried.
    void release(std::uint32_t tx) noexcept;
    void release_chain(std::uint32_t head) noexcept;

    // MessageSink: the handle is the transmit slot.
    TxBuffer acquire(std::size_t size, TxClass c) noexcept override;
    void commit(const TxBuffer& b, const Endpoint& to, std::size_t length) noexcept override;
    void cancel(const TxBuffer& b) noexcept override;

    TxSlots& slots() noexcept { return slots_; }
    const TxSlots& slots() const noexcept { return slots_; }
    const DatapathCounters& counters() const noexcept { return counters_; }

  private:
    // Hands the message at `message` (`length` bytes, in slot `tx`) to its transport.
    void dispatch(std::uint32_t tx, const Endpoint& to, std::uint8_t* message,
                  std::size_t length) noexcept;
    void queue_udp(std::uint32_t tx, const Endpoint& to, bool alone = false) noexcept;
    void submit_udp(const UdpSend& send) noexcept;

    TxSlots slots_;
    UdpBatch batch_;
    TunPort& tun_;
    NetPort& net_;
    Device* device_ = nullptr;
    StreamPort* stream_ = nullptr;
    int udp_family_;
    bool stopping_ = false;
    util::log::RateLimit log_limit_{1, 5};
    DatapathCounters counters_;
};

}  // namespace ringtun::daemon
