// The TCP transport, sans-IO: which connections exist and what they may do. A listener's
// accepted connections and our dials to peers configured with `transport = "tcp"`; per
// connection, frame reassembly, attachment to the peer that authenticated on it, a bounded
// send queue with one batch in flight, and the reasons to close it. The backend performs the
// I/O this asks for through TcpPort and reports each completion back through an on_* input;
// nothing here makes a syscall or reads a clock.
//
// A connection is attached to a peer only after a handshake or data packet on it
// authenticated (the device's Inbound says so). A connection that breaks the framing, sends a
// message that is not well-formed, stalls mid-frame or idles unauthenticated is closed alone.
// Closing bumps the connection's generation, so late completions are recognised as stale;
// their transmit slots are still freed, because a send batch is a chain of transmit slots
// named by the completion itself.
//
// What a connection may hold of the transmit slots is bounded (SendQuota), new
// unauthenticated connections are limited per source (ConnectionTable), and no cookie reply
// goes into an unauthenticated connection that already has a send in flight.
//
// Must run on the loop thread.
#pragma once

#include <sys/uio.h>

#include <array>
#include <optional>
#include <span>
#include <vector>

#include "crypto/rng.hpp"
#include "daemon/datapath/ports.hpp"
#include "daemon/datapath/tx_slots.hpp"
#include "daemon/engine/device.hpp"
#include "daemon/transport/backoff.hpp"
#include "daemon/transport/send_quota.hpp"
#include "daemon/transport/tcp_connections.hpp"

namespace ringtun::daemon {

struct TcpCounters {
    std::uint64_t accepted = 0, refused = 0, evicted = 0, dialed = 0, connect_failures = 0;
    std::uint64_t closed_eof = 0, closed_error = 0, stalled = 0, idle_closed = 0;
    std::uint64_t zero_length = 0, oversized = 0, malformed = 0;
    std::uint64_t queue_drops = 0, no_connection = 0, not_started = 0;
    std::uint64_t rx_bytes = 0, tx_bytes = 0, rx_frames = 0;
};

// The I/O the transport asks of its backend. Each call starts one request for connection
// `conn` and returns false when it could not (no submission entry, a socket error, or the
// backend is stopping); the transport then undoes what it prepared.
class TcpPort {
  public:
    virtual ~TcpPort() = default;
    // A (multishot) accept on the listener.
    virtual bool accept() noexcept = 0;
    // Opens a socket for `conn` and connects it to `to`.
    virtual bool dial(std::uint32_t conn, const Endpoint& to) noexcept = 0;
    // A (multishot) receive on `conn`.
    virtual bool receive(std::uint32_t conn) noexcept = 0;
    // One send of `frames`, whole or failed (MSG_WAITALL); the completion names `head`.
    virtual bool send(std::uint32_t conn, std::uint32_t head,
                      std::span<const iovec> frames) noexcept = 0;
    // Cancels `conn`'s requests and closes its socket.
    virtual void close(std::uint32_t conn) noexcept = 0;
    // Frees transmit slot `tx`, or every slot of the chain from `head` (and their TUN buffers).
    virtual void release_tx(std::uint32_t tx) noexcept = 0;
    virtual void release_tx_chain(std::uint32_t head) noexcept = 0;
    // Writes a packet that arrived on a connection to the TUN; `packet` is not kept.
    virtual void write_to_tun(std::span<const std::uint8_t> packet) noexcept = 0;
};

// A peer configured with transport = "tcp": we dial `to` for it.
struct DialTarget {
    Endpoint to;
    crypto::PublicKey peer;
};

struct TcpTransportParams {
    std::uint32_t max_connections = 256;  // [ring] tcp_max_connections
    std::size_t max_payload = 0;          // the largest message a peer may send
    SendQuotaParams quota;
    BackoffParams dial_backoff;
};

class TcpTransport final : public StreamPort {
  public:
    // Frames per send: a super-packet's segments (48 at MTU 1420) leave together.
    static constexpr unsigned max_batch = 64;
    static constexpr Nanos stall_timeout = crypto::seconds_ns(10);
    static constexpr Nanos unauthenticated_idle_timeout = crypto::seconds_ns(15);
    static constexpr Nanos accept_retry = crypto::millis_ns(100);
    // A send in flight this long means the connection stopped draining: it loses what it
    // holds beyond its quota, and its data is bounded again (SendQuota).
    static constexpr Nanos send_stall = crypto::millis_ns(500);

    // `listening`: a listener exists. `dial`: one target per TCP peer we connect to.
    TcpTransport(const TcpTransportParams& p, bool listening, std::vector<DialTarget> dial,
                 TxSlots& tx, TcpPort& port, crypto::Rng& rng);
    TcpTransport(const TcpTransport&) = delete;
    TcpTransport& operator=(const TcpTransport&) = delete;

    // The device frames are handed to; set before the first input.
    void bind(Device& device) noexcept { device_ = &device; }

    // Once per loop turn: arms what is not armed — accept, due dials, receives that ended.
    void arm(Nanos now) noexcept;

    // The listener's accept ended (a multishot accept reports it), or failed with `error`.
    // At the file-descriptor limit (-EMFILE, -ENFILE) it makes room as a full table does:
    // the oldest unauthenticated inbound connection of the source holding the most is closed
    // (counted as evicted) and the accept re-armed at once, so a peer waiting in the backlog
    // behind a flood of idle connections gets in; without one to close it tries again later.
    void on_accept_ended(int error, Nanos now) noexcept;
    // An accepted connection from `remote`: the slot for its socket, or nullopt (refused: the
    // backend closes it). The backend stores the socket, then calls opened(slot).
    std::optional<std::uint32_t> on_accepted(const Endpoint& remote, Nanos now) noexcept;
    void opened(std::uint32_t conn) noexcept;

