// The readiness backend: the same engine, datapath and UAPI as the io_uring loop, driven by
// epoll where io_uring is refused (container seccomp profiles, kernel.io_uring_disabled) or
// chosen ([ring] backend = "epoll"). One thread, level-triggered:
//   TUN       read while buffers are free (at most read_budget a turn), each packet to the
//             datapath; writes (writev) at once, their results delivered after the turn's I/O.
//   UDP       recvmmsg into receive buffers (with the source, the local address and the GRO
//             segment size); the datapath's sends are queued and leave in one sendmmsg per
//             turn; a full socket buffer keeps them queued until EPOLLOUT.
//   signals   the signal pipe, as in the io_uring loop; the link watch (RunHooks) likewise.
//   streams   the UAPI socket and the metrics endpoint (EpollStreamServer).
//   timers    the wait's timeout: the earliest of the device's, the servers' and the heartbeat.
// A "completion" (a send's or a write's result) is never delivered inside the call that
// started the I/O: the datapath is not re-entered. Shutdown completes whatever is queued with
// -ECANCELED and closes the connections: nothing is in flight after it.
#pragma once

#include <sys/socket.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "daemon/backend/epoll/packet_pool.hpp"
#include "daemon/backend/io_backend.hpp"
#include "daemon/backend/scope_index.hpp"
#include "daemon/backend/timed_hooks.hpp"
#include "daemon/backend/udp_socket.hpp"
#include "daemon/datapath/datapath.hpp"
#include "daemon/datapath/udp_cmsg.hpp"
#include "util/log.hpp"
#include "util/signal_pipe.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::daemon {

namespace control {
class MetricsText;
}
class EpollStreamServer;
class EpollTcp;

// O_NONBLOCK on `fd`: every file of the readiness loop is.
util::Result<void> set_nonblocking(int fd);

struct EpollCounters {
    std::uint64_t tun_reads = 0, udp_receive_calls = 0, udp_send_calls = 0;
    std::uint64_t udp_send_blocked = 0;  // sendmmsg calls that found the socket buffer full
    std::uint64_t truncated = 0, tun_read_errors = 0, udp_recv_errors = 0;
    std::uint64_t tun_write_errors = 0, wakeups = 0;
};

class EpollLoop final : public IoBackend, public TunPort, public NetPort, public ScopeIndex {
  public:
    // The Loop owns the UDP socket (a new listen port replaces it); the other fds stay the
    // caller's and must outlive the Loop.
    static util::Result<std::unique_ptr<EpollLoop>> create(const LoopParams& params, int tun_fd,
                                                           UdpSocket udp, util::SignalPipe& signals,
                                                           TcpSetup tcp = {},
                                                           ControlSetup control = {},
                                                           MetricsSetup metrics = {});
    ~EpollLoop() override;

    // IoBackend
    MessageSink& sink() noexcept override { return *datapath_; }
    util::Result<RunEnd> run(Device& device, RunHooks hooks) override;
    void log_statistics() const override;

    // control::SocketSettings (epoll_control.cpp)
    std::uint16_t listen_port() const noexcept override { return udp_.port; }
    control::UapiError set_listen_port(std::uint16_t port) override;
    std::uint32_t fwmark() const noexcept override { return fwmark_; }
    control::UapiError set_fwmark(std::uint32_t mark) override;
    void forget_peer(Peer& peer) noexcept override;
    bool dials(const Peer& peer) const noexcept override;
    control::UapiError redial(const Peer& peer, const Endpoint& now) override;
    // interface_index: ScopeIndex

    // TunPort, NetPort (epoll_tun.cpp, epoll_udp.cpp)
    void recycle(std::uint16_t bid) noexcept override;
    bool write(std::uint32_t slot, std::uint16_t generation,
               std::span<const iovec> pieces) noexcept override;
    bool send_udp(std::uint32_t head, unsigned count) noexcept override;
    void recycle_rx(std::uint16_t bid) noexcept override;

    // For the loop's parts (EpollStreamServer, EpollTcp).
    const Now& now() const noexcept { return now_; }
    bool stopping() const noexcept { return stopping_; }
    int epoll_fd() const noexcept { return epoll_.get(); }
    int tun_fd() const noexcept { return tun_fd_; }
    const LoopParams& params() const noexcept { return params_; }
    Datapath& datapath() noexcept { return *datapath_; }
    // A TUN write failed with `error` (an errno): logged (rate-limited), counted where
    // `count` (TunWrites counts the packets its writes lose), and the TUN gone (EBADFD) stops
    // the loop.
    void tun_write_failed(int error, bool count) noexcept;

