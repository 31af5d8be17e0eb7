// The WireGuard device: all peers of one interface and the protocol logic between the TUN
// and the network, sans-IO. The backend owns the clock, the sockets and the buffers; it hands
// packets in with the time and gets back what to do:
//   - TUN → network (kernel send.c): on_tun_packet() seals the packet in the caller's buffer
//     and returns the peer to send it to.
//   - network → TUN (kernel receive.c): on_network_packet() opens data in place and returns
//     the inner packet to write to the TUN, with the peer the message authenticated for.
//   - timers (kernel timers.c): on_timers() acts on every expired peer timer.
// Messages the device originates (handshakes, keepalives, cookie replies, staged data) are
// built in buffers the MessageSink lends, each under an explicit handle.
//
// Must run on the loop thread. Data-path functions neither allocate nor throw.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "crypto/cookie.hpp"
#include "crypto/noise.hpp"
#include "crypto/rng.hpp"
#include "daemon/engine/allowed_ips.hpp"
#include "daemon/engine/clock.hpp"
#include "daemon/engine/drops.hpp"
#include "daemon/engine/endpoint.hpp"
#include "daemon/engine/message_sink.hpp"
#include "daemon/engine/peer.hpp"
#include "daemon/engine/ratelimiter.hpp"

namespace ringtun::daemon {

struct DeviceCounters {
    std::uint64_t tun_rx_packets = 0, tun_rx_bytes = 0;  // read from the TUN
    std::uint64_t tun_tx_packets = 0, tun_tx_bytes = 0;  // handed back for the TUN
    std::uint64_t handshakes_initiated = 0, handshakes_completed = 0;
    std::uint64_t cookie_replies_sent = 0, keepalives_sent = 0;
    std::uint64_t timer_visits = 0;  // peers on_timers() looked at
    std::uint64_t timer_holds = 0;   // times on_timers() left due peers for want of a buffer
    DropCounters drops;
};

class Device {
  public:
    // Buffers passed to on_tun_packet must hold data_header_len + mtu + data_tag_len bytes.
    Device(const crypto::PrivateKey& private_key, std::size_t mtu, MessageSink& sink,
           crypto::Rng& rng);
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    // Setup. Returns nullptr if a peer with this key exists or the key is our own.
    Peer* add_peer(const crypto::PublicKey& key, const crypto::SymmetricKey& psk,
                   std::uint16_t persistent_keepalive, std::optional<Endpoint> endpoint);
    // Routes a prefix to `peer` (moving it from another peer that held it).
    bool add_allowed_ip(Peer& peer, int family, const std::uint8_t* addr, std::uint8_t cidr);
    // Live reconfiguration (reconfigure.cpp; the UAPI's set and reload). Setup path: these may
    // allocate. A peer keeps its sessions and counters through every change but a new private
    // key of ours.
    //
    // The new key resets every session and handshake, and removes a peer whose public key is
    // now our own (as wireguard-go does; callers with a TCP transport remove that peer
    // themselves first, to detach it). All zero is wg's "no key": the get reply leaves it out.
    void set_private_key(const crypto::PrivateKey& key);
    // Forgets `peer`: its sessions leave the index table, its prefixes the routing table, its
    // staged packets are dropped, and `peer` is destroyed. Callers that attached it elsewhere
    // (a TCP connection) detach it first.
    void remove_peer(Peer& peer);
    // Forgets every peer at once (replace_peers): one pass, not one per peer.
    void remove_all_peers();
    // Counts removals: a Peer* kept across calls is still valid while this is unchanged.
    std::uint64_t peers_removed() const noexcept { return peers_removed_; }
    void set_preshared_key(Peer& peer, const crypto::SymmetricKey& psk) noexcept;
    void set_endpoint(Peer& peer, const Endpoint& endpoint) noexcept;
    // Turning it on (or changing it) with an endpoint known sends a keepalive at once, so the
    // tunnel comes up without traffic.
    void set_persistent_keepalive(Peer& peer, std::uint16_t seconds, const Now& now) noexcept;
    // Removes every prefix of `peer`; returns how many.
    std::size_t clear_allowed_ips(Peer& peer);
    // Removes the prefix if `peer` holds it; false if it does not.
    bool remove_allowed_ip(Peer& peer, int family, const std::uint8_t* addr, std::uint8_t cidr);
    // Each prefix of `peer`: fn(family, bytes, cidr).
    template <typename F>
    void for_each_allowed_ip(const Peer& peer, F&& fn) const {
        allowed_ips_.for_each(const_cast<Peer*>(&peer), std::forward<F>(fn));
    }

