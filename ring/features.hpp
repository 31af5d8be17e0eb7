// Runtime probe of what the running kernel's io_uring offers, and the I/O defaults that follow
// from it. liburing 2.3 is older than most kernels we run on, so headers prove nothing: every
// feature the daemon uses beyond 5.19 is checked here, by opcode probe or by trying it.
#pragma once

#include <bitset>
#include <compare>
#include <cstdint>
#include <optional>
#include <string_view>

#include "util/result.hpp"

namespace ringtun::ring {

struct KernelVersion {
    unsigned major = 0;
    unsigned minor = 0;
    unsigned patch = 0;

    friend constexpr auto operator<=>(const KernelVersion&, const KernelVersion&) = default;
};

// Parses a uname release such as "6.18.44-fc-v595" or "6.1.0-18-amd64"; nullopt if it does not
// start with "<major>.<minor>".
std::optional<KernelVersion> parse_kernel_release(std::string_view release) noexcept;

// The running kernel (uname(2)).
util::Result<KernelVersion> running_kernel();

struct Features {
    KernelVersion kernel;
    std::bitset<256> opcodes;                  // IORING_OP_* the kernel reports as supported
    std::uint32_t feature_bits = 0;            // IORING_FEAT_* from io_uring_params
    bool read_multishot = false;               // IORING_OP_READ_MULTISHOT (6.7)
    bool recvmsg_multishot = false;            // IORING_RECV_MULTISHOT on recvmsg (6.0), tried live
    bool buffer_rings = false;                 // IORING_REGISTER_PBUF_RING (5.19), tried live
    bool single_issuer_defer_taskrun = false;  // setup accepted (6.1)
    bool coop_taskrun = false;                 // setup accepted (5.19)
    bool send_zc = false;                      // IORING_OP_SEND_ZC / SENDMSG_ZC (6.0/6.1)

    bool supports(std::uint8_t opcode) const noexcept { return opcodes.test(opcode); }
    bool has_feature(std::uint32_t feat) const noexcept { return (feature_bits & feat) == feat; }
};

// Probes io_uring with short-lived rings. Fails (with the errno) when io_uring itself is
// unusable: ENOSYS (not built in), EPERM (kernel.io_uring_disabled or a seccomp profile) —
// then the daemon must use its readiness fallback. Cost: a few ring setups; call once at start.
util::Result<Features> probe_features();

// One info-level line per probe result.
void log_features(const Features& f);

// Whether the TUN fd should stay in blocking mode for io_uring reads on `kernel`.
//
// False (non-blocking) from 5.7 on. Reasoning:
//  - >= 6.4: TUN sets FMODE_NOWAIT, so io_uring first tries a non-blocking read and arms its
//    internal poll on -EAGAIN in either mode. The mode only decides what happens after 128
//    empty wake-ups of a herd of pending reads: a non-blocking fd completes with -EAGAIN (we
//    resubmit), a blocking fd is punted to an io-wq worker thread (slow, one thread per read).
//  - 5.7 .. 6.3: TUN lacks FMODE_NOWAIT. io_uring then treats O_NONBLOCK as the nowait
//    promise ("any ->read should understand O_NONBLOCK"), so a non-blocking fd still gets the
//    poll-driven path, while every read on a *blocking* fd goes to a worker thread — slow, and
//    on 6.1 with SQPOLL able to hang the SQ thread unkillably. Non-blocking is the only
//    sane choice there.
//  - < 5.7 (no IORING_FEAT_FAST_POLL): there is no internal poll; a read on a non-blocking fd
//    returns -EAGAIN to us at once and we would spin. A blocking fd at least sleeps in a
//    worker. The daemon needs 5.19+ (buffer rings) anyway; this branch documents the edge.
bool tun_blocking_default(const KernelVersion& kernel) noexcept;
// The reasoning above for `kernel`, in one line (for `ringtun probe`).
const char* tun_blocking_reason(const KernelVersion& kernel) noexcept;

// Recommended I/O shape for the daemon's loop, derived from the probe; each value can be
// overridden by configuration.
struct IoDefaults {
    bool tun_nonblocking = true;
    // One READ_MULTISHOT on the TUN fd (a single poll waiter, no thundering herd) when the
    // kernel has it; otherwise single-shot reads from a slot pool with this many in flight:
    // 8 — liburing's author advises 2-4, one server measured 8 best; more reads on one TUN fd
    // only add wake-ups that find nothing.
    bool tun_read_multishot = false;
    unsigned tun_reads_in_flight = 8;
    // One multishot recvmsg per UDP socket when available, else this many single recvmsgs.
    bool udp_recv_multishot = false;
    unsigned udp_recvs_in_flight = 16;
    // Ring setup mode the Ring will try first.
    bool defer_taskrun = false;
};

IoDefaults recommended_defaults(const Features& f) noexcept;

}  // namespace ringtun::ring
