// A stream socket served on the io_uring loop: the UAPI socket (`wg`) and the metrics endpoint
// are two. A multishot accept on the listener; per connection (a StreamConnection, whose
// session a factory makes) a receive into its own buffer and a send of each reply; for the
// UAPI socket, a read of the inotify watch on its file (the daemon stops when the file is
// deleted, as wireguard-go does). The bounds are the server's StreamLimits; a burst of
// accepted connections waits (at most max_connections, the newest; older ones are closed
// unserved) while evicted ones finish closing.
//
// A closed connection's socket is closed, and its buffer freed, only once its cancelled
// requests are back, so neither is reused under a request (SQPOLL included); completions name
// the server by the generation field of user_data and the connection by a serial id in the
// slot field, never by a reusable slot.
//
// Owned by the Loop; runs on the loop thread.
#pragma once

#include <liburing.h>

#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/backend/io_backend.hpp"
#include "daemon/backend/stream_connection.hpp"
#include "daemon/control/stream_session.hpp"
#include "util/log.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::daemon {

class Loop;

// Closed connections whose cancelled requests are not back yet; beyond this many, waiting
// connections are not served until some are.
constexpr unsigned max_closing(const StreamLimits& l) noexcept {
    return 3 * l.max_connections;
}
// Completions that can be pending at once: the multishot accept (a burst of up to the listen
// backlog), the watch, and per connection one request (a receive or a send) and its
// cancellation; closing ones are at most max_closing plus what one sweep closes.
constexpr unsigned max_pending(const StreamLimits& l) noexcept {
    return 1 + l.backlog + 2 * (l.max_connections + max_closing(l) + l.max_connections);
}

class StreamServer {
  public:
    using SessionFactory = std::function<std::unique_ptr<control::StreamSession>()>;

    // `index` goes in the generation field of every request's user_data, for the Loop to find
    // this server; `name` prefixes its log lines.
    StreamServer(Loop& loop, std::uint16_t index, const char* name, const StreamLimits& limits,
                 ControlSetup setup);
    ~StreamServer();

    // Starts serving: each connection gets a session from `factory`. Before it, accepted
    // connections are closed unserved.
    void serve(SessionFactory factory) { factory_ = std::move(factory); }
    // Once per loop turn: arms the accept, the watch and what a connection still waits for.
    void arm() noexcept;
    void on_accept(const io_uring_cqe& cqe) noexcept;
    void on_recv(const io_uring_cqe& cqe) noexcept;
    void on_sent(const io_uring_cqe& cqe) noexcept;
    void on_watch(const io_uring_cqe& cqe) noexcept;
    // The earliest idle or lifetime limit of an open connection.
    Nanos next_deadline() const noexcept;
    // Closes connections past their limits.
    void sweep(Nanos now) noexcept;
    // The socket file was deleted or replaced: the daemon should stop.
    bool socket_gone() const noexcept { return socket_gone_; }
    // After the loop drained: closes every connection.
    void close_all() noexcept;

  private:
    struct Conn;

    // The connection a completion names (by id), open or closing; null if none.
    Conn* find(const io_uring_cqe& cqe) noexcept;
    std::uint32_t fresh_id() noexcept;
    // Serves waiting connections, evicting the oldest open ones, while closing ones allow.
    void admit() noexcept;
    // Arms what the connection asks for next, or closes it.
    void proceed(Conn& c, StreamConnection::Next next) noexcept;
    void arm_recv(Conn& c) noexcept;
    void arm_send(Conn& c) noexcept;
    // Cancels its requests and moves it to closing_ until they are back.
    void close(Conn& c, const char* why) noexcept;
    // A closing connection whose requests are all back is destroyed (its socket closed).
    void release_if_idle(Conn& c) noexcept;

    Loop& loop_;
    std::uint16_t index_;
    const char* name_;
    StreamLimits limits_;
    ControlSetup setup_;
    SessionFactory factory_;
    std::vector<std::unique_ptr<Conn>> open_, closing_;
    // Accepted, not served yet: the newest max_connections (older ones are closed at once,
    // as they would be evicted anyway).
    std::deque<util::UniqueFd> waiting_;
    std::uint32_t next_id_ = 0;
    bool accept_armed_ = false, watch_armed_ = false, retry_ = false;
    bool socket_gone_ = false;
    Nanos accept_retry_at_ = 0;
    std::array<char, 1024> watch_buf_{};
    util::log::RateLimit log_limit_{2, 10};
};

}  // namespace ringtun::daemon
