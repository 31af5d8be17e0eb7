#include "daemon/transport/tcp_connections.hpp"

#include <algorithm>
#include <functional>
#include <string_view>

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

SourceKey source_key_v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept {
    return SourceKey{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
}

SourceKey source_key_v6(const std::array<std::uint8_t, 16>& address) noexcept {
    SourceKey k{};
    std::copy_n(address.begin(), 8, k.begin());
    return k;
}

ConnectionSlots::ConnectionSlots(const ConnectionParams& params)
    : pool_(std::min(params.capacity, kMaxSlot + 1)),
      per_source_(params.max_unauthenticated_per_source != 0
                      ? params.max_unauthenticated_per_source
                      : std::max<std::uint32_t>(2, params.capacity / 8)),
      tally_(2 * static_cast<std::size_t>(capacity())) {
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

Acquire ConnectionSlots::acquire(crypto::Nanos now, Direction direction,
                                 const SourceKey& source) noexcept {
    std::optional<std::uint32_t> victim;
    if (direction == Direction::inbound && unauthenticated_from(source) >= per_source_)
        victim = eviction_victim(&source);
    const std::optional<util::SlotPool::Slot> s = victim ? std::nullopt : pool_.acquire();
    if (!s) {
        if (!victim) victim = eviction_victim();
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
    c.source = source;
    c.generation = s->generation;
    return Acquire{AcquireStatus::acquired, s->index,
                   encode_connection({.slot = s->index, .generation = s->generation})};
}

std::uint32_t ConnectionSlots::unauthenticated_from(const SourceKey& source) const noexcept {
    std::uint32_t n = 0;
    for (const Connection& c : conns_)
        if (evictable(c) && c.source == source) ++n;
    return n;
}

std::optional<std::uint32_t> ConnectionSlots::eviction_victim(
    const SourceKey* only) const noexcept {
    // Tally unauthenticated inbound connections per source in an open-addressed scratch table
    // (twice the capacity, allocated once), then take the oldest of the source holding the
    // most. O(capacity).
    std::fill(tally_.begin(), tally_.end(), Tally{});
    auto count_of = [this](const SourceKey& k) -> std::uint32_t& {
        std::size_t i = std::hash<std::string_view>{}(
                            std::string_view(reinterpret_cast<const char*>(k.data()), k.size())) %
                        tally_.size();
        while (tally_[i].count != 0 && tally_[i].source != k)
            i = (i + 1) % tally_.size();
        tally_[i].source = k;
        return tally_[i].count;
    };
    for (const Connection& c : conns_)
        if (evictable(c) && (!only || c.source == *only)) ++count_of(c.source);
    std::optional<std::uint32_t> victim;
    std::uint32_t most = 0;
    for (std::uint32_t slot = 0; slot < capacity(); ++slot) {
        const Connection& c = conns_[slot];
        if (!evictable(c) || (only && c.source != *only)) continue;
        const std::uint32_t n = count_of(c.source);
        if (!victim || n > most || (n == most && c.opened_at < conns_[*victim].opened_at)) {
            victim = slot;
            most = n;
        }
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
