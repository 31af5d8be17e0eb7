// ConnectionTable: the TCP transport's connections — a fixed number of slots, each with a
// generation, its framing state and its send queue — and the handles that name them.
//
// A slot comes from util::SlotPool, so its generation is the one the loop puts into io_uring
// user_data: a CQE, or an Endpoint's handle, for a connection that has since been closed (and
// its slot reused) is recognised as stale. A handle is 64 bits and never 0, so Endpoint's
// `tcp_connection` can use 0 for "UDP". Like user_data, a 16-bit generation is mistaken for a
// current one only after 65536 reuses of its slot; the daemon should clear the handle from the
// attached peer's endpoint when it closes a connection rather than leave it to go stale.
//
// A connection is authenticated once a peer is attached to it (after an authenticated
// handshake or data packet arrived on it). Unauthenticated inbound connections are capped per
// source (an IPv4 address, an IPv6 /64): past the cap, the source's own oldest one makes room.
// When the table is full, the oldest unauthenticated inbound connection of the source holding
// the most makes room. So a flood of connects from one place recycles its own slots and
// cannot push out a client from elsewhere before its handshake completes; authenticated
// connections, and our own outbound dials, are never evicted. A periodic sweep closes connections
// that hold a partial frame too long (a stalled or slow-loris sender) and unauthenticated ones that
// stay idle (including dials that never connect).
//
// Time is a parameter; nothing allocates after construction. Not thread-safe: one table per
// loop thread.
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "crypto/messages.hpp"
#include "daemon/transport/send_queue.hpp"
#include "daemon/transport/tcp_framing.hpp"
#include "util/slot_pool.hpp"

namespace ringtun::daemon {

inline constexpr std::uint32_t kMaxSlot = util::SlotPool::kMaxIndex;

enum class Direction : std::uint8_t { inbound, outbound };
enum class ConnectionState : std::uint8_t { free, connecting, open };

// Why the sweep closes a connection.
enum class Expiry : std::uint8_t {
    none,
    stalled,               // a partial frame pending for stall_timeout
    unauthenticated_idle,  // no peer attached and nothing received for the idle timeout
};

const char* to_string(Expiry e) noexcept;

// Layout: bit 48 always set (so never 0), bits 47..32 generation, bits 23..0 slot.
using ConnectionHandle = std::uint64_t;
inline constexpr ConnectionHandle no_connection = 0;

struct ConnectionRef {
    std::uint32_t slot = 0;  // <= kMaxSlot
    std::uint16_t generation = 0;
    friend constexpr bool operator==(const ConnectionRef&, const ConnectionRef&) = default;
};

namespace connection_detail {
inline constexpr std::uint64_t kTag = std::uint64_t{1} << 48;
inline constexpr unsigned kGenerationShift = 32;
inline constexpr std::uint64_t kReservedMask =
    ~(kTag | std::uint64_t{0xffff} << kGenerationShift | std::uint64_t{kMaxSlot});
}  // namespace connection_detail

constexpr ConnectionHandle encode_connection(ConnectionRef r) noexcept {
    return connection_detail::kTag |
           std::uint64_t{r.generation} << connection_detail::kGenerationShift |
           std::uint64_t{r.slot & kMaxSlot};
}

// nullopt for 0 and for any value encode_connection() cannot produce.
constexpr std::optional<ConnectionRef> decode_connection(ConnectionHandle h) noexcept {
    if ((h & connection_detail::kTag) == 0 || (h & connection_detail::kReservedMask) != 0)
        return std::nullopt;
    return ConnectionRef{static_cast<std::uint32_t>(h & kMaxSlot),
                         static_cast<std::uint16_t>(h >> connection_detail::kGenerationShift)};
}

static_assert(encode_connection({}) != no_connection);
static_assert(decode_connection(encode_connection({.slot = kMaxSlot, .generation = 0xffff}))
                  ->slot == kMaxSlot);
static_assert(!decode_connection(no_connection));

struct ConnectionParams {
    std::uint32_t capacity = 256;  // [ring] tcp_max_connections; <= kMaxSlot + 1
    std::size_t max_payload = 0;   // largest message accepted (see FrameAssembler)
    std::uint32_t send_queue_capacity = 64;
    // Unauthenticated inbound connections one source may hold; 0: capacity / 8, at least 2.
    std::uint32_t max_unauthenticated_per_source = 0;
};

// Where an inbound connection comes from, as far as limits go: the IPv4 address (v4-mapped),
// or the /64 of an IPv6 address (the rest zero), since one IPv6 host has a /64 to pick from.
using SourceKey = std::array<std::uint8_t, 16>;
SourceKey source_key_v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept;
SourceKey source_key_v6(const std::array<std::uint8_t, 16>& address) noexcept;

struct ExpiryParams {
    crypto::Nanos stall_timeout = 0;                 // for a partial frame
    crypto::Nanos unauthenticated_idle_timeout = 0;  // since the last bytes received
};

enum class AcquireStatus : std::uint8_t {
    acquired,     // slot/handle: the new connection's
    evict_first,  // table full; slot/handle: the victim to close first
    refused,      // table full and nothing may be evicted: refuse the new connection
};

struct Acquire {
    AcquireStatus status = AcquireStatus::refused;
    std::uint32_t slot = 0;
    ConnectionHandle handle = no_connection;
};

// Everything of the table except the typed peer; ConnectionTable<PeerT> adds that.
// Slot arguments must be < capacity(); accessors of a free slot return its last values.
class ConnectionSlots {
  public:
    // Allocates every slot's reassembly buffer and send queue here, and only here.
    explicit ConnectionSlots(const ConnectionParams& params);
    ConnectionSlots(const ConnectionSlots&) = delete;
    ConnectionSlots& operator=(const ConnectionSlots&) = delete;

