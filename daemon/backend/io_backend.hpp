// What the composition root (cli/run) needs of a backend, and what it hands one. A backend
// owns the I/O — the TUN, the UDP socket, the TCP sockets, the signal pipe, the clock — and
// drives the sans-IO engine through the datapath and the transport; the io_uring loop
// (uring/loop) is one. A second one implements this and the ports (datapath/ports.hpp,
// transport/tcp_transport.hpp) without touching the engine, the datapath or the transport.
#pragma once

#include <functional>
#include <vector>

#include "daemon/datapath/offloads.hpp"
#include "daemon/engine/device.hpp"
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
    std::vector<Endpoint> dial;
    bool enabled() const noexcept { return listener >= 0 || !dial.empty(); }
};

class IoBackend {
  public:
    virtual ~IoBackend() = default;
    // Where the device builds the messages it originates.
    virtual MessageSink& sink() noexcept = 0;
    // Runs until SIGTERM/SIGINT, or a loss it cannot survive (the TUN's); returns how many
    // requests were cancelled at shutdown. `on_stopping` runs once, when shutdown begins.
    virtual util::Result<unsigned> run(Device& device, std::function<void()> on_stopping) = 0;
    // Counters of every path, for SIGUSR1 and the end of a run.
    virtual void log_statistics() const = 0;
};

}  // namespace ringtun::daemon
