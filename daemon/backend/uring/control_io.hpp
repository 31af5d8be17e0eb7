// The UAPI socket on the io_uring loop: a multishot accept on the listener, per connection a
// receive into its own buffer and a send of each reply, and a read of the inotify watch on the
// socket file (the daemon stops when the file is deleted, as wireguard-go does). Each
// connection is a UapiSession applied through a DeviceConfig of its own.
//
// Bounds, so that no client can hold the loop or its memory (the socket is root's, but a
// stuck or broken tool must not cost the tunnel anything):
//   - max_connections open; a newer one evicts the oldest, so a legitimate `wg` always gets
//     in. A burst waits (at most max_connections, the newest; older ones are closed unserved)
//     while evicted ones finish closing.
//   - A connection waiting for input for idle_timeout, or open for lifetime, is closed.
//   - max_input bytes per connection; each receive is at most recv_size bytes, and the
//     session stops at each reply, so one reply waits at a time and a client that does not
//     read its replies is not read either.
// A closed connection's socket is closed, and its buffer freed, only once its cancelled
// requests are back, so neither is reused under a request (SQPOLL included); completions name
// connections by a serial id, never by a reusable slot.
//
// Owned by the Loop; runs on the loop thread.
#pragma once

#include <liburing.h>

#include <array>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "daemon/backend/control_socket.hpp"
#include "daemon/backend/io_backend.hpp"
#include "daemon/control/uapi_session.hpp"
#include "util/log.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::daemon {

class Loop;

class ControlIo {
  public:
    static constexpr unsigned max_connections = 16;
    // Closed connections whose cancelled requests are not back yet; beyond this many, waiting
    // connections are not served until some are.
    static constexpr unsigned max_closing = 48;
    static constexpr Nanos idle_timeout = crypto::seconds_ns(10);
    static constexpr Nanos lifetime = crypto::seconds_ns(60);
    static constexpr std::size_t max_input = std::size_t{16} << 20;
    static constexpr std::size_t recv_size = 4096;
    // Completions that can be pending at once: the multishot accept (a burst of up to the
    // listen backlog), the watch, and per connection one request (a receive or a send) and its
    // cancellation; closing ones are at most max_closing plus what one sweep closes.
    static constexpr unsigned max_pending =
        1 + control_backlog + 2 * (max_connections + max_closing + max_connections);

    ControlIo(Loop& loop, ControlSetup setup);
    ~ControlIo();

    // What the sessions apply to; set before the first input. Each connection gets its own
    // DeviceConfig over them.
    void bind(Device& device, control::SocketSettings& sockets,
              control::DeviceConfig::ReloadFn reload) {
        device_ = &device;
        sockets_ = &sockets;
        reload_ = std::move(reload);
    }
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
    // Feeds what was received to the session until a reply comes out, then sends it; or asks
    // for more input; or closes a connection the session is done with.
    void advance(Conn& c) noexcept;
    void arm_recv(Conn& c) noexcept;
    void arm_send(Conn& c) noexcept;
    // Cancels its requests and moves it to closing_ until they are back.
    void close(Conn& c, const char* why) noexcept;
    // A closing connection whose requests are all back is destroyed (its socket closed).
    void release_if_idle(Conn& c) noexcept;

    Loop& loop_;
    ControlSetup setup_;
    Device* device_ = nullptr;
    control::SocketSettings* sockets_ = nullptr;
    control::DeviceConfig::ReloadFn reload_;
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
