// A stream socket served on the readiness loop (the UAPI socket, the metrics endpoint): the
// listener and each connection (a StreamConnection) in the loop's epoll set, non-blocking;
// for the UAPI socket, its file's inotify watch too. Same bounds (StreamLimits) as on the
// io_uring loop; here a closed connection is gone at once (nothing is in flight), so the
// oldest is evicted as soon as a newer one is accepted beyond max_connections.
//
// Owned by the EpollLoop; runs on its thread.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "daemon/backend/io_backend.hpp"
#include "daemon/backend/stream_connection.hpp"
#include "util/log.hpp"

namespace ringtun::daemon {

class EpollLoop;

class EpollStreamServer {
  public:
    using SessionFactory = std::function<std::unique_ptr<control::StreamSession>()>;

    // `data` names this server in epoll events (the low 32 bits are left for the connection
    // id: 0 the listener, watch_id the watch).
    EpollStreamServer(EpollLoop& loop, std::uint64_t data, const char* name,
                      const StreamLimits& limits, ControlSetup setup);
    ~EpollStreamServer();

    // Adds the listener and the watch to the epoll set.
    util::Result<void> start();
    // Before it, accepted connections are closed unserved.
    void serve(SessionFactory factory) { factory_ = std::move(factory); }
    // An event for this server: `id` is what the low 32 bits of the data named.
    void on_event(std::uint32_t id, std::uint32_t events) noexcept;
    Nanos next_deadline() const noexcept;
    void sweep(Nanos now) noexcept;
    bool socket_gone() const noexcept { return socket_gone_; }
    void close_all() noexcept;

  private:
    static constexpr std::uint32_t watch_id = 0xffffffffu;
    struct Conn {
        StreamConnection conn;
        StreamConnection::Next next;
    };

    void accept_all() noexcept;
    void set_listener_interest(std::uint32_t events) noexcept;
    void on_watch() noexcept;
    void on_conn(Conn& c, std::uint32_t events) noexcept;
    // Receives or sends until the connection would block, then waits for what it needs next.
    void pump(Conn& c) noexcept;
    void close(Conn& c, const char* why) noexcept;
    std::uint32_t fresh_id() noexcept;

    EpollLoop& loop_;
    std::uint64_t data_;
    const char* name_;
    StreamLimits limits_;
    ControlSetup setup_;
    SessionFactory factory_;
    std::vector<std::unique_ptr<Conn>> open_;
    std::uint32_t next_id_ = 0;
    bool socket_gone_ = false;
    Nanos accept_paused_until_ = 0;  // after EMFILE and the like, which persist
    util::log::RateLimit log_limit_{2, 10};
};

}  // namespace ringtun::daemon
