// What liburing 2.3 (Debian bookworm) lacks but newer kernels offer: constants and SQE preps
// written by hand from the kernel UAPI. Every item here needs a runtime probe (see
// features.hpp) before use; an older kernel answers with -EINVAL or ignores unknown bits.
#pragma once

#include <liburing.h>

#include <cstdint>

// Flag constants absent from 2.3's <liburing/io_uring.h>. Guarded so that a newer liburing,
// which defines them itself, keeps its own definitions.
#ifndef IORING_SETUP_NO_SQARRAY
#define IORING_SETUP_NO_SQARRAY (1U << 16)  // 6.6
#endif
#ifndef IORING_FEAT_REG_REG_RING
#define IORING_FEAT_REG_REG_RING (1U << 13)  // 6.3
#endif
#ifndef IORING_FEAT_RECVSEND_BUNDLE
#define IORING_FEAT_RECVSEND_BUNDLE (1U << 14)  // 6.10
#endif
#ifndef IORING_FEAT_MIN_TIMEOUT
#define IORING_FEAT_MIN_TIMEOUT (1U << 15)  // 6.12
#endif
#ifndef IORING_RECVSEND_BUNDLE
#define IORING_RECVSEND_BUNDLE (1U << 4)  // 6.10, TCP only; in sqe->ioprio
#endif
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)  // 6.2; in sqe->ioprio of send_zc
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)  // cqe->res of a NOTIF CQE: data was copied
#endif
#ifndef IORING_TIMEOUT_MULTISHOT
#define IORING_TIMEOUT_MULTISHOT (1U << 6)  // 6.4
#endif
#ifndef IORING_ASYNC_CANCEL_USERDATA
#define IORING_ASYNC_CANCEL_USERDATA (1U << 4)  // 6.6
#endif
#ifndef IORING_ASYNC_CANCEL_OP
#define IORING_ASYNC_CANCEL_OP (1U << 5)  // 6.6
#endif
#ifndef IORING_CQE_F_BUF_MORE
// 6.12: buffer only partly consumed (IOU_PBUF_RING_INC). We never set up incremental rings
// (buggy with UDP recvmsg on 6.18), so this flag must never appear; it is named for asserts.
#define IORING_CQE_F_BUF_MORE (1U << 4)
#endif

namespace ringtun::ring {

// IORING_OP_READ_MULTISHOT (kernel 6.7, liburing 2.6). An enumerator upstream, so it cannot
// be detected with #ifdef; our own constant cannot collide with it.
inline constexpr std::uint8_t kOpReadMultishot = 49;

// Kernel 6.0+: IORING_OP_SEND_ZC / SENDMSG_ZC are enumerators in 2.3 already; named here so
// the probe table in features.cpp reads uniformly.
inline constexpr std::uint8_t kOpSendZc = IORING_OP_SEND_ZC;
inline constexpr std::uint8_t kOpSendmsgZc = IORING_OP_SENDMSG_ZC;

// Prepares a multishot read: one SQE, one CQE per chunk of data, each in a buffer the kernel
// picks from `buf_group` (the buffer's size bounds the read; len 0 means "buffer size").
// `fd` must be pollable (pipe, TUN, socket); a regular file completes with -EBADFD.
// For non-seekable files the offset must be 0 or -1. The request ends (no IORING_CQE_F_MORE)
// on error, EOF (res 0) or -ENOBUFS when the group runs dry: re-arm after refilling.
inline void prep_read_multishot(io_uring_sqe* sqe, int fd, std::uint16_t buf_group) noexcept {
    io_uring_prep_rw(IORING_OP_READ, sqe, fd, nullptr, 0, 0);
    sqe->opcode = kOpReadMultishot;
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = buf_group;
}

// Makes `sqe` address registered file `index` instead of a raw fd. Call after the prep
// helper (preps reset sqe->flags).
inline void use_fixed_file(io_uring_sqe* sqe, unsigned index) noexcept {
    sqe->fd = static_cast<int>(index);
    sqe->flags |= IOSQE_FIXED_FILE;
}

// The provided-buffer id a CQE carries, valid only if (cqe.flags & IORING_CQE_F_BUFFER).
constexpr std::uint16_t cqe_buffer_id(std::uint32_t cqe_flags) noexcept {
    return static_cast<std::uint16_t>(cqe_flags >> IORING_CQE_BUFFER_SHIFT);
}

}  // namespace ringtun::ring
