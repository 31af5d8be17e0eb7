// The io_uring backend: one loop that owns the TUN reads and writes, the UDP socket, the TCP
// sockets (through TcpIo) and the signal pipe, reads the clock, and drives the Datapath (and
// through it the Device) with what completes. What happens to a packet is the Datapath's;
// this file and its parts only arm requests and take their completions.
//
// Requests and their buffers:
//   tun_read        one multishot read (or a chain of tun_rx_slots reads) on the TUN, buffers
//                   from the TUN group; the packet is sealed where it lies and sent from the
//                   same buffer, which returns to the ring when the send completes.
//   udp_recv        one multishot recvmsg, buffers from the UDP group; data is opened in place
//                   and written to the TUN from the same buffer (tun_write).
//   udp_send        sendmsg of a batch the Datapath prepared in its head transmit slot.
//   tun_write       write of an opened packet; carries the UDP buffer id.
//   tun_write_copy  write of a packet that came over TCP, from a copy buffer.
//   signal          read of the signal pipe: 'T' stops the loop, 'U' prints statistics, 'H'
//                   reloads, 'N' runs the endpoint names hook.
//   link_watch      read of the caller's link watch (RunHooks::link_watch), each datagram
//                   to its hook.
//   tcp_*           the TCP transport's accept, connect, recv and send (tcp_io).
//   stream_*        accept, recv and send of the UAPI socket and the metrics endpoint
//                   (stream_server), and control_watch of the UAPI socket's file.
// user_data is {kind, generation, slot, buffer id}; a completion returns its slot and buffer
// on every path. Failed completions go to errors.cpp. The wait's timeout is the earliest of
// the device's next deadline and the transport's.
//
// Shutdown: nothing new is armed (new_request refuses), everything is cancelled, and the loop
// reaps until nothing is in flight; a drain that does not finish keeps its buffers.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/backend/io_backend.hpp"
#include "daemon/backend/scope_index.hpp"
#include "daemon/backend/timed_hooks.hpp"
#include "daemon/backend/udp_socket.hpp"
#include "daemon/control/device_config.hpp"
#include "daemon/datapath/copy_buffers.hpp"
#include "daemon/datapath/datapath.hpp"
#include "daemon/engine/device.hpp"
#include "daemon/transport/backoff.hpp"
#include "ring/buffer_ring.hpp"
#include "ring/ring.hpp"
#include "tun/link_watch.hpp"
#include "util/log.hpp"
#include "util/result.hpp"
#include "util/signal_pipe.hpp"

namespace ringtun::daemon {

struct LoopCounters {
    std::uint64_t tun_write_packets = 0, tun_write_bytes = 0;
    std::uint64_t rearm_eagain = 0, rearm_enobufs = 0, rearm_other = 0;
    std::uint64_t tun_write_errors = 0, udp_recv_errors = 0;
    std::uint64_t truncated = 0, stale_completions = 0;
    std::uint64_t tcp_to_tun_no_buffer = 0;  // a packet received over TCP found no copy buffer
    std::uint64_t refused_while_stopping = 0, no_sqe = 0;  // new_request() said no
};

class TcpIo;
class StreamServer;
namespace control {
class MetricsText;
}
namespace loop_detail {
enum class Kind : std::uint8_t;  // loop_internal.hpp
}

// The io_uring backend: TunPort and NetPort for the datapath, TcpIo for the transport,
// StreamServers for the UAPI socket and the metrics endpoint, and the socket settings for the
// UAPI.
class Loop final : public IoBackend, public TunPort, public NetPort, public ScopeIndex {
  public:
    // The parameters as the loop will use them (buffer counts rounded to powers of two), or an
    // error when the completion queue `entries` gives cannot hold every completion that can
    // be pending at once. No I/O: `ringtun check` asks it too.
    static util::Result<LoopParams> size(const LoopParams& params, bool tcp_enabled);
    // Checks the slot counts against the ring size, creates the ring, buffer rings and slots,
    // and registers the files. The Loop owns the UDP socket (a new listen port replaces it);
    // the other fds stay the caller's and must outlive the Loop.
    static util::Result<std::unique_ptr<Loop>> create(const LoopParams& params, int tun_fd,
                                                      UdpSocket udp, util::SignalPipe& signals,
                                                      TcpSetup tcp = {}, ControlSetup control = {},
                                                      MetricsSetup metrics = {});
    ~Loop() override;

