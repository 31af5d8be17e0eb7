// TunWrites: packets opened from received datagrams on their way to the TUN, and the receive
// buffers they keep.
//
// A packet is opened in place in its datagram's receive buffer, so that buffer stays out of
// the kernel's ring until every write that points into it has completed: a reference count per
// buffer (hold/release), and NetPort::recycle_rx when it drops to zero.
//
// Without GRO every packet is one write (after a zeroed virtio-net header when the TUN has
// one). With GRO (Offloads::tun_gro) the packets of one loop turn are offered to a GroTable as
// they are opened and written at flush(), one writev per flow: [virtio-net header][head
// packet][each later packet's payload] — nothing is copied. A coalesced write the kernel
// refuses with EINVAL (kernels with broken GSO writes exist, offload-notes §2) is written again
// packet by packet from the headers still in place, and GRO stays off from then on: what the
// table holds at that moment is written packet by packet too, after it.
//
// Allocation happens in the constructor only. Not thread-safe: one per loop.
#pragma once

#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "daemon/datapath/ports.hpp"
#include "tun/gro.hpp"
#include "tun/virtio_net_hdr.hpp"
#include "util/log.hpp"
#include "util/slot_pool.hpp"

namespace ringtun::daemon {

// At most this many packets in one coalesced TUN write (UDP_MAX_SEGMENTS on older kernels).
inline constexpr std::size_t max_gro_segments = 64;

struct TunWriteCounters {
    std::uint64_t packets = 0, bytes = 0;     // written
    std::uint64_t writes = 0, coalesced = 0;  // writes, and those that carried several packets
    std::uint64_t no_write_slot = 0;          // packets dropped: every write slot busy
    std::uint64_t errors = 0;                 // packets a failed write lost
    std::uint64_t gro_refused = 0;            // coalesced writes the kernel refused
};

class TunWrites {
  public:
    struct Params {
        std::uint32_t slots = 256;       // writes in flight
        std::uint32_t rx_buffers = 256;  // receive buffers (ids 0 .. rx_buffers - 1)
        bool vnet_hdr = false;
        bool gro = false;
        bool gro_udp = false;     // UDP flows too (the TUN took USO)
        bool gro_verify = true;   // checksums checked before merging (Offloads::gro_verify)
    };

    TunWrites(const Params& p, TunPort& tun, NetPort& net);
    TunWrites(const TunWrites&) = delete;
    TunWrites& operator=(const TunWrites&) = delete;

    // Receive buffer `rx` is the application's: one reference until release().
    void hold(std::uint16_t rx) noexcept;
    // Drops a reference; at zero the buffer goes back to the kernel.
    void release(std::uint16_t rx) noexcept;
    // Writes `packet` (inside receive buffer `rx`, which must be held), now or at flush().
    void add(std::span<std::uint8_t> packet, std::uint16_t rx) noexcept;
    // Writes what GRO collected this turn. Call before the backend waits.
    void flush() noexcept;
    // The write in `slot` (`generation`) completed with `result` (bytes, or -errno). True if
    // a failure was absorbed: a coalesced write the kernel refused, written again one by one.
    bool on_written(std::uint32_t slot, std::uint16_t generation, int result) noexcept;

    // The pieces of write `slot`, for the backend's writev: valid until its completion.
    std::span<const iovec> pieces(std::uint32_t slot) const noexcept;

    bool gro() const noexcept { return gro_on_; }
    std::uint32_t in_flight() const noexcept { return pool_.in_use(); }
    const TunWriteCounters& counters() const noexcept { return counters_; }

  private:
    struct Write {
        std::array<iovec, 1 + max_gro_segments> iov{};       // [virtio-net header] pieces
        std::array<std::uint16_t, max_gro_segments> rx{};    // the buffer of each piece
        std::array<std::uint8_t, tun::vnet_hdr_len> vnet{};  // this write's header
        std::uint16_t pieces = 0;
        std::uint16_t generation = 0;
        bool coalesced = false;
    };

    // A write of the single packet `packet`; false (packet dropped, counted) if none is free.
    bool write_one(std::span<const std::uint8_t> packet, std::uint16_t rx) noexcept;
    void write_item(const tun::GroTable::Item& item) noexcept;
    void submit(std::uint32_t slot) noexcept;
    void finish(std::uint32_t slot) noexcept;
    void rewrite_one_by_one(std::uint32_t slot) noexcept;
    // GRO was just turned off: writes what the table holds packet by packet, and empties it.
    void write_held_apart() noexcept;
    // Writes the packets of a coalesced item one by one, as they arrived: `h` is the item's
    // header as GroTable::finish() set it, pieces[0] the head packet, each later piece a
    // packet's payload with its headers still in place before it; rx(j) the buffer of piece j.
    template <typename Rx>
    void write_apart(const tun::VirtioNetHdr& h, std::span<const iovec> pieces, Rx&& rx) noexcept;
    // Drops the table's references (its items were written or lost) and empties it.
    void clear_table() noexcept;

    TunPort& tun_;
    NetPort& net_;
    util::SlotPool pool_;
    std::vector<Write> writes_;
    std::vector<std::uint16_t> refs_;  // per receive buffer
    std::unique_ptr<tun::GroTable> gro_;
    bool vnet_hdr_;
    bool gro_on_;
    util::log::RateLimit log_limit_{1, 5};
    TunWriteCounters counters_;
};

}  // namespace ringtun::daemon
