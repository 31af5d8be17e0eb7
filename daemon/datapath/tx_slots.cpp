#include "daemon/datapath/tx_slots.hpp"

namespace ringtun::daemon {

TxSlots::TxSlots(const Params& p)
    : pool_(p.data + p.control_reserve),
      slots_(p.data + p.control_reserve),
      frame_size_(layout::frame_size(p.mtu)),
      message_capacity_(layout::message_capacity(p.mtu)),
      reserve_(p.control_reserve) {
    frames_ = std::make_unique<std::uint8_t[]>(frame_size_ * slots_.size());
}

std::optional<std::uint32_t> TxSlots::acquire(TxClass c) noexcept {
    if (c == TxClass::data && data_in_use_ >= data_limit()) return std::nullopt;
    const auto s = pool_.acquire();
    if (!s) return std::nullopt;
    TxSlot& slot = slots_[s->index];
    slot.generation = s->generation;
    slot.cls = c;
    slot.tun_bid = -1;
    slot.next = no_slot;
    slot.retries = 0;
    if (c == TxClass::data) ++data_in_use_;
    return s->index;
}

std::int32_t TxSlots::release(std::uint32_t index) noexcept {
    if (!pool_.release(index)) return -1;
    TxSlot& slot = slots_[index];
    if (slot.cls == TxClass::data) --data_in_use_;
    const std::int32_t bid = slot.tun_bid;
    slot.tun_bid = -1;
    return bid;
}

std::span<std::uint8_t> TxSlots::own_message(std::uint32_t index) noexcept {
    return {frames_.get() + index * frame_size_ + layout::prefix, message_capacity_};
}

}  // namespace ringtun::daemon
