#include "daemon/cli/backend_plan.hpp"

#include "util/log.hpp"  // RT_LOG_NOTICE

namespace ringtun::daemon {

namespace {

// What the epoll loop takes from [ring]: the slot counts; the io_uring keys are named as
// having no effect, so a file written for one backend is not silently half-used by another.
util::Result<BackendPlan> plan_epoll(const Settings& s, std::string why) {
    const conf::RingTunables& r = s.ring;
    if (r.entries || r.tun_read || r.tun_rx_slots || r.tun_blocking || r.sqpoll_idle_ms != 0 ||
        r.tcp_rx_buffers)
        RT_LOG_NOTICE(
            "[ring] entries, tun_read, tun_rx_slots, tun_blocking, sqpoll_idle_ms and "
            "tcp_rx_buffers have no effect on the epoll backend");
    BackendPlan plan;
    plan.epoll = true;
    plan.why = std::move(why);
    auto kernel = ring::running_kernel();
    if (!kernel) return util::fail(kernel.error());
    plan.kernel = *kernel;
    plan.params.mtu = s.mtu;
    plan.params.tx_slots = r.tx_slots.value_or(512);
    plan.params.udp_rx_slots = r.udp_rx_slots.value_or(0);
    plan.params.tcp_max_connections = r.tcp_max_connections.value_or(256);
    plan.params.tun_read_multishot = false;
    return plan;
}

}  // namespace

util::Result<BackendPlan> plan_backend(const Settings& s) {
    const conf::Backend wanted = s.ring.backend;
    if (wanted == conf::Backend::epoll) return plan_epoll(s, {});
    const ring::IoUringAvailability availability = ring::check_io_uring();
    if (!availability.usable && wanted == conf::Backend::io_uring)
        return util::fail(util::make_error("[ring] backend = \"io_uring\"",
                                           "io_uring is refused here: " + availability.reason));
    auto features = availability.usable ? ring::probe_features()
                                        : util::Result<ring::Features>(util::fail(
                                              util::make_error("io_uring", availability.reason)));
    if (wanted == conf::Backend::automatic) {
        // The rule `ringtun probe` reports, so the probe predicts the daemon.
        BackendChoice choice = choose_backend(availability, features);
        if (choice.backend == Backend::epoll) return plan_epoll(s, std::move(choice.reason));
    }
    if (!features) return util::fail(features.error());
    BackendPlan plan;
    plan.kernel = features->kernel;
    plan.features = *features;
    auto params = ring_params(s, *features, &plan.tun_blocking);
    if (!params) return util::fail(params.error());
    plan.params = *params;
    return plan;
}

}  // namespace ringtun::daemon
