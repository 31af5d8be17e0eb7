// `ringtun probe [--json]`: what this host offers ringtun and what ringtun will use — the
// kernel, whether io_uring is permitted (and why not), the io_uring features and operations
// the loop relies on, the TUN and UDP offloads, the [ring] defaults for this kernel and the
// backend "auto" takes. Gathering does the I/O (through ring/, tun/ and the backend's
// sockets); rendering is pure, so tests can feed it any report.
#pragma once

#include <optional>
#include <string>

#include "daemon/backend/io_backend.hpp"
#include "daemon/cli/backend_choice.hpp"
#include "ring/availability.hpp"
#include "ring/features.hpp"
#include "tun/offload_probe.hpp"
#include "util/result.hpp"

namespace ringtun::daemon {

// The [ring] section as `run` would resolve it with no [ring] keys, and the choices it makes
// for this kernel that the section does not show.
struct RingDefaults {
    LoopParams params;
    bool tun_blocking = false;
    ring::TaskRun taskrun = ring::TaskRun::none;  // the mode Ring::create tries first
};

struct ProbeReport {
    std::string release;                        // uname -r
    std::optional<ring::KernelVersion> kernel;  // parsed from `release`
    ring::IoUringAvailability io_uring;
    std::optional<ring::Features> features;  // when io_uring is usable and probed
    std::string features_error;              // why not, when usable
    std::optional<tun::TunOffloadSupport> tun;
    std::string tun_error;  // why `tun` is unknown ("needs CAP_NET_ADMIN", ...)
    std::optional<bool> udp_gso;
    std::optional<bool> udp_gro;
    std::string udp_error;             // why the UDP offloads are unknown
    std::optional<RingDefaults> ring;  // when the io_uring backend would run
    BackendChoice backend;
};

// Probes this host. Fails only when the kernel's release cannot be read (uname); anything
// else that cannot be probed is reported as unknown, with why.
util::Result<ProbeReport> gather_probe();

// Aligned text, a line per finding, for people.
std::string probe_text(const ProbeReport& r);
// One JSON object with the keys documented in ringtun(8).
std::string probe_json(const ProbeReport& r, const char* version);

// The command: the report on standard output; exit 0 (also when io_uring is refused: that is
// a finding), 1 if nothing could be probed.
int probe_command(bool json);

}  // namespace ringtun::daemon