    // IoBackend
    MessageSink& sink() noexcept override { return *datapath_; }
    util::Result<RunEnd> run(Device& device, RunHooks hooks) override;
    void log_statistics() const override;
    // The loop's own counters (loop_metrics.cpp), after the device's: traffic on the UDP
    // socket and the TUN writes, ring re-arms, offload fallbacks, errors, the TCP transport.
    void write_metrics(control::MetricsText& m) const;

    // control::SocketSettings (socket_settings.cpp)
    std::uint16_t listen_port() const noexcept override { return udp_.port; }
    control::UapiError set_listen_port(std::uint16_t port) override;
    std::uint32_t fwmark() const noexcept override { return fwmark_; }
    control::UapiError set_fwmark(std::uint32_t mark) override;
    void forget_peer(Peer& peer) noexcept override;
    bool dials(const Peer& peer) const noexcept override;
    control::UapiError redial(const Peer& peer, const Endpoint& now) override;
    // interface_index: ScopeIndex

    // TunPort, NetPort
    void recycle(std::uint16_t bid) noexcept override;
    bool write(std::uint32_t slot, std::uint16_t generation,
               std::span<const iovec> pieces) noexcept override;
    bool send_udp(std::uint32_t head, unsigned count) noexcept override;
    void recycle_rx(std::uint16_t bid) noexcept override;

    const LoopCounters& counters() const noexcept { return counters_; }

    // For the loop's own parts (TcpIo): what they share with it.
    const LoopParams& params() const noexcept { return params_; }
    ring::Ring& ring() noexcept { return *ring_; }
    Datapath& datapath() noexcept { return *datapath_; }
    const Now& now() const noexcept { return now_; }
    bool stopping() const noexcept { return stopping_; }
    // A submission entry for new work, or null: none while stopping (nothing may be armed
    // after the cancel-all the drain waits for), or none free. Counted either way; the caller
    // undoes what it prepared.
    io_uring_sqe* new_request() noexcept;
    // Copies `packet` (which came over TCP) into a copy buffer and writes it to the TUN.
    void write_copy_to_tun(std::span<const std::uint8_t> packet) noexcept;

  private:
    Loop(const LoopParams& params, UdpSocket udp);
    util::Result<void> setup(int tun_fd, util::SignalPipe& signals, TcpSetup tcp,
                             ControlSetup control, MetricsSetup metrics);

