// One client connection of a stream server (the UAPI socket, the metrics endpoint), whatever
// the backend: the session (control::StreamSession), what was received and not yet fed, the
// reply being sent, and the limits it lives under. The backend receives and sends; after each
// it asks the connection what comes next.
//
// The end of a connection whose session is done: closing with input unread would make the
// kernel answer with a reset, which can destroy the reply before the client reads it (RFC 9112
// §9.6), so the server's side is shut (FIN) and what arrives is read and dropped until the
// client closes, for at most linger_time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "daemon/backend/control_socket.hpp"
#include "daemon/backend/metrics_socket.hpp"
#include "daemon/control/stream_session.hpp"
#include "daemon/engine/clock.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::daemon {

// Bounds of one server, so that no client can hold the loop or its memory (a stuck or broken
// tool, or a scraper, must not cost the tunnel anything):
//   - max_connections open; a newer one evicts the oldest, so a legitimate client always gets
//     in;
//   - a connection waiting for input for idle_timeout, or open for lifetime, is closed;
//   - max_input bytes per connection, each receive at most StreamConnection::recv_size; the
//     session stops at each reply, so one reply waits at a time and a client that does not
//     read its replies is not read either.
struct StreamLimits {
    unsigned max_connections;
    Nanos idle_timeout, lifetime;
    std::size_t max_input;
    unsigned backlog;  // the listener's listen(2) backlog: a burst of accepts
};

// `wg` sends whole configurations and may take its time: `wg setconf` with 100,000 peers (a
// key, an endpoint, an allowed IP and a keepalive each) sends 19 MB, with preshared keys 27 MB,
// and a keepalive makes each new peer start a handshake at once (as wireguard-go does), about
// 0.2 ms of CPU each: 100,000 of them take longer than a minute on a busy machine. A client
// that stops sending is cut by the idle limit, one that trickles by the lifetime.
inline constexpr StreamLimits control_limits{.max_connections = 16,
                                             .idle_timeout = crypto::seconds_ns(10),
                                             .lifetime = crypto::seconds_ns(300),
                                             .max_input = std::size_t{64} << 20,
                                             .backlog = control_backlog};
// A scrape is one small request and one response; Prometheus's default timeout is 10 s.
inline constexpr StreamLimits metrics_limits{.max_connections = 8,
                                             .idle_timeout = crypto::seconds_ns(5),
                                             .lifetime = crypto::seconds_ns(10),
                                             .max_input = std::size_t{64} << 10,
                                             .backlog = metrics_backlog};

class StreamConnection {
  public:
    static constexpr std::size_t recv_size = 4096;
    static constexpr Nanos linger_time = crypto::seconds_ns(2);

    enum class Next {
        receive,  // into receive_room()
        send,     // to_send()
        close,    // why() says why, or null for an ordinary end
    };

    StreamConnection(std::uint32_t id, util::UniqueFd fd,
                     std::unique_ptr<control::StreamSession> session, Nanos now);

    std::uint32_t id() const noexcept { return id_; }
    int fd() const noexcept { return fd_.get(); }
    Nanos opened() const noexcept { return opened_; }
    const char* why() const noexcept { return why_; }

    // Where the next receive goes.
    std::span<char> receive_room() noexcept { return in_; }
    // What is left of the reply.
    std::span<const char> to_send() const noexcept {
        return {out_.data() + sent_, out_.size() - sent_};
    }
    // `n` bytes arrived in receive_room() (0: the client closed its side).
    Next on_received(std::size_t n, const Now& now, const StreamLimits& limits);
    // `n` bytes of to_send() went out.
    Next on_sent(std::size_t n, const Now& now);

    // The earliest limit it runs into; `sending`: a send is in flight (a client reading a
    // reply slowly is not idle).
    Nanos deadline(const StreamLimits& limits, bool sending) const noexcept;
    // Why it must close at `now` ("" for a served connection whose client did not close in
    // time: nothing to report), or null. The reasons name the limit as ringtun's, with its
    // value ("idle longer than ringtun's limit of 10 s"), written into the connection's own
    // buffer: no allocation, as the servers' noexcept sweeps call it.
    const char* expired(Nanos now, const StreamLimits& limits, bool sending) noexcept;

  private:
    Next advance(const Now& now);
    Next linger(const Now& now);

    std::uint32_t id_;
    util::UniqueFd fd_;
    std::unique_ptr<control::StreamSession> session_;
    std::string out_;       // the reply being sent
    std::size_t sent_ = 0;  // of out_
    std::array<char, recv_size> in_{};
    std::size_t in_begin_ = 0, in_end_ = 0;  // received, not yet fed
    std::size_t input_total_ = 0;
    Nanos opened_ = 0, last_input_ = 0;
    Nanos linger_until_ = 0;  // lingering until then; 0: not
    bool eof_ = false;
    const char* why_ = nullptr;
    std::array<char, 96> why_text_{};  // what why_ or expired() points into
};

}  // namespace ringtun::daemon
