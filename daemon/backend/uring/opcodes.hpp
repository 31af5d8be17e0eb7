// What the io_uring backend asks of the kernel after set-up, in one place: the operations it
// submits (for `ringtun probe` to check one by one, and for the ring's restriction), the
// register operations it makes once the ring runs, and the SQE flags it sets. The loop's ring
// is restricted to exactly these (loop_ring.hpp): keep them in step with the io_uring_prep_*
// calls and registrations in this folder and in ring/ (the cancellation, the buffer rings).
#pragma once

#include <liburing.h>

#include <cstdint>

#include "ring/compat.hpp"

namespace ringtun::daemon {

// When the loop submits an operation: always, or only with part of the configuration.
enum class OpUse : std::uint8_t {
    always,
    tun_multishot,   // [ring] tun_read = "multishot"
    tcp,             // the TCP transport (a listener or a peer dialed over TCP)
    streams,         // the UAPI socket or the metrics endpoint
    tcp_or_streams,  // either of the two above
};

struct UringOpcode {
    std::uint8_t op;   // IORING_OP_*
    const char* name;  // without IORING_OP_
    const char* use;   // what the loop submits it for
    OpUse when = OpUse::always;
};

inline constexpr UringOpcode kUringOpcodes[] = {
    {IORING_OP_READ, "READ",
     "TUN reads as slots, the signal pipe, the socket-file and link watches"},
    {ring::kOpReadMultishot, "READ_MULTISHOT", "TUN reads with tun_read = \"multishot\" (6.7)",
     OpUse::tun_multishot},
    {IORING_OP_WRITE, "WRITE", "TUN writes"},
    {IORING_OP_WRITEV, "WRITEV", "TUN writes of coalesced packets (GRO)"},
    {IORING_OP_RECVMSG, "RECVMSG", "UDP receive, multishot on a buffer ring (6.0)"},
    {IORING_OP_SENDMSG, "SENDMSG", "UDP sends (GSO), TCP transport sends"},
    {IORING_OP_RECV, "RECV", "TCP transport and control/metrics connections",
     OpUse::tcp_or_streams},
    {IORING_OP_SEND, "SEND", "control and metrics replies", OpUse::streams},
    {IORING_OP_ACCEPT, "ACCEPT", "TCP transport, control and metrics listeners (multishot)",
     OpUse::tcp_or_streams},
    {IORING_OP_CONNECT, "CONNECT", "TCP transport dials", OpUse::tcp},
    {IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL", "shutdown and closing connections"},
};

struct UringRegisterOp {
    std::uint8_t op;  // IORING_REGISTER_* / IORING_UNREGISTER_*
    const char* name;
    const char* use;
};

// Register operations made while the loop runs or as it ends. Those of set-up (the file
// table, the TUN and UDP buffer rings, the ring fd) happen before the ring is enabled and need
// no place here.
inline constexpr UringRegisterOp kUringRegisterOps[] = {
    {IORING_REGISTER_FILES_UPDATE, "FILES_UPDATE", "a new listen_port's socket in the UDP slot"},
    {IORING_REGISTER_PBUF_RING, "PBUF_RING", "a TCP connection slot's buffers, at its first use"},
    {IORING_UNREGISTER_PBUF_RING, "UNREGISTER_PBUF_RING", "buffer rings freed at the end"},
    {IORING_UNREGISTER_FILES, "UNREGISTER_FILES", "the file table dropped after the drain"},
    {IORING_UNREGISTER_RING_FDS, "UNREGISTER_RING_FDS", "the ring fd, by io_uring_queue_exit"},
};

// Every SQE flag the loop sets: registered files, provided buffers, and the hard links of a
// chain of TUN slot reads.
inline constexpr std::uint8_t kUringSqeFlags =
    IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT | IOSQE_IO_HARDLINK;

}  // namespace ringtun::daemon
