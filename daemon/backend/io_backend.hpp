// What the composition root (cli/serve) needs of a backend, and what it hands one. A backend
// owns the I/O — the TUN, the UDP socket, the TCP sockets, the UAPI socket, the signal pipe,
// the clock — and drives the sans-IO engine through the datapath, the transport and the UAPI
// (daemon/control); the io_uring loop (uring/loop) is one. A second one implements this and
// the ports (datapath/ports.hpp, transport/tcp_transport.hpp) without touching the engine,
// the datapath or the transport.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "daemon/control/device_config.hpp"
#include "daemon/datapath/offloads.hpp"
#include "daemon/engine/device.hpp"
#include "daemon/transport/tcp_transport.hpp"
#include "ring/ring.hpp"
#include "util/result.hpp"

namespace ringtun::daemon {

// The [ring] tunables after defaults for the running kernel were applied.
struct LoopParams {
    unsigned entries = 1024;
    bool tun_read_multishot = true;
    unsigned tun_rx_slots = 8;  // single reads in flight when not multishot
    unsigned udp_rx_slots = 0;  // buffers in the UDP receive ring (power of two); 0: by offloads
    unsigned tx_slots = 512;    // sends in flight
    unsigned sqpoll_idle_ms = 0;
    std::size_t mtu = 1420;
    unsigned tcp_rx_buffers = 8;  // per TCP connection (power of two)
    unsigned tcp_max_connections = 256;
    // Not a configuration key: the preferred mode (the ring falls back where the kernel
    // refuses it); coop where a kernel or a test needs it.
    ring::TaskRun taskrun = ring::TaskRun::defer;
    Offloads offloads;  // what the TUN and the UDP socket agreed to (cli/offloads)
    // Whether the configuration leaves any offload on: the sizes must then hold for whatever
    // the kernel grants at start.
    bool may_offload = false;
};

// The TCP transport's sockets: a listener (or none) and the endpoints of peers we dial.
struct TcpSetup {
    int listener = -1;
    std::vector<DialTarget> dial;
    // A peer will be dialed whose endpoint is not known yet (a host name still to resolve):
    // the transport runs from the start, as it cannot start later.
    bool dial_later = false;
    bool enabled() const noexcept { return listener >= 0 || !dial.empty() || dial_later; }
};

// Why run() returned. What each means for the exit status is the caller's: a TUN deleted is
// the normal end under wg-quick (`wg-quick down`), a failure under a supervisor.
enum class StopReason : std::uint8_t {
    signal,              // SIGTERM or SIGINT
    tun_gone,            // the TUN's interface was deleted
    control_socket_gone  // the UAPI socket file was deleted (wireguard-go's convention)
};

struct RunEnd {
    StopReason reason = StopReason::signal;
    unsigned cancelled = 0;  // requests cancelled at shutdown
};

// What the caller is told while the backend runs, on the loop thread.
struct RunHooks {
    // Once, when shutdown begins.
    std::function<void()> on_stopping;
    // SIGHUP, or `reload=1` on the control socket: apply the configuration file through
    // `config` (as a set request would); returns the error text, or nullopt once applied.
    // Without it a reload is refused (logged for SIGHUP); it never stops the daemon.
    std::function<std::optional<std::string>(control::DeviceConfig& config, const Now& now)>
        on_reload;
    // Every `heartbeat` (0: never), from the loop's own deadline: proof that the loop turns
    // (systemd's watchdog) and a moment to refresh the status.
    Nanos heartbeat = 0;
    std::function<void(const Now& now)> on_heartbeat;
    // Endpoint host names, looked up off the loop (backend/name_resolver): every `names_every`
    // (0: never), and as soon as the signal pipe carries SignalPipe::kResolved, with a
    // DeviceConfig of its own (as a reload gets), to apply the addresses found and ask for the
    // lookups due. Must not block and must not throw.
    Nanos names_every = 0;
    std::function<void(control::DeviceConfig& config, const Now& now)> on_names;
    // The TUN's link (tun::LinkWatch, owned by the caller; < 0: not watched): the loop keeps a
    // read on it and hands on_link each datagram, or an empty span when the socket overran
    // and news were lost. Runs on the loop thread; must not throw.
    int link_watch = -1;
    std::function<void(std::span<const std::uint8_t> datagram)> on_link;
};

// The UAPI socket the backend serves (`wg`), and the watch that tells it the file is gone.
struct ControlSetup {
    int listener = -1;  // < 0: none
    int watch = -1;     // inotify fd (ControlSocket::watch), or < 0
    std::function<bool()> still_ours;
};

// The metrics endpoint the backend serves (Prometheus), if any.
struct MetricsSetup {
    int listener = -1;      // < 0: none
    std::string interface;  // labels every sample
};

class IoBackend {
  public:
    virtual ~IoBackend() = default;
    // Where the device builds the messages it originates.
    virtual MessageSink& sink() noexcept = 0;
    // Runs until SIGTERM/SIGINT, the TUN's loss or the control socket's deletion (the reason
    // is returned), or a failure it cannot survive (an error).
    virtual util::Result<RunEnd> run(Device& device, RunHooks hooks) = 0;
    // Counters of every path, for SIGUSR1 and the end of a run.
    virtual void log_statistics() const = 0;
};

}  // namespace ringtun::daemon
