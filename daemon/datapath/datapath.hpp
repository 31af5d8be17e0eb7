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
// With the TUN's virtio-net header (Offloads), step 1 is on_tun_read() instead: a read may be
// a super-packet, cut into segments each sealed in a slot of its own (super_packets.cpp).
// Messages the device builds itself take the same path from step 3, through MessageSink.
// The other way, on_datagrams() opens the messages of a received datagram (several, when UDP
// GRO coalesced them) in place and hands the packets to TunWrites, which writes them — per
// flow coalesced, with TUN GRO — and gives the receive buffer back when they are written.
//
// Must run on the loop thread. No allocation after construction, no I/O: the ports do it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "daemon/datapath/offloads.hpp"
#include "daemon/datapath/ports.hpp"
#include "daemon/datapath/tun_writes.hpp"
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
    std::uint64_t tun_super_packets = 0;   // TUN reads that were super-packets (split)
    std::uint64_t tun_bad_offload = 0;     // TUN reads whose virtio-net header we cannot use
    std::uint64_t udp_rx_coalesced = 0;    // datagrams UDP GRO had coalesced
    std::uint64_t udp_gso_batches = 0;     // sends of several datagrams (UDP_SEGMENT)
    std::uint64_t udp_gso_refused = 0;     // batches refused, after which GSO went off
};

class Datapath final : public MessageSink {
  public:
    struct Params {
        std::size_t mtu = 1420;
        std::uint32_t tx_slots = 512;  // data sends in flight
        std::uint32_t control_reserve = 144;
        int udp_family = AF_INET6;  // of the UDP socket: IPv4 peers go v4-mapped on AF_INET6
        Offloads offloads;
        std::uint32_t tun_buffers = 16;       // TUN read buffers (the read credit counts them)
        std::uint32_t rx_buffers = 256;       // receive buffers (ids below this)
        std::uint32_t tun_write_slots = 256;  // TUN writes in flight
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
    // The same with the virtio-net header: `read` is what the read returned, header first.
    void on_tun_read(std::span<std::uint8_t> read, std::uint16_t bid, const Now& now) noexcept;
    // network → TUN: the payload of a datagram from `from` in receive buffer `rx`, which the
    // datapath now holds (NetPort::recycle_rx gives it back). `segment` > 0: UDP GRO
    // coalesced messages of that size (the last may be shorter).
    void on_datagrams(std::span<std::uint8_t> payload, std::size_t segment, const Endpoint& from,
                      std::uint16_t rx, const Now& now) noexcept;
    // The TUN write of TunWrites slot `slot` completed with `result`; true if a failure was
    // absorbed (a refused coalesced write, written again packet by packet).
    bool on_tun_written(std::uint32_t slot, std::uint16_t generation, int result) noexcept {
        return tun_writes_.on_written(slot, generation, result);
    }
    // Submits the open UDP batch and the coalesced TUN writes; call before every wait.
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
    bool has_room(TxClass c) const noexcept override { return !stopping_ && slots_.can_acquire(c); }
    void commit(const TxBuffer& b, const Endpoint& to, std::size_t length) noexcept override;
    void cancel(const TxBuffer& b) noexcept override;

    TxSlots& slots() noexcept { return slots_; }
    const TxSlots& slots() const noexcept { return slots_; }
    const DatapathCounters& counters() const noexcept { return counters_; }
    TunWrites& tun_writes() noexcept { return tun_writes_; }
    const TunWrites& tun_writes() const noexcept { return tun_writes_; }
    const Offloads& offloads() const noexcept { return offloads_; }
    // TUN read buffers parked until sends free enough slots (super_packets.cpp).
    std::size_t tun_parked() const noexcept { return parked_.size(); }

  private:
    // Hands the message at `message` (`length` bytes, in slot `tx`) to its transport.
    void dispatch(std::uint32_t tx, const Endpoint& to, std::uint8_t* message,
                  std::size_t length) noexcept;
    void queue_udp(std::uint32_t tx, const Endpoint& to, bool alone = false) noexcept;
    void submit_udp(const UdpSend& send) noexcept;
    // super_packets.cpp
    void send_segment(std::span<const std::uint8_t> packet, const Now& now) noexcept;
    // A data slot for a packet of `packet_len` bytes, or nullopt, counted as the device's
    // tun_oversized drop or as tx_slot_exhausted: every drop under its own reason.
    std::optional<std::uint32_t> take_data_slot(std::size_t packet_len) noexcept;
    void seal_and_dispatch(std::uint32_t tx, std::size_t packet_len, const Now& now) noexcept;
    bool read_credit_ok(std::uint32_t held) const noexcept;
    void recycle_tun(std::uint16_t bid) noexcept;
    void unpark_tun() noexcept;

    // A super-packet of more segments than this is refused (counted as tun_bad_offload).
    static constexpr std::size_t max_split_segments = 256;

    std::size_t mtu_;
    Offloads offloads_;
    TxSlots slots_;
    UdpBatch batch_;
    TunWrites tun_writes_;
    std::uint32_t tun_buffers_;
    std::uint32_t read_segments_;        // segments one TUN read may need, for the credit
    std::vector<std::uint16_t> parked_;  // TUN buffers held back (capacity: all of them)
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
