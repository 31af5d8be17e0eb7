// The TCP transport inside the io_uring loop: a listener with multishot accept, dialers for
// peers configured with `transport = "tcp"`, and per connection a provided-buffer group,
// a multishot recv whose bytes are reassembled into frames (2-byte big-endian length, then a
// WireGuard message), and one send in flight carrying a batch of queued frames with
// MSG_WAITALL.
//
// A connection is attached to a peer only after a handshake or data packet on it
// authenticated (the device decides); until then it may be evicted, oldest first, when the
// table is full. A connection that breaks the framing, sends a message that is not
// well-formed, stalls mid-frame or idles unauthenticated is closed alone; the daemon and all
// other connections carry on. Closing cancels the connection's requests and bumps its slot's
// generation, so late completions are recognised; their transmit slots are still freed
// because a send batch is a chain of transmit slots named by the completion itself.
//
// Owned by the Loop; must run on the loop thread.
#pragma once

#include <liburing.h>
#include <sys/uio.h>

#include <array>
#include <memory>
#include <optional>
#include <vector>

#include "daemon/engine/device.hpp"
#include "daemon/transport/backoff.hpp"
#include "daemon/transport/tcp_connections.hpp"
#include "ring/buffer_ring.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::daemon {

class Loop;

struct TcpCounters {
    std::uint64_t accepted = 0, refused = 0, evicted = 0, dialed = 0, connect_failures = 0;
    std::uint64_t closed_eof = 0, closed_error = 0, stalled = 0, idle_closed = 0;
    std::uint64_t zero_length = 0, oversized = 0, malformed = 0;
    std::uint64_t queue_drops = 0, no_connection = 0;
    std::uint64_t rx_bytes = 0, tx_bytes = 0, rx_frames = 0;
};

class TcpIo {
  public:
    static constexpr unsigned max_batch = 32;
    static constexpr crypto::Nanos stall_timeout = crypto::seconds_ns(10);
    static constexpr crypto::Nanos unauthenticated_idle_timeout = crypto::seconds_ns(15);
    static constexpr std::size_t unauthenticated_queue_limit = 8;

    // `listener` < 0: no listener. `dial`: one endpoint per TCP peer we connect to.
    TcpIo(Loop& loop, int listener, std::vector<Endpoint> dial);
    TcpIo(const TcpIo&) = delete;
    TcpIo& operator=(const TcpIo&) = delete;

    // Arms what is not armed: accept, recvs that ended, due dials. Called once per loop turn.
    void arm(crypto::Nanos now) noexcept;
    void on_accept(const io_uring_cqe& cqe) noexcept;
    void on_connect(const io_uring_cqe& cqe) noexcept;
    void on_recv(const io_uring_cqe& cqe) noexcept;
    void on_sent(const io_uring_cqe& cqe) noexcept;

    // Takes transmit slot `tx` whose iov holds a whole frame and sends it on the connection
    // `to` names (or the dialer for `to`'s address); frees it if there is none.
    void send(const Endpoint& to, std::uint32_t tx) noexcept;

    crypto::Nanos next_deadline() const noexcept;
    // Closes stalled and idle connections; ~once a second.
    void sweep(crypto::Nanos now) noexcept;
    // After the loop drained: closes every socket.
    void close_all() noexcept;

    const TcpCounters& counters() const noexcept { return counters_; }
    std::uint32_t connections() const noexcept { return table_.in_use(); }

  private:
    struct Conn {
        util::UniqueFd fd;
        Endpoint remote;  // tcp set; tcp_connection = this connection's handle
        sockaddr_in6 dial_addr{};
        int dialer = -1;  // index into dialers_, or -1 for an accepted connection
        bool recv_armed = false;
        bool sending = false;
        std::size_t batch_bytes = 0;  // of the send in flight
        msghdr msg{};
        std::array<iovec, max_batch> iov{};
    };
    struct Dialer {
        Endpoint to;
        Backoff backoff;
        crypto::Nanos next_attempt = 0;
        std::optional<std::uint32_t> slot;
    };
    enum class Close : std::uint8_t { eof, error, evicted, stalled, idle, protocol, shutdown };

    std::optional<std::uint32_t> open_slot(crypto::Nanos now, Direction d) noexcept;
    void start_dial(std::size_t dialer, crypto::Nanos now) noexcept;
    void arm_recv(std::uint32_t slot) noexcept;
    void start_send(std::uint32_t slot, std::optional<std::uint32_t> first) noexcept;
    bool on_frame(std::uint32_t slot, std::span<std::uint8_t> payload) noexcept;
    void close(std::uint32_t slot, Close why) noexcept;
    std::optional<std::uint32_t> route(const Endpoint& to) const noexcept;
    ring::BufferRing* buffers(std::uint32_t slot) noexcept;
    std::uint64_t tag(std::uint8_t kind, std::uint32_t slot,
                      std::uint16_t extra = 0) const noexcept;

    Loop& loop_;
    int listener_;
    bool accept_armed_ = false;
    crypto::Nanos accept_retry_at_ = 0;
    ConnectionTable<Peer> table_;
    std::vector<Conn> conns_;
    std::vector<std::unique_ptr<ring::BufferRing>> rings_;  // per slot, made on first use
    std::vector<Dialer> dialers_;
    crypto::Nanos last_sweep_ = 0;
    bool rearm_recvs_ = false;
    TcpCounters counters_;
};

}  // namespace ringtun::daemon
