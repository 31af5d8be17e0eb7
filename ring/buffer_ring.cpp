// BufferRing: mapping, registration and the ownership ledger of provided buffers; see
// buffer_ring.hpp. liburing 2.3 has no io_uring_setup_buf_ring (2.4), so the ring is set up by
// hand: page-aligned mapping, io_uring_buf_ring_init, io_uring_register_buf_ring.
#include "ring/buffer_ring.hpp"

#include <unistd.h>

#include <bit>
#include <string>

#include "ring/compat.hpp"
#include "util/log.hpp"

namespace ringtun::ring {

namespace {

constexpr std::size_t kSlotAlign = 64;  // a cache line: slots never share one

constexpr std::size_t round_up(std::size_t n, std::size_t to) noexcept {
    return (n + to - 1) / to * to;
}

}  // namespace

util::Result<std::unique_ptr<BufferRing>> BufferRing::create(Ring& ring,
                                                             const BufferRingParams& params) {
    if (params.count == 0 || params.count > kMaxCount || !std::has_single_bit(params.count)) {
        return util::fail(util::make_error("BufferRing", "count must be a power of two <= 32768"));
    }
    if (params.buffer_size == 0) {
        return util::fail(util::make_error("BufferRing", "buffer_size must be > 0"));
    }
    std::unique_ptr<BufferRing> br(new BufferRing(ring, params));
    if (auto r = br->init(); !r) return util::fail(r.error());
    return br;
}

BufferRing::BufferRing(Ring& ring, const BufferRingParams& params) noexcept
    : ring_(ring),
      params_(params),
      stride_(round_up(std::size_t{params.headroom} + params.buffer_size + params.tailroom,
                       kSlotAlign)) {}

util::Result<void> BufferRing::init() {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    auto desc = Mapping::anonymous(round_up(params_.count * sizeof(io_uring_buf), page), true);
    if (!desc) return util::fail(desc.error());
    descriptors_ = std::move(*desc);
    auto bufs = Mapping::anonymous(round_up(params_.count * stride_, page), true);
    if (!bufs) return util::fail(bufs.error());
    buffers_ = std::move(*bufs);
    lent_flags_.assign(params_.count, 0);

    br_ = reinterpret_cast<io_uring_buf_ring*>(descriptors_.data());
    io_uring_buf_ring_init(br_);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uintptr_t>(br_);
    reg.ring_entries = params_.count;
    reg.bgid = params_.group_id;
    if (const int r = io_uring_register_buf_ring(&ring_.native(), &reg, 0); r != 0) {
        return util::fail(util::sys_error("io_uring_register_buf_ring", r,
                                          "group " + std::to_string(params_.group_id)));
    }
    registered_ = true;
    ++ring_.buffer_rings_;
    for (std::uint32_t bid = 0; bid < params_.count; ++bid) {
        lent_flags_[bid] = 1;
        ++lent_;
        add(static_cast<std::uint16_t>(bid));
    }
    commit();
    return {};
}

BufferRing::~BufferRing() {
    if (!registered_) return;
    if (const int r = io_uring_unregister_buf_ring(&ring_.native(), params_.group_id); r != 0) {
        RT_LOG_WARN("io_uring_unregister_buf_ring(group %u): %d", params_.group_id, r);
    }
    --ring_.buffer_rings_;
}

std::optional<std::uint16_t> BufferRing::take(const io_uring_cqe& cqe) noexcept {
    if (!(cqe.flags & IORING_CQE_F_BUFFER)) return std::nullopt;
    const std::uint16_t bid = cqe_buffer_id(cqe.flags);
    if (bid >= params_.count || lent_flags_[bid] == 0) return std::nullopt;
    lent_flags_[bid] = 0;
    --lent_;
    return bid;
}

bool BufferRing::recycle(std::uint16_t bid) noexcept {
    if (bid >= params_.count || lent_flags_[bid] != 0) return false;
    lent_flags_[bid] = 1;
    ++lent_;
    add(bid);
    return true;
}

// Each bid is queued at most once, so pending_ < count and never overwrites an entry the
// kernel has not consumed yet.
void BufferRing::add(std::uint16_t bid) noexcept {
    io_uring_buf_ring_add(br_, slot(bid) + params_.headroom, params_.buffer_size, bid,
                          io_uring_buf_ring_mask(params_.count), static_cast<int>(pending_));
    ++pending_;
}

void BufferRing::commit() noexcept {
    if (pending_ == 0) return;
    io_uring_buf_ring_advance(br_, static_cast<int>(pending_));
    pending_ = 0;
}

}  // namespace ringtun::ring
