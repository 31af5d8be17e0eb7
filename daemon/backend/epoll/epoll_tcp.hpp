// The TCP transport's I/O on the readiness loop (TcpPort), non-blocking: the listener's
// accepts while the transport wants them, connects finished at EPOLLOUT, receives into one
// scratch buffer (the transport copies what it keeps), and each batch of frames sent whole,
// continued at EPOLLOUT where the socket buffer is full. Results the transport expects as
// completions (a connect's, a send's) are queued and delivered by deliver(), never inside
// the call that started them; a closed connection's send is delivered as -ECANCELED, so its
// transmit slots come back as on the io_uring loop.
//
// Owned by the EpollLoop; runs on its thread.
#pragma once

#include <sys/socket.h>

#include <array>
#include <vector>

#include "crypto/rng.hpp"
#include "daemon/backend/io_backend.hpp"
#include "daemon/transport/tcp_transport.hpp"
#include "util/log.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::daemon {

class EpollLoop;

class EpollTcp final : public TcpPort {
  public:
    // `listener` < 0: none. `data` is what its events carry, with the slot and generation of
    // a connection in the low 48 bits (the listener: all ones).
    EpollTcp(EpollLoop& loop, int listener, std::vector<DialTarget> dial, std::uint64_t data);

    TcpTransport& transport() noexcept { return transport_; }
    const TcpTransport& transport() const noexcept { return transport_; }
    util::Result<void> start();
    // An event for the listener or a connection (`low`: the low 48 bits of its data).
    void on_event(std::uint64_t low, std::uint32_t events) noexcept;
    // Hands the transport the queued results; true if there were any.
    bool deliver() noexcept;
    bool results_pending() const noexcept { return !results_.empty(); }
    // At shutdown: every send in progress delivered as cancelled, then every socket closed.
    void close_all() noexcept;
    void set_mark(std::uint32_t mark) noexcept;
    std::uint64_t tun_packets() const noexcept { return tun_packets_; }
    std::uint64_t tun_bytes() const noexcept { return tun_bytes_; }

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
    static constexpr std::uint64_t listener_low = (std::uint64_t{1} << 48) - 1;
    struct Socket {
        util::UniqueFd fd;
        std::uint16_t generation = 0;
        bool connecting = false, receiving = false, sending = false;
        std::uint32_t head = 0;  // of the batch being sent
        std::array<iovec, TcpTransport::max_batch> iov{};
        std::size_t iov_first = 0, iov_count = 0, sent = 0;
        std::uint32_t events = 0;  // registered interest
    };
    struct Result {
        enum class Kind : std::uint8_t { connected, sent } kind;
        ConnectionRef conn;
        std::uint32_t head;
        int result;
    };

    void accept_all() noexcept;
    void on_connectable(std::uint32_t slot) noexcept;
    void on_readable(std::uint32_t slot) noexcept;
    // Sends what is left of the batch; queues its result once whole or failed.
    void continue_send(std::uint32_t slot) noexcept;
    // Registers the interest the socket's state calls for.
    void update_interest(std::uint32_t slot) noexcept;
    std::uint64_t data_of(std::uint32_t slot) const noexcept;
    ConnectionRef ref(std::uint32_t slot) const noexcept {
        return {slot, sockets_[slot].generation};
    }

    EpollLoop& loop_;
    int listener_;
    bool accepting_ = false;
    std::uint64_t data_;
    std::uint32_t mark_ = 0;
    crypto::SystemRng rng_;
    std::vector<Socket> sockets_;
    std::vector<Result> results_;  // as many as connections can have (one each), reserved
    std::array<std::uint8_t, 65536> scratch_{};
    std::uint64_t tun_packets_ = 0, tun_bytes_ = 0;
    TcpTransport transport_;
    util::log::RateLimit log_limit_{2, 10};
};

}  // namespace ringtun::daemon
