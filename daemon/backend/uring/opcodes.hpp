// The io_uring operations this backend submits, for `ringtun probe` to check one by one. Keep
// it in step with the io_uring_prep_* calls in this folder and in ring/ (the cancellation).
#pragma once

#include <liburing.h>

#include <cstdint>

#include "ring/compat.hpp"

namespace ringtun::daemon {

struct UringOpcode {
    std::uint8_t op;   // IORING_OP_*
    const char* name;  // without IORING_OP_
    const char* use;   // what the loop submits it for
};

inline constexpr UringOpcode kUringOpcodes[] = {
    {IORING_OP_READ, "READ",
     "TUN reads as slots, the signal pipe, the socket-file and link watches"},
    {ring::kOpReadMultishot, "READ_MULTISHOT", "TUN reads with tun_read = \"multishot\" (6.7)"},
    {IORING_OP_WRITE, "WRITE", "TUN writes"},
    {IORING_OP_WRITEV, "WRITEV", "TUN writes of coalesced packets (GRO)"},
    {IORING_OP_RECVMSG, "RECVMSG", "UDP receive, multishot on a buffer ring (6.0)"},
    {IORING_OP_SENDMSG, "SENDMSG", "UDP sends (GSO), TCP transport sends"},
    {IORING_OP_RECV, "RECV", "TCP transport and control/metrics connections"},
    {IORING_OP_SEND, "SEND", "control and metrics replies"},
    {IORING_OP_ACCEPT, "ACCEPT", "TCP transport, control and metrics listeners (multishot)"},
    {IORING_OP_CONNECT, "CONNECT", "TCP transport dials"},
    {IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL", "shutdown and closing connections"},
};

}  // namespace ringtun::daemon