  private:
    // What an epoll event's data names: the kind, a server index, a connection id.
    enum class Source : std::uint8_t { tun = 1, udp, signal, stream, tcp, link };

    // A result waiting to be handed to the datapath after the turn's I/O.
    struct Done {
        bool udp;  // a UDP send batch, else a TUN write
        std::uint32_t slot;
        std::uint16_t generation;
        std::uint16_t count;
        int result;
    };
    struct QueuedSend {
        std::uint32_t head;
        std::uint16_t generation, count;
    };

    EpollLoop(const LoopParams& params, UdpSocket udp, int tun_fd, int signal_fd);
    util::Result<void> setup(TcpSetup tcp, ControlSetup control, MetricsSetup metrics);
    void make_buffers();
    util::Result<void> watch(int fd, std::uint32_t events, std::uint64_t data);

    void turn(const epoll_event* events, int n) noexcept;
    void dispatch(const epoll_event& event) noexcept;
    void read_tun() noexcept;
    void tun_read_failed(int error) noexcept;
    void stop_for_tun() noexcept;
    void receive_udp() noexcept;
    // The i-th received datagram to the datapath (or dropped, truncated).
    void hand_over(unsigned i) noexcept;
    void on_signal() noexcept;
    // The link watch's datagrams to their hook (an empty one after an overrun).
    void on_link() noexcept;
    // Sends what send_udp() queued, in sendmmsg calls, until done or the socket is full.
    void send_queued() noexcept;
    QueuedSend queued(std::size_t i) const noexcept;  // the i-th waiting send
    // Flushes the datapath, sends, and delivers results until nothing is left to do.
    void settle() noexcept;
    void deliver_done() noexcept;
    void set_udp_writable_wait(bool on) noexcept;
    // Level-triggered, a readable TUN or socket with no free buffer would wake every wait:
    // its interest is dropped until buffers are back (resume_reads, after each settle).
    void pause_tun() noexcept;
    void pause_udp() noexcept;
    void resume_reads() noexcept;
    void update_udp_interest() noexcept;
    // Fills the receive vector with free buffers; how many.
    unsigned prepare_receive() noexcept;
    Nanos next_wait() const noexcept;
    void start_serving();
    void stop_and_drain(unsigned& cancelled) noexcept;
    void reload() noexcept;
    std::optional<std::string> reload_through(control::DeviceConfig& config);
    void write_metrics(control::MetricsText& m) const;

    LoopParams params_;
    UdpSocket udp_;
    int tun_fd_, signal_fd_;
    util::UniqueFd epoll_;
    std::uint32_t fwmark_ = 0;
    std::unique_ptr<PacketPool> tun_buffers_, udp_buffers_;
    std::unique_ptr<Datapath> datapath_;
    std::array<std::unique_ptr<EpollStreamServer>, 2> servers_;
    std::unique_ptr<EpollTcp> tcp_;
    std::string metrics_interface_;
    // Pre-sized at setup: nothing on the data path allocates.
    std::vector<Done> done_;
    std::vector<QueuedSend> udp_queue_;  // circular, as large as the transmit slots
    std::size_t udp_queue_head_ = 0, udp_queued_ = 0;
    std::vector<mmsghdr> send_vec_;
    std::vector<mmsghdr> recv_vec_;
    std::vector<std::uint16_t> recv_bids_;
    std::vector<sockaddr_in6> recv_names_;
    struct alignas(cmsghdr) Control {
        std::uint8_t bytes[udp_control_space];
    };
    std::vector<Control> recv_controls_;
    std::vector<iovec> recv_iovs_;
    bool udp_waiting_writable_ = false;
    bool tun_paused_ = false, udp_paused_ = false;
    bool work_left_ = false;  // settle() stopped at its bound with work queued
    RunHooks hooks_;
    Device* device_ = nullptr;
    Now now_{};
    TimedHooks timed_;
    StopReason stop_reason_ = StopReason::signal;
    bool stopping_ = false;
    // Per source, so one cannot hide another.
    util::log::RateLimit tun_log_limit_{1, 5}, udp_log_limit_{1, 5};
    EpollCounters counters_;
};

}  // namespace ringtun::daemon
