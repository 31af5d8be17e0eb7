// BufferRing: a provided-buffer ring for one buffer group. The kernel picks a buffer from it
// when a read/recv with IOSQE_BUFFER_SELECT has data, and names the buffer id in the CQE.
//
// Ownership of each buffer moves kernel -> application when a CQE carries it (take()) and
// back when the application is done with it (recycle(), then commit() once per batch so the
// kernel sees all returned buffers with one store). lent() counts buffers owned by the kernel;
// when the ring runs dry, multishot requests end with -ENOBUFS and must be re-armed after
// refilling.
//
// Each buffer slot is [headroom | buffer_size bytes the kernel fills | tailroom], so a packet
// can be encrypted in place with room for our header before it and the tag after it.
//
// Lifetime: the Ring must outlive the BufferRing, and no request may still use the group when
// it is destroyed (drain the Ring first): destruction unregisters the group and unmaps the
// buffers. Non-movable; created on the heap. Loop thread only.
#pragma once

#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "ring/mapping.hpp"
#include "ring/ring.hpp"
#include "util/result.hpp"

namespace ringtun::ring {

struct BufferRingParams {
    std::uint16_t group_id = 0;
    std::uint32_t count = 256;         // power of two, 1 .. 32768
    std::uint32_t buffer_size = 2048;  // bytes the kernel may fill per buffer
    std::uint32_t headroom = 0;        // application-only bytes before each buffer
    std::uint32_t tailroom = 0;        // application-only bytes after each buffer
};

class BufferRing {
  public:
    static constexpr std::uint32_t kMaxCount = 32768;

    // Allocates and registers; all buffers start lent to the kernel.
    static util::Result<std::unique_ptr<BufferRing>> create(Ring& ring,
                                                            const BufferRingParams& params);

    BufferRing(const BufferRing&) = delete;
    BufferRing& operator=(const BufferRing&) = delete;
    BufferRing(BufferRing&&) = delete;
    BufferRing& operator=(BufferRing&&) = delete;
    ~BufferRing();

    std::uint16_t group_id() const noexcept { return params_.group_id; }
    std::uint32_t count() const noexcept { return params_.count; }
    std::uint32_t buffer_size() const noexcept { return params_.buffer_size; }

    // The kernel-filled region of buffer `bid`. Precondition: bid < count().
    std::span<std::byte> buffer(std::uint16_t bid) const noexcept {
        return {slot(bid) + params_.headroom, params_.buffer_size};
    }
    // The whole slot of `bid`: headroom, buffer, tailroom.
    std::span<std::byte> frame(std::uint16_t bid) const noexcept { return {slot(bid), stride_}; }

    // Claims the buffer a CQE of this group carries (IORING_CQE_F_BUFFER): it now belongs to
    // the application until recycle(). nullopt if the CQE carries none, or names a buffer
    // that is not lent (a CQE of another group: a routing bug).
    [[nodiscard]] std::optional<std::uint16_t> take(const io_uring_cqe& cqe) noexcept;

    // Queues `bid` to go back to the kernel at the next commit(). False (no effect) if `bid`
    // is out of range or not held by the application (e.g. recycled twice).
    [[nodiscard]] bool recycle(std::uint16_t bid) noexcept;

    // Publishes every buffer recycled since the last commit, with one release store.
    void commit() noexcept;

    // Buffers owned by the kernel, including recycled ones not yet committed.
    std::uint32_t lent() const noexcept { return lent_; }
    // Buffers the application holds (taken, not recycled).
    std::uint32_t held() const noexcept { return params_.count - lent_; }
    // Recycled but not yet visible to the kernel.
    std::uint32_t pending() const noexcept { return pending_; }

  private:
    BufferRing(Ring& ring, const BufferRingParams& params) noexcept;
    util::Result<void> init();
    std::byte* slot(std::uint16_t bid) const noexcept {
        return buffers_.data() + std::size_t{bid} * stride_;
    }
    void add(std::uint16_t bid) noexcept;

    Ring& ring_;
    BufferRingParams params_;
    std::size_t stride_ = 0;
    Mapping descriptors_;  // the io_uring_buf_ring the kernel reads
    Mapping buffers_;      // all packet buffers, count * stride_
    io_uring_buf_ring* br_ = nullptr;
    bool registered_ = false;
    std::vector<std::uint8_t> lent_flags_;  // 1 = kernel owns bid
    std::uint32_t lent_ = 0;
    std::uint32_t pending_ = 0;
};

}  // namespace ringtun::ring