    // Starts what a configured peer does at once: a handshake if it has a persistent
    // keepalive and an endpoint (so the tunnel comes up without traffic). Sends nothing
    // itself: those keepalives are due at `now`, for the next on_timers().
    void start(const Now& now) noexcept;

    const crypto::Identity& identity() const noexcept { return identity_; }
    std::size_t mtu() const noexcept { return mtu_; }
    std::span<const std::unique_ptr<Peer>> peers() const noexcept { return peers_; }
    Peer* find_peer(const crypto::PublicKey& key) noexcept {
        const auto it = by_key_.find(key);
        return it == by_key_.end() ? nullptr : it->second;
    }
    const Peer* find_peer(const crypto::PublicKey& key) const noexcept {
        return const_cast<Device*>(this)->find_peer(key);
    }
    const DeviceCounters& counters() const noexcept { return counters_; }
    // A packet of `length` bytes read from the TUN that the caller dropped before it reached
    // on_tun_packet (e.g. a segment over the MTU that no buffer could hold): counted as read
    // and dropped for `why`, like the packets the device drops itself.
    void on_tun_dropped(Drop why, std::size_t length) noexcept {
        ++counters_.tun_rx_packets;
        counters_.tun_rx_bytes += length;
        counters_.drops.add(why);
    }
    // Test hook: the handshake count per second above which mac2 becomes mandatory.
    void set_load_threshold(std::uint32_t t) noexcept { load_ = HandshakeLoad(t); }

    struct Outbound {
        Peer* peer = nullptr;    // null: nothing to send now (staged or dropped)
        std::size_t length = 0;  // bytes of the caller's buffer to send to peer->endpoint
    };
    // TUN → network. `buffer` holds the packet at offset crypto::data_header_len.
    Outbound on_tun_packet(std::span<std::uint8_t> buffer, std::size_t packet_len,
                           const Now& now) noexcept;

    struct Inbound {
        std::span<std::uint8_t> packet;  // to write to the TUN (inside the message), or empty
        // The peer the message authenticated for (an accepted initiation or response, or data
        // that opened), else null. A TCP connection is attached to a peer only on this.
        Peer* peer = nullptr;
    };
    // network → TUN.
    Inbound on_network_packet(std::span<std::uint8_t> message, const Endpoint& from,
                              const Now& now) noexcept;

    // Acts on the expired timers of up to timers_per_call peers; when more are due,
    // next_deadline() stays due and the caller calls again after its other work. While the
    // sink has no room for a control message (thousands of peers due at once: a start or a
    // `wg setconf` with keepalives) the peers still due wait timer_hold_step for the sends in
    // flight to complete, instead of each building a message that finds no buffer
    // (no_tx_buffer) and waiting for its retry 5 s on. After max_timer_hold of such waits in a
    // row it acts anyway: those drops are counted and their timers retry.
    void on_timers(const Now& now) noexcept;
    // A TCP connection we dialed to `to` is up. The far side may have restarted and lost its
    // sessions, so the peers reached there start a handshake at once instead of waiting for
    // the 15 s timer.
    void on_transport_connected(const Endpoint& to, const Now& now) noexcept;
    // A send to `to` from its sticky source address failed because that address is gone
    // (DHCP renew, roaming, an expired temporary address): every peer whose endpoint uses that
    // source sends without one until an authenticated packet tells it the new one.
    void on_source_unusable(const Endpoint& to) noexcept;
    // When on_timers() next has something to do (no_deadline: never; not before a hold ends).
    // O(1); it may be early, never late.
    crypto::Nanos next_deadline() const noexcept;

