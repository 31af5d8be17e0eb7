#include "daemon/transport/tcp_connections.hpp"

#include <algorithm>

namespace ringtun::daemon {

namespace {

crypto::Nanos elapsed(crypto::Nanos since, crypto::Nanos now) noexcept {
    return now > since ? now - since : 0;
}

}  // namespace

const char* to_string(Expiry e) noexcept {
    switch (e) {
        case Expiry::none:
            return "none";
        case Expiry::stalled:
            return "partial frame stalled";
        case Expiry::unauthenticated_idle:
            return "unauthenticated and idle";
    }
    return "unknown";
}

ConnectionSlots::ConnectionSlots(const ConnectionParams& params)
    : pool_(std::min(params.capacity, kMaxSlot + 1)) {
    const std::size_t max_payload = std::clamp<std::size_t>(params.max_payload, 1, max_frame_len);
    // Not zeroed: pages of buffers that are never used are never touched.
    frame_storage_ = std::make_unique_for_overwrite<std::uint8_t[]>(capacity() * max_payload);
    conns_.reserve(capacity());
    for (std::uint32_t slot = 0; slot < capacity(); ++slot) {
        const std::span<std::uint8_t> storage(frame_storage_.get() + slot * max_payload,
                                              max_payload);
        conns_.push_back(
            Connection{FrameAssembler(storage), SendQueue(params.send_queue_capacity)});
    }
}

Acquire ConnectionSlots::acquire(crypto::Nanos now, Direction direction) noexcept {
    const std::optional<util::SlotPool::Slot> s = pool_.acquire();
    if (!s) {
        const std::optional<std::uint32_t> victim = eviction_victim();
        if (!victim) return Acquire{AcquireStatus::refused};
        return Acquire{AcquireStatus::evict_first, *victim, handle(*victim)};
    }
    Connection& c = conns_[s->index];
    c.assembler.reset();
    c.opened_at = now;
    c.last_activity = now;
    c.partial_since = kNoPartial;
    c.state = direction == Direction::inbound ? ConnectionState::open : ConnectionState::connecting;
    c.direction = direction;
    c.authenticated = false;
    c.generation = s->generation;
    return Acquire{AcquireStatus::acquired, s->index,
                   encode_connection({.slot = s->index, .generation = s->generation})};
}

std::optional<std::uint32_t> ConnectionSlots::eviction_victim() const noexcept {
    std::optional<std::uint32_t> victim;
    for (std::uint32_t slot = 0; slot < capacity(); ++slot) {
        const Connection& c = conns_[slot];
        if (c.state == ConnectionState::free || c.authenticated ||
            c.direction != Direction::inbound)
            continue;
        if (!victim || c.opened_at < conns_[*victim].opened_at) victim = slot;
    }
    return victim;
}

void ConnectionSlots::mark_open(std::uint32_t slot, crypto::Nanos now) noexcept {
    Connection& c = conns_[slot];
    if (c.state != ConnectionState::connecting) return;
    c.state = ConnectionState::open;
    c.last_activity = now;
}

void ConnectionSlots::note_received(std::uint32_t slot, crypto::Nanos now,
                                    bool frame_completed) noexcept {
    Connection& c = conns_[slot];
    c.last_activity = now;
    if (!c.assembler.mid_frame())
        c.partial_since = kNoPartial;
    else if (frame_completed || c.partial_since == kNoPartial)
        c.partial_since = now;  // the pending frame began in this feed
}

Expiry ConnectionSlots::expiry(std::uint32_t slot, crypto::Nanos now,
                               const ExpiryParams& p) const noexcept {
    const Connection& c = conns_[slot];
    if (c.state == ConnectionState::free) return Expiry::none;
    if (c.partial_since != kNoPartial && elapsed(c.partial_since, now) >= p.stall_timeout)
        return Expiry::stalled;
    if (!c.authenticated && elapsed(c.last_activity, now) >= p.unauthenticated_idle_timeout)
        return Expiry::unauthenticated_idle;
    return Expiry::none;
}

std::optional<std::uint32_t> ConnectionSlots::slot_of(ConnectionHandle h) const noexcept {
    const std::optional<ConnectionRef> r = decode_connection(h);
    if (!r || !pool_.is_current(r->slot, r->generation)) return std::nullopt;
    return r->slot;
}

ConnectionHandle ConnectionSlots::handle(std::uint32_t slot) const noexcept {
    if (conns_[slot].state == ConnectionState::free) return no_connection;
    return encode_connection({.slot = slot, .generation = conns_[slot].generation});
}

bool ConnectionSlots::release_slot(std::uint32_t slot) noexcept {
    if (!pool_.release(slot)) return false;
    Connection& c = conns_[slot];
    c.assembler.reset();
    c.partial_since = kNoPartial;
    c.state = ConnectionState::free;
    c.authenticated = false;
    return true;
}

}  // namespace ringtun::daemon