    // A slot for a connection opened at `now`: inbound (accepted) starts open, outbound (dial
    // submitted) starts connecting. When the table is full the result is evict_first with the
    // victim — the caller closes it through its usual path, which release()s it (its socket,
    // queued items and in-flight requests are the caller's to undo), counts the eviction and
    // calls acquire() again, which then succeeds — or refused.
    // An inbound connection from `source` whose source is at its cap also gets evict_first,
    // naming that source's oldest unauthenticated connection. O(capacity).
    [[nodiscard]] Acquire acquire(crypto::Nanos now, Direction direction,
                                  const SourceKey& source = {}) noexcept;
    // The oldest (by opened_at, then lowest slot) unauthenticated inbound connection of the
    // source holding the most of them; with `only`, of that source. O(capacity).
    std::optional<std::uint32_t> eviction_victim(const SourceKey* only = nullptr) const noexcept;

    // An outbound connection's connect completed.
    void mark_open(std::uint32_t slot, crypto::Nanos now) noexcept;

    // Feeds bytes received on `slot` at `now` to its FrameAssembler (see FrameAssembler::feed)
    // and records the activity and when the pending partial frame, if any, began.
    template <FrameHandler F>
    FrameError feed(std::uint32_t slot, crypto::Nanos now, std::span<std::uint8_t> bytes,
                    F&& on_frame) noexcept;

    // Why `slot` should be closed at `now`, or none (also for a free slot). A partial frame
    // expires at partial_since + stall_timeout, an unauthenticated connection at
    // last_activity + unauthenticated_idle_timeout.
    Expiry expiry(std::uint32_t slot, crypto::Nanos now, const ExpiryParams& p) const noexcept;
    // Calls on_expired(slot, handle, Expiry) for each connection expiry() names. O(capacity).
    // on_expired may release the slot it is given (and no other).
    template <typename F>
    requires std::invocable<F&, std::uint32_t, ConnectionHandle, Expiry>
    void for_each_expired(crypto::Nanos now, const ExpiryParams& p, F&& on_expired) noexcept;

    // The slot `h` names if that connection is still open or connecting; nullopt if stale.
    std::optional<std::uint32_t> slot_of(ConnectionHandle h) const noexcept;
    bool is_current(ConnectionHandle h) const noexcept { return slot_of(h).has_value(); }
    // The handle of the connection in `slot`; no_connection if the slot is free.
    ConnectionHandle handle(std::uint32_t slot) const noexcept;
    // The generation of the connection in `slot`, for io_uring user_data.
    std::uint16_t generation(std::uint32_t slot) const noexcept { return conns_[slot].generation; }

    ConnectionState state(std::uint32_t slot) const noexcept { return conns_[slot].state; }
    Direction direction(std::uint32_t slot) const noexcept { return conns_[slot].direction; }
    bool authenticated(std::uint32_t slot) const noexcept { return conns_[slot].authenticated; }
    crypto::Nanos opened_at(std::uint32_t slot) const noexcept { return conns_[slot].opened_at; }
    crypto::Nanos last_activity(std::uint32_t slot) const noexcept {
        return conns_[slot].last_activity;
    }
    FrameAssembler& assembler(std::uint32_t slot) noexcept { return conns_[slot].assembler; }
    SendQueue& queue(std::uint32_t slot) noexcept { return conns_[slot].queue; }

    std::uint32_t capacity() const noexcept { return pool_.capacity(); }
    std::uint32_t in_use() const noexcept { return pool_.in_use(); }

