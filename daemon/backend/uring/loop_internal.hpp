// Definitions shared by loop.cpp and loop_io.cpp only.
#pragma once

#include <liburing.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>

#include "crypto/messages.hpp"
#include "daemon/backend/buffer_counts.hpp"
#include "daemon/backend/uring/loop.hpp"
#include "daemon/datapath/layout.hpp"
#include "daemon/datapath/udp_cmsg.hpp"
#include "ring/user_data.hpp"
#include "tun/virtio_net_hdr.hpp"
#include "util/log.hpp"

namespace ringtun::daemon {

namespace loop_detail {

enum class Kind : std::uint8_t {
    tun_read = 1,
    udp_recv,
    udp_send,
    tun_write,       // a TunWrites slot: packets opened in UDP receive buffers
    tun_write_copy,  // from a copy buffer (packets that came over TCP)
    signal,
    tcp_accept,
    tcp_connect,
    tcp_recv,
    tcp_send,
    stream_accept,  // StreamServer (the UAPI socket, the metrics endpoint): the
    stream_recv,    // server's index is the generation field
    stream_send,
    control_watch,  // the UAPI socket file's watch
    link_watch,     // RunHooks::link_watch: news of the TUN's link
};

inline constexpr std::uint16_t tun_group = 1;
inline constexpr std::uint16_t udp_group = 2;
inline constexpr unsigned file_tun = 0, file_udp = 1, file_signal = 2;
// The Loop's stream servers, by the index their requests carry.
inline constexpr std::uint16_t server_control = 0, server_metrics = 1;
inline constexpr Nanos max_wait = crypto::seconds_ns(1);
// The completion queue has this many entries per submission queue entry: completions can
// outnumber submissions by far (multishot reads and receives, and what the offloads batch).
inline constexpr unsigned cq_factor = 8;
// Packets from TCP connections being written to the TUN at once: a TUN write completes at
// once, so a few dozen cover a burst; each counts against the completion queue.
inline constexpr unsigned tcp_copy_buffers = 64;

inline constexpr std::uint32_t tcp_buffer_size = 8192;
// The kernel lays out each UDP receive buffer as [io_uring_recvmsg_out | name (msg_namelen) |
// control | payload]: the name room is rounded up so the control messages are aligned for
// cmsghdr (28 bytes of sockaddr_in6 would misalign them).
inline constexpr socklen_t udp_name_room =
    (sizeof(sockaddr_in6) + alignof(cmsghdr) - 1) / alignof(cmsghdr) * alignof(cmsghdr);
static_assert(sizeof(io_uring_recvmsg_out) % alignof(cmsghdr) == 0);
inline std::uint64_t tag(Kind k, std::uint16_t generation = 0, std::uint32_t slot = 0,
                         std::uint16_t bid = 0) noexcept {
    return ring::encode({.kind = static_cast<std::uint8_t>(k),
                         .generation = generation,
                         .slot = slot,
                         .buffer_id = bid});
}

inline std::span<std::uint8_t> as_bytes(std::span<std::byte> s) noexcept {
    return {reinterpret_cast<std::uint8_t*>(s.data()), s.size()};
}

}  // namespace loop_detail

std::size_t udp_buffer_size(const LoopParams& p) noexcept;

}  // namespace ringtun::daemon