  private:
    // send.cpp
    // Seals `packet` (inside `buffer`) for `peer`, or stages it until a session exists.
    Outbound seal_for(Peer& peer, std::span<std::uint8_t> buffer,
                      std::span<const std::uint8_t> packet, const Now& now) noexcept;
    void send_keepalive(Peer& peer, const Now& now) noexcept;
    void send_staged(Peer& peer, const Now& now) noexcept;
    void stage(Peer& peer, std::span<const std::uint8_t> packet) noexcept;
    bool send_sealed(Peer& peer, crypto::Session& session, std::span<const std::uint8_t> packet,
                     const Now& now) noexcept;
    void after_data_sent(Peer& peer, const crypto::Session& session, bool keepalive,
                         const Now& now) noexcept;
    Nanos jitter() noexcept;

    // receive.cpp
    Inbound classify_and_receive(std::span<std::uint8_t> message, const Endpoint& from,
                                 const Now& now) noexcept;
    Inbound on_data(std::span<std::uint8_t> message, const Endpoint& from, const Now& now) noexcept;
    void update_endpoint(Peer& peer, const Endpoint& from) noexcept;
    void on_authenticated_receive(Peer& peer, const Now& now) noexcept;

    // handshake.cpp
    bool handshake_admitted(std::span<std::uint8_t> message, const Endpoint& from,
                            const Now& now) noexcept;
    // Each returns the peer the message authenticated for, or null.
    Peer* on_initiation(std::span<std::uint8_t> message, const Endpoint& from,
                        const Now& now) noexcept;
    Peer* on_response(std::span<std::uint8_t> message, const Endpoint& from,
                      const Now& now) noexcept;
    void on_cookie_reply(std::span<std::uint8_t> message, const Now& now) noexcept;
    void send_response(Peer& peer, const Now& now) noexcept;
    // At most one initiation per REKEY_TIMEOUT, unless `fresh_connection`: a new TCP connection
    // (whose dials are themselves limited by their backoff) gets one at once.
    void send_initiation(Peer& peer, const Now& now, bool is_retry,
                         bool fresh_connection = false) noexcept;
    // Derives the session of a completed handshake and installs it; false (counted) if
    // OpenSSL cannot key it.
    bool begin_session(Peer& peer, const Now& now) noexcept;
    void handshake_completed(Peer& peer, const Now& now, const char* role) noexcept;

    // timers.cpp
    void on_peer_timers(Peer& peer, unsigned fired, const Now& now) noexcept;
    // Whether on_timers() must stop and wait for a transmit buffer (see on_timers); when it
    // must, sets the hold's end and counts it.
    bool wait_for_room(const Now& now) noexcept;
    // Logs, once per silence, that `peer` stopped answering handshakes.
    void report_silent(Peer& peer, const Now& now) noexcept;
    // After anything that may have moved `peer`'s timers: keeps the deadline heap in step.
    void reschedule(Peer& peer) noexcept;
    void rebuild_due() noexcept;
    std::size_t due_capacity() const noexcept { return 4 * peers_.size() + 64; }
    // Peers by public key: an initiation finds its peer in O(1), and adding 10,000 peers is
    // not 50 million key comparisons.
    using PeersByKey = std::unordered_map<crypto::PublicKey, Peer*, crypto::PublicKeyHash>;

    crypto::Identity identity_;
    std::size_t mtu_;
    MessageSink& sink_;
    crypto::Rng& rng_;
    crypto::CookieChecker cookie_checker_;
    HandshakeLoad load_;
    SourceRateLimiter source_limiter_;
    StagedPool staged_pool_;  // before peers_: their queues give their slots back to it
    std::vector<std::unique_ptr<Peer>> peers_;
    PeersByKey by_key_;
    std::uint64_t peers_removed_ = 0;
    struct Due {
        Nanos at;
        std::uint32_t peer;  // index into peers_ (Peer::id)
    };
    std::vector<Due> due_;         // min-heap on `at`; entries older than their peer's are stale
    Nanos timers_held_until_ = 0;  // on_timers() waits until then
    Nanos timers_held_since_ = no_deadline;  // start of the latest run of holds
    AllowedIps<Peer*> allowed_ips_;
    PeerIndex index_;
    DeviceCounters counters_;
};

}  // namespace ringtun::daemon