  protected:
    void set_authenticated(std::uint32_t slot, bool yes) noexcept {
        conns_[slot].authenticated = yes;
    }
    // Frees `slot` and bumps its generation; its queue must be empty. False if not in use.
    bool release_slot(std::uint32_t slot) noexcept;

  private:
    static constexpr crypto::Nanos kNoPartial = ~crypto::Nanos{0};

    struct Connection {
        FrameAssembler assembler;
        SendQueue queue;
        crypto::Nanos opened_at = 0;
        crypto::Nanos last_activity = 0;
        crypto::Nanos partial_since = kNoPartial;
        std::uint16_t generation = 0;  // SlotPool's, mirrored: it has no accessor
        ConnectionState state = ConnectionState::free;
        Direction direction = Direction::inbound;
        bool authenticated = false;
        SourceKey source{};
    };

    bool evictable(const Connection& c) const noexcept {
        return c.state != ConnectionState::free && !c.authenticated &&
               c.direction == Direction::inbound;
    }
    std::uint32_t unauthenticated_from(const SourceKey& source) const noexcept;

    void note_received(std::uint32_t slot, crypto::Nanos now, bool frame_completed) noexcept;

    struct Tally {
        SourceKey source{};
        std::uint32_t count = 0;
    };

    util::SlotPool pool_;
    std::uint32_t per_source_;
    mutable std::vector<Tally> tally_;               // eviction_victim()'s scratch
    std::unique_ptr<std::uint8_t[]> frame_storage_;  // every slot's reassembly buffer
    std::vector<Connection> conns_;
};

// The table the daemon uses: ConnectionSlots plus the peer attached to each connection
// (PeerT is Peer there; tests use any type). Never dereferences a PeerT*.
template <typename PeerT>
class ConnectionTable : public ConnectionSlots {
  public:
    explicit ConnectionTable(const ConnectionParams& params)
        : ConnectionSlots(params), peers_(capacity(), nullptr) {}

    // An authenticated packet from `peer` arrived on `slot`: the connection now carries that
    // peer and is authenticated (never evicted, no idle limit). nullptr detaches.
    void attach(std::uint32_t slot, PeerT* peer) noexcept {
        peers_[slot] = peer;
        set_authenticated(slot, peer != nullptr);
    }
    PeerT* peer(std::uint32_t slot) const noexcept { return peers_[slot]; }

    // `peer` is being removed: detaches it from every connection, which become
    // unauthenticated again. Returns how many it was attached to. O(capacity).
    std::uint32_t detach(const PeerT* peer) noexcept;

    // Frees `slot` once its socket is closed: calls free_item(item) for each item still queued
    // (oldest first), forgets its partial frame and peer, and bumps its generation so its
    // handle and pending CQEs become stale. False (and nothing done) if the slot is free.
    template <std::invocable<std::uint32_t> F>
    bool release(std::uint32_t slot, F&& free_item) noexcept;

  private:
    std::vector<PeerT*> peers_;
};

template <FrameHandler F>
FrameError ConnectionSlots::feed(std::uint32_t slot, crypto::Nanos now,
                                 std::span<std::uint8_t> bytes, F&& on_frame) noexcept {
    bool completed = false;
    const FrameError e = conns_[slot].assembler.feed(
        bytes, [&](std::span<std::uint8_t> payload, bool in_place) -> bool {
            completed = true;
            return static_cast<bool>(on_frame(payload, in_place));
        });
    note_received(slot, now, completed);
    return e;
}

template <typename F>
requires std::invocable<F&, std::uint32_t, ConnectionHandle, Expiry>
void ConnectionSlots::for_each_expired(crypto::Nanos now, const ExpiryParams& p,
                                       F&& on_expired) noexcept {
    for (std::uint32_t slot = 0; slot < capacity(); ++slot) {
        const Expiry e = expiry(slot, now, p);
        if (e != Expiry::none) on_expired(slot, handle(slot), e);
    }
}

template <typename PeerT>
std::uint32_t ConnectionTable<PeerT>::detach(const PeerT* peer) noexcept {
    std::uint32_t n = 0;
    for (std::uint32_t slot = 0; slot < capacity(); ++slot) {
        if (peer == nullptr || peers_[slot] != peer) continue;
        attach(slot, nullptr);
        ++n;
    }
    return n;
}

template <typename PeerT>
template <std::invocable<std::uint32_t> F>
bool ConnectionTable<PeerT>::release(std::uint32_t slot, F&& free_item) noexcept {
    if (slot >= capacity() || state(slot) == ConnectionState::free) return false;
    queue(slot).clear(free_item);
    attach(slot, nullptr);
    return release_slot(slot);
}

}  // namespace ringtun::daemon
