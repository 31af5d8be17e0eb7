// How many packet buffers, transmit slots and TUN writes a backend gives the datapath, from
// the [ring] tunables and the offloads the kernel granted: the same for every backend, so the
// io_uring and the readiness loops move the same amount of data per turn.
#pragma once

#include <cstdint>

#include "daemon/backend/io_backend.hpp"

namespace ringtun::daemon {

// The most buffers of one kind (the io_uring buffer ring's limit, kept for both backends).
inline constexpr unsigned max_buffers = 32768;
// Send slots beyond tx_slots that only control messages may take (handshakes, keepalives,
// cookie replies), so a data burst cannot starve them.
inline constexpr unsigned control_tx_reserve = 144;
// TUN read buffers with the virtio-net header (64 KiB each): at most this many.
inline constexpr unsigned tun_super_buffers = 16;
// TUN writes in flight once a receive buffer may hold many packets (UDP GRO) or a write many
// receive buffers (TUN GRO).
inline constexpr unsigned tun_batch_write_slots = 1024;

unsigned tun_buffer_count(const LoopParams& p) noexcept;
// What one TUN read may fill: a packet of the MTU, or a super-packet and its header.
std::uint32_t tun_buffer_size(const LoopParams& p) noexcept;
// UDP receive buffers: [ring] udp_rx_slots (a power of two after sizing), or by offloads.
unsigned udp_buffer_count(const LoopParams& p) noexcept;
// The payload a UDP receive buffer must hold: a message, or what UDP GRO coalesces.
std::uint32_t udp_payload_size(const LoopParams& p) noexcept;
// TUN writes in flight. Without either GRO each holds a receive buffer of its own, so there are
// never more than receive buffers (and their completions are counted as the buffers').
unsigned tun_write_count(const LoopParams& p) noexcept;
// Whether TUN writes need room of their own (tun_write_count's first case).
bool tun_writes_batched(const LoopParams& p) noexcept;
unsigned tx_slot_count(const LoopParams& p) noexcept;

}  // namespace ringtun::daemon
