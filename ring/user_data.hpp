// Typed io_uring user_data: {kind, generation, slot, buffer id} packed into the SQE's 64 bits.
//
// Never a pointer: a CQE may outlive the object a pointer would name. The generation lets the
// completion handler drop a stale CQE for a slot that was released and reused meanwhile
// (compare with SlotPool::is_current).
//
// Layout, most significant first:
//   bits 63..56  kind        8 bits   which completion handler; the daemon defines the enum
//   bits 55..40  generation 16 bits   SlotPool's generation type; a stale CQE is only
//                                     mistaken for a current one after 65536 reuses of its
//                                     slot while it is still pending
//   bits 39..16  slot       24 bits   up to 16 Mi concurrent slots, far above any ring size
//   bits 15..0   buffer id  16 bits   io_uring's buffer ids are 16 bits (cqe->flags >> 16)
#pragma once

#include <cstdint>

#include "util/slot_pool.hpp"

namespace ringtun::ring {

// Kind reserved for the Ring's own requests (cancellations). Ring::reap consumes their CQEs
// and never passes them to the caller's handler. The daemon's kind enum must stay below it.
// (liburing's LIBURING_UDATA_TIMEOUT, all ones, also decodes to this kind.)
inline constexpr std::uint8_t kInternalKind = 0xff;

inline constexpr std::uint32_t kMaxSlot = util::SlotPool::kMaxIndex;

struct UserData {
    std::uint8_t kind = 0;
    std::uint16_t generation = 0;
    std::uint32_t slot = 0;  // <= kMaxSlot
    std::uint16_t buffer_id = 0;

    friend constexpr bool operator==(const UserData&, const UserData&) = default;
};

namespace detail {
inline constexpr unsigned kKindShift = 56;
inline constexpr unsigned kGenerationShift = 40;
inline constexpr unsigned kSlotShift = 16;
static_assert(kKindShift + 8 == 64);
static_assert(kGenerationShift + 16 == kKindShift);
static_assert(kSlotShift + 24 == kGenerationShift);
}  // namespace detail

// Precondition: d.slot <= kMaxSlot (higher bits are dropped).
constexpr std::uint64_t encode(const UserData& d) noexcept {
    return std::uint64_t{d.kind} << detail::kKindShift |
           std::uint64_t{d.generation} << detail::kGenerationShift |
           std::uint64_t{d.slot & kMaxSlot} << detail::kSlotShift | std::uint64_t{d.buffer_id};
}

constexpr UserData decode(std::uint64_t v) noexcept {
    return UserData{
        .kind = static_cast<std::uint8_t>(v >> detail::kKindShift),
        .generation = static_cast<std::uint16_t>(v >> detail::kGenerationShift),
        .slot = static_cast<std::uint32_t>(v >> detail::kSlotShift) & kMaxSlot,
        .buffer_id = static_cast<std::uint16_t>(v),
    };
}

constexpr std::uint8_t kind_of(std::uint64_t v) noexcept {
    return static_cast<std::uint8_t>(v >> detail::kKindShift);
}

static_assert(encode(UserData{}) == 0);
static_assert(decode(~std::uint64_t{0}) ==
              UserData{.kind = 0xff, .generation = 0xffff, .slot = kMaxSlot, .buffer_id = 0xffff});
static_assert(decode(encode(UserData{.kind = 1, .generation = 2, .slot = 3, .buffer_id = 4})) ==
              UserData{.kind = 1, .generation = 2, .slot = 3, .buffer_id = 4});
static_assert(encode(UserData{.kind = 0x80}) == std::uint64_t{0x80} << 56);

}  // namespace ringtun::ring