    void on_connected(ConnectionRef c, int result, const Now& now) noexcept;
    // Bytes received on `c`; frames in them go to the device, packets to the TUN.
    void on_received(ConnectionRef c, std::span<std::uint8_t> bytes, const Now& now) noexcept;
    // The receive on `c` ended: `result` 0 is the peer's EOF, -ENOBUFS asks for a re-arm
    // once buffers are back, another negative value is an error; > 0: it ended with data
    // (re-armed next turn).
    void on_receive_ended(ConnectionRef c, int result) noexcept;
    // The send batch from transmit slot `head` on `c` completed with `result` at `now`.
    void on_sent(ConnectionRef c, std::uint32_t head, int result, Nanos now) noexcept;

    // Queues the whole frame in transmit slot `tx` (its iov) on the connection `to` names, or
    // the dialer for `to`'s address; frees it if there is none or the quota says no. The
    // connection's send starts at flush().
    void send(const Endpoint& to, std::uint32_t tx) noexcept override;
    void flush() noexcept override;

    Nanos next_deadline() const noexcept;
    // Closes stalled and idle connections; ~once a second.
    void sweep(Nanos now) noexcept;
    // After the backend drained: forgets every connection (the backend closes the sockets).
    void close_all() noexcept;

    // Reconfiguration (tcp_reconfigure.cpp), between inputs. Dialers belong to peers (by
    // public key), not to the endpoint a peer last roamed to.
    // Dials `target.to` for its peer from now on; a peer's dialer to another address is
    // moved there (its connection closed).
    void add_dialer(const DialTarget& target);
    // Stops dialing for `peer` and closes its dialed connection.
    void remove_dialer(const crypto::PublicKey& peer) noexcept;
    // `peer` is about to be removed: closes every connection it is attached to and stops
    // dialing for it, so nothing here points at it afterwards.
    void forget_peer(const Peer& peer) noexcept;
    std::size_t dialers() const noexcept;
    bool dials(const crypto::PublicKey& peer) const noexcept;

    std::uint16_t generation(std::uint32_t conn) const noexcept { return table_.generation(conn); }
    // When the batch in flight on `conn` started, or no_deadline if none is.
    Nanos sending_since(std::uint32_t conn) const noexcept {
        return conns_[conn].sending ? conns_[conn].send_started : no_deadline;
    }
    const TcpCounters& counters() const noexcept { return counters_; }
    std::uint32_t connections() const noexcept { return table_.in_use(); }

  private:
    struct Conn {
        Endpoint remote;  // tcp set; tcp_connection = this connection's handle
        int dialer = -1;  // index into dialers_, or -1 for an accepted connection
        bool recv_armed = false;
        bool sending = false;
        bool start_pending = false;   // in pending_starts_
        Nanos send_started = 0;       // of the batch in flight
        std::size_t batch_bytes = 0;  // of the send in flight
        std::array<iovec, max_batch> iov{};
    };
    struct Dialer {
        Endpoint to;
        crypto::PublicKey peer;
        Backoff backoff;
        Nanos next_attempt = 0;
        std::optional<std::uint32_t> slot;
        bool active = true;  // false: removed, the entry free for the next add_dialer
    };
    enum class Close : std::uint8_t {
        eof,
        error,
        evicted,
        stalled,
        idle,
        protocol,
        removed,  // its peer or dialer was removed by a reconfiguration
        shutdown
    };

    std::optional<std::uint32_t> open_slot(Nanos now, Direction d,
                                           const SourceKey& source) noexcept;
    void start_dial(std::size_t dialer, Nanos now) noexcept;
    void arm_receive(std::uint32_t conn) noexcept;
    void start_send(std::uint32_t conn) noexcept;
    bool on_frame(std::uint32_t conn, std::span<std::uint8_t> payload, const Now& now) noexcept;
    void attach(std::uint32_t conn, Peer* peer) noexcept;
    void close(std::uint32_t conn, Close why) noexcept;
    void drop_queued(std::uint32_t conn, std::uint32_t tx) noexcept;
    bool draining(std::uint32_t conn) const noexcept {
        return !conns_[conn].sending || now_ - conns_[conn].send_started < send_stall;
    }
    // Drops the queued data of connections over their quota that stopped draining.
    void shed_stalled() noexcept;
    std::optional<std::uint32_t> route(const Endpoint& to) const noexcept;
    bool current(ConnectionRef c) const noexcept { return table_.is_current(encode_connection(c)); }

    TxSlots& tx_;
    TcpPort& port_;
    crypto::Rng& rng_;
    Device* device_ = nullptr;
    bool listening_;
    bool accept_armed_ = false;
    Nanos accept_retry_at_ = 0;
    ConnectionTable<Peer> table_;
    SendQuota quota_;
    std::vector<Conn> conns_;
    std::vector<Dialer> dialers_;
    BackoffParams dial_backoff_;
    std::vector<std::uint32_t> pending_starts_;  // connections send() queued to since flush()
    Nanos last_sweep_ = 0;
    Nanos now_ = 0;  // the latest time an input brought
    bool rearm_receives_ = false;
    bool restart_sends_ = false;  // a send the backend could not start waits for the next turn
    bool any_over_ = false;       // some connection holds more than its quota
    TcpCounters counters_;
};

// The source an inbound connection is limited under (ConnectionTable).
SourceKey source_key(const Endpoint& remote) noexcept;

}  // namespace ringtun::daemon
