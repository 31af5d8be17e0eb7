// `ringtun probe`: gathering the report; see probe.hpp. The renderers are probe_text.cpp and
// probe_json.cpp.
#include "daemon/cli/probe.hpp"

#include <sys/utsname.h>

#include <cerrno>
#include <cstdio>

#include "daemon/backend/udp_socket.hpp"
#include "daemon/cli/settings.hpp"
#include "daemon/cli/version.hpp"

namespace ringtun::daemon {

namespace {

// A TUN needs CAP_NET_ADMIN: say so rather than give the errno alone.
std::string tun_unknown(const util::Error& e) {
    if (e.sys_errno == EPERM || e.sys_errno == EACCES) return "needs CAP_NET_ADMIN";
    return e.to_string();
}

void probe_udp(ProbeReport& r) {
    auto udp = UdpSocket::open(0);
    if (!udp) {
        r.udp_error = udp.error().to_string();
        return;
    }
    r.udp_gso = udp->gso_available();
    r.udp_gro = udp->enable_gro().has_value();
}

ring::TaskRun first_taskrun(const ring::Features& f) {
    if (f.single_issuer_defer_taskrun) return ring::TaskRun::defer;
    if (f.coop_taskrun) return ring::TaskRun::coop;
    return ring::TaskRun::none;
}

// The [ring] defaults as run resolves them for an empty [ring] and the default MTU.
std::optional<RingDefaults> ring_defaults(const ring::Features& f) {
    RingDefaults d;
    auto params = loop_params(conf::RingTunables{}, 1420, f, d.tun_blocking);
    if (!params) return std::nullopt;  // the backend choice says why
    d.params = *params;
    d.taskrun = first_taskrun(f);
    return d;
}

}  // namespace

util::Result<ProbeReport> gather_probe() {
    ProbeReport r;
    utsname u{};
    if (::uname(&u) != 0) return util::fail(util::sys_error("uname", errno));
    r.release = u.release;
    r.kernel = ring::parse_kernel_release(r.release);

    r.io_uring = ring::check_io_uring();
    util::Result<ring::Features> features =
        util::fail(util::make_error("io_uring", "not permitted"));
    if (r.io_uring.usable) {
        features = ring::probe_features();
        if (features)
            r.features = *features;
        else
            r.features_error = features.error().to_string();
    }
    if (auto tun = tun::probe_tun_offloads())
        r.tun = *tun;
    else
        r.tun_error = tun_unknown(tun.error());
    probe_udp(r);
    r.backend = choose_backend(r.io_uring, features);
    if (r.backend.backend == Backend::io_uring) r.ring = ring_defaults(*r.features);
    return r;
}

int probe_command(bool json) {
    auto report = gather_probe();
    if (!report) {
        std::fprintf(stderr, "ringtun: probe: %s\n", report.error().to_string().c_str());
        return 1;
    }
    const std::string out = json ? probe_json(*report, version()) : probe_text(*report);
    std::fputs(out.c_str(), stdout);
    if (json) std::fputc('\n', stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace ringtun::daemon