    // One multishot read, or (slots mode) a chain of tun_rx_slots hard-linked reads: reads
    // running side by side on one TUN complete out of order and reorder the packets, so the
    // chain's reads run one after another, each taking the next packet as it arrives.
    void arm_tun_reads() noexcept;
    void arm_udp_recv() noexcept;
    void arm_signal_read() noexcept;
    void arm_link_read() noexcept;
    void dispatch(const io_uring_cqe& cqe) noexcept;
    void on_tun_read(const io_uring_cqe& cqe) noexcept;
    void on_udp_recv(const io_uring_cqe& cqe) noexcept;
    void on_udp_sent(const io_uring_cqe& cqe) noexcept;
    void on_tun_written(const io_uring_cqe& cqe) noexcept;
    void on_signal(const io_uring_cqe& cqe) noexcept;
    // Any completion of the link watch's read, failed ones too (backend/link_reads decides).
    void on_link(const io_uring_cqe& cqe) noexcept;
    void on_tun_written_copy(const io_uring_cqe& cqe) noexcept;
    void dispatch_tcp(loop_detail::Kind kind, const io_uring_cqe& cqe) noexcept;
    void dispatch_stream(loop_detail::Kind kind, const io_uring_cqe& cqe) noexcept;
    // What each stream server's connections get: the UAPI over the device, or the metrics.
    void start_serving();
    // SIGHUP: a reload through a DeviceConfig of its own.
    void reload() noexcept;
    // A reload through `config`, at the current time: what SIGHUP and `reload=1` run.
    std::optional<std::string> reload_through(control::DeviceConfig& config);
    void end_tun_read(const io_uring_cqe& cqe) noexcept;
    // errors.cpp: whether a completion failed, and what that means for its kind.
    static bool failed_completion(loop_detail::Kind kind, const io_uring_cqe& cqe) noexcept;
    void on_error(loop_detail::Kind kind, const io_uring_cqe& cqe) noexcept;
    // A TUN write failed: the TUN gone stops the loop; others are logged (rate-limited) and,
    // where `count`, counted here (TunWrites counts its own).
    void tun_write_failed(int error, bool count) noexcept;
    void refresh_now() noexcept;
    // Stops the loop for a failure of its own (the signal pipe broke): logged, drained, and
    // run() returns an error.
    void fail(const char* why) noexcept;
    // Stops the loop for `reason` (the TUN or the control socket gone), logged as `why`.
    void stop(StopReason reason, const char* why) noexcept;
    // An unknown error ended a read path: it is re-armed after a growing delay, not at once.
    void back_off(Backoff& b, Nanos& rearm_at, const char* path, int error) noexcept;
    void shutdown_and_drain(unsigned& cancelled) noexcept;
    // One turn's requests: the signal read, the receives and reads due, the transport's and
    // the control socket's.
    void arm_turn() noexcept;
    // How long the next wait may last: until the earliest deadline, at most max_wait.
    Nanos next_wait() const noexcept;

    LoopParams params_;
    UdpSocket udp_;
    int udp_family_;
    std::uint32_t fwmark_ = 0;
    std::unique_ptr<ring::Ring> ring_;
    std::unique_ptr<ring::BufferRing> tun_buffers_;
    std::unique_ptr<ring::BufferRing> udp_buffers_;
    std::unique_ptr<Datapath> datapath_;
    std::unique_ptr<CopyBuffers> copies_;  // only with the TCP transport
    std::unique_ptr<TcpIo> tcp_;
    // By index (server_control, server_metrics); null where not configured.
    std::array<std::unique_ptr<StreamServer>, 2> servers_;
    std::string metrics_interface_;  // the label on every sample
    RunHooks hooks_;
    StopReason stop_reason_ = StopReason::signal;
    TimedHooks timed_;
    msghdr udp_recv_msg_{};  // template of the multishot recvmsg: name and control sizes
    char signal_byte_ = 0;
    bool signal_armed_ = false;
    bool link_armed_ = false;
    alignas(8) std::array<std::uint8_t, tun::LinkWatch::kDatagramBytes> link_buf_{};
    unsigned tun_reads_in_flight_ = 0;
    bool udp_recv_armed_ = false;
    bool udp_recv_cancelled_ = false;  // a new listen port: the old socket's receive ends
    bool stopping_ = false;
    Device* device_ = nullptr;
    Now now_{};
    util::log::RateLimit error_log_limit_{1, 5};  // errors the kernel can repeat per packet
    const char* failure_ = nullptr;               // why the loop stopped on its own, if it did
    static constexpr BackoffParams rearm_backoff{
        .base = crypto::millis_ns(10), .cap = crypto::seconds_ns(1), .jitter_percent = 0};
    Backoff tun_rearm_backoff_{rearm_backoff}, udp_rearm_backoff_{rearm_backoff};
    Nanos tun_rearm_at_ = 0, udp_rearm_at_ = 0;
    LoopCounters counters_;
};

}  // namespace ringtun::daemon
