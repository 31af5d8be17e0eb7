// The TCP transport's I/O on the io_uring loop (TcpPort): a multishot accept on the listener,
// connects, per connection a provided-buffer group and a multishot recv, and one sendmsg
// (MSG_WAITALL) per batch of frames. Every completion goes to the sans-IO TcpTransport, which
// decides what happens next. New requests are refused while the loop stops, so nothing is
// armed after the cancel-all that the drain waits for.
//
// Owned by the Loop; must run on the loop thread.
#pragma once

#include <liburing.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <vector>

#include "crypto/rng.hpp"
#include "daemon/transport/tcp_transport.hpp"
#include "ring/buffer_ring.hpp"
#include "util/log.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::daemon {

class Loop;

class TcpIo final : public TcpPort {
  public:
    // `listener` < 0: none. `dial`: one target per TCP peer we connect to.
    TcpIo(Loop& loop, int listener, std::vector<DialTarget> dial);

    TcpTransport& transport() noexcept { return transport_; }
    const TcpTransport& transport() const noexcept { return transport_; }

    void on_accept(const io_uring_cqe& cqe) noexcept;
    void on_connect(const io_uring_cqe& cqe) noexcept;
    void on_recv(const io_uring_cqe& cqe) noexcept;
    void on_sent(const io_uring_cqe& cqe) noexcept;
    // After the loop drained: forgets every connection and closes every socket.
    void close_all() noexcept;
    // SO_MARK on the listener and every socket, and on those opened from now on (0: none).
    void set_mark(std::uint32_t mark) noexcept;

    // TcpPort
    bool accept() noexcept override;
    bool dial(std::uint32_t conn, const Endpoint& to) noexcept override;
    bool receive(std::uint32_t conn) noexcept override;
    bool send(std::uint32_t conn, std::uint32_t head,
              std::span<const iovec> frames) noexcept override;
    void close(std::uint32_t conn) noexcept override;
    void release_tx(std::uint32_t tx) noexcept override;
    void release_tx_chain(std::uint32_t head) noexcept override;
    void write_to_tun(std::span<const std::uint8_t> packet) noexcept override;

  private:
    struct Socket {
        util::UniqueFd fd;
        sockaddr_in6 dial_addr{};
        msghdr msg{};
    };

    ring::BufferRing* buffers(std::uint32_t conn) noexcept;
    std::uint64_t tag(std::uint8_t kind, std::uint32_t conn,
                      std::uint16_t extra = 0) const noexcept;

    Loop& loop_;
    int listener_;
    std::uint32_t mark_ = 0;
    crypto::SystemRng rng_;
    std::vector<Socket> sockets_;
    std::vector<std::unique_ptr<ring::BufferRing>>
        rings_;  // per connection slot, made on first use
    TcpTransport transport_;
    util::log::RateLimit log_limit_{2, 10};
};

}  // namespace ringtun::daemon
