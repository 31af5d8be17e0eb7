#include "daemon/cli/serve.hpp"

#include <unistd.h>

#include <cstdlib>
#include <optional>

#include "crypto/aead.hpp"
#include "crypto/x25519.hpp"
#include "daemon/backend/control_socket.hpp"
#include "daemon/backend/epoll/epoll_loop.hpp"
#include "daemon/backend/metrics_socket.hpp"
#include "daemon/backend/tcp_socket.hpp"
#include "daemon/backend/udp_socket.hpp"
#include "daemon/backend/uring/loop.hpp"
#include "daemon/cli/backend_plan.hpp"
#include "daemon/cli/link_restore.hpp"
#include "daemon/cli/name_lookups.hpp"
#include "daemon/cli/offloads.hpp"
#include "daemon/cli/privileges.hpp"
#include "daemon/cli/reload.hpp"
#include "daemon/cli/routes.hpp"
#include "daemon/engine/device.hpp"
#include "daemon/engine/statistics.hpp"
#include "daemon/service/notify.hpp"
#include "ring/features.hpp"
#include "tun/netlink.hpp"
#include "tun/tun_device.hpp"
#include "util/log.hpp"
#include "util/signal_pipe.hpp"

namespace ringtun::daemon {

namespace {

int report(const util::Error& e) {
    RT_LOG_ERROR("%s", e.to_string().c_str());
    return 1;
}

// An inherited TUN keeps whatever header it was opened with; one created here gets the
// virtio-net header unless every TUN offload is off.
util::Result<tun::TunDevice> open_tun(const ServeOptions& o, bool blocking) {
    auto inherited = tun::TunDevice::adopt_from_env(o.wg_mode ? "WG_TUN_FD" : tun::kTunFdEnv);
    if (!inherited) return util::fail(inherited.error());
    if (*inherited) {
        if (auto r = (*inherited)->set_blocking(blocking); !r) return util::fail(r.error());
        return std::move(**inherited);
    }
    return tun::TunDevice::create(o.settings.interface_name, blocking,
                                  wants_vnet_hdr(o.settings.offload));
}

// Under wg-quick the link is wg-quick's: it sets the addresses, the MTU and the link up after
// the daemon started, and ringtun must not fight it. Otherwise the file says it all, and the
// link is watched from just before it goes up (cli/link_restore; the kernel queues the news
// until the loop reads them), so that no later down and up is missed: the watch returned, or
// none (under wg-quick, or when it cannot be had: logged, the daemon runs without).
util::Result<std::optional<tun::LinkWatch>> configure_link(const tun::TunDevice& tun,
                                                           const ServeOptions& o,
                                                           tun::RouteSocket& nl) {
    if (auto r = nl.set_mtu(tun.ifindex(), o.settings.mtu); !r) return util::fail(r.error());
    // Kernel WireGuard's link settings; a kernel without IPv6 or tc refuses them, harmlessly.
    if (auto r = nl.set_no_link_local(tun.ifindex()); !r)
        RT_LOG_WARN("%s: %s", tun.name().c_str(), r.error().to_string().c_str());
    if (auto r = nl.set_no_queue(tun.ifindex()); !r)
        RT_LOG_WARN("%s: %s", tun.name().c_str(), r.error().to_string().c_str());
    if (o.wg_mode) return std::optional<tun::LinkWatch>();
    if (auto r =
            add_addresses(nl, tun.ifindex(), tun.name(), o.settings.addresses, OnFailure::stop);
        !r)
        return util::fail(r.error());
    auto watch = tun::LinkWatch::open();
    if (!watch)
        RT_LOG_WARN("%s: the link is not watched: %s", tun.name().c_str(),
                    watch.error().to_string().c_str());
    if (auto r = nl.set_up(tun.ifindex()); !r) return util::fail(r.error());
    if (!watch) return std::optional<tun::LinkWatch>();
    return std::optional<tun::LinkWatch>(std::move(*watch));
}

// What a run opens besides the TUN and the UDP socket (which the loop owns): they must
// outlive the loop.
struct Sockets {
    std::optional<ControlSocket> control;
    util::UniqueFd control_watch;
    std::optional<TcpListener> tcp_listener;
    util::UniqueFd metrics;
};

// The UAPI socket (made, or under wireguard-go's command line inherited in WG_UAPI_FD) and
// the watch on its file; none if the configuration turned it off.
util::Result<ControlSetup> open_control(const ServeOptions& o, const std::string& ifname,
                                        Sockets& out) {
    if (!o.settings.control_socket) return ControlSetup{};
    const char* inherited = o.wg_mode ? std::getenv("WG_UAPI_FD") : nullptr;
    auto s = inherited != nullptr
                 ? ControlSocket::adopt(std::atoi(inherited), control_socket_dir, ifname)
                 : ControlSocket::open(control_socket_dir, ifname);
    if (!s) return util::fail(s.error());
    // The user the daemon becomes owns its socket file (before the watch: no event for it).
    if (o.drop && o.drop->switches_user())
        if (auto r = s->give_to(o.drop->user->uid, o.drop->user->gid); !r)
            return util::fail(r.error());
    auto watch = s->watch();
    if (!watch) return util::fail(watch.error());
    out.control.emplace(std::move(*s));
    out.control_watch = std::move(*watch);
    return ControlSetup{.listener = out.control->fd(),
                        .watch = out.control_watch.get(),
                        .still_ours = [&c = *out.control] { return c.still_ours(); }};
}

// The Prometheus endpoint, if the configuration asks for one.
util::Result<MetricsSetup> open_metrics(const Settings& settings, const std::string& ifname,
                                        Sockets& out) {
    if (!settings.metrics_listen) return MetricsSetup{};
    auto fd = open_metrics_listener(*settings.metrics_listen);
    if (!fd) return util::fail(fd.error());
    out.metrics = std::move(*fd);
    return MetricsSetup{.listener = out.metrics.get(), .interface = ifname};
}

// The TCP listener, and the peers we dial (those given by name once they resolve).
util::Result<TcpSetup> open_tcp(const Settings& settings, Sockets& out) {
    TcpSetup tcp;
    if (settings.listen_tcp_port) {
        auto l = TcpListener::open(*settings.listen_tcp_port);
        if (!l) return util::fail(l.error());
        out.tcp_listener = std::move(*l);
        tcp.listener = out.tcp_listener->fd.get();
    }
    for (const PeerSettings& p : settings.peers) {
        if (p.endpoint && p.endpoint->tcp) tcp.dial.push_back({*p.endpoint, p.public_key});
        if (!p.endpoint_name.empty() && p.transport == conf::Transport::tcp) tcp.dial_later = true;
    }
    return tcp;
}

util::Result<void> add_peers(Device& device, const Settings& s) {
    for (const PeerSettings& p : s.peers) {
        Peer* peer =
            device.add_peer(p.public_key, p.preshared_key, p.persistent_keepalive, p.endpoint);
        if (!peer) return util::fail(util::make_error(p.name, "duplicate public key"));
        for (const conf::Prefix& ip : p.allowed_ips)
            if (!device.add_allowed_ip(*peer, ip.family, ip.addr.data(), ip.length))
                return util::fail(util::make_error(p.name, "bad allowed IP " + ip.to_string()));
    }
    return {};
}

// A backend just made, its sockets marked for the default route's rules when there are some.
template <typename L>
util::Result<std::unique_ptr<IoBackend>> with_fwmark(util::Result<std::unique_ptr<L>> loop,
                                                     const std::optional<Routes>& routes) {
    if (!loop) return util::fail(loop.error());
    if (routes && routes->fwmark() != 0 &&
        (*loop)->set_fwmark(routes->fwmark()) != control::UapiError::none)
        return util::fail(
            util::make_error("fwmark", "cannot mark the sockets for the default route"));
    return std::unique_ptr<IoBackend>(std::move(*loop));
}

// What the end of a run means for the exit status.
// Under wg-quick a deleted TUN or socket file is how the interface is taken down; under a
// supervisor (`ringtun run`) it is a failure to restart from, not a stop to honour.
int exit_status(const RunEnd& end, const ServeOptions& o, const std::string& ifname) {
    if (end.reason == StopReason::signal || o.wg_mode) return 0;
    RT_LOG_ERROR("%s: stopping: its %s was deleted", ifname.c_str(),
                 end.reason == StopReason::tun_gone ? "TUN device" : "control socket file");
    return 1;
}

// systemd's status line: what `systemctl status` shows.
std::string status_text(const Device& device, const std::string& last_error) {
    std::size_t live = 0;
    for (const auto& p : device.peers())
        live += p->current ? 1 : 0;
    std::string s = "running; " + std::to_string(device.peers().size()) + " peers, " +
                    std::to_string(live) + " with a session";
    if (!last_error.empty()) s += "; last error: " + last_error;
    return s;
}

// The service manager's hooks: the watchdog kept from the loop's own heartbeat (every half
// interval; the status refreshed with it, or every 10 s without a watchdog), reloads that
// remember their error for the status.
void service_hooks(RunHooks& hooks, const ServeOptions& o, const Device& device, Routes* routes,
                   EndpointNames& names, std::string& last_error) {
    const std::uint64_t watchdog = watchdog_usec();
    if (watchdog != 0)
        hooks.heartbeat = static_cast<Nanos>(watchdog) * 1000 / 2;
    else if (std::getenv("NOTIFY_SOCKET") != nullptr)
        hooks.heartbeat = crypto::seconds_ns(10);
    hooks.on_heartbeat = [&device, &last_error, watchdog](const Now&) {
        notify_systemd((watchdog != 0 ? "WATCHDOG=1\nSTATUS=" : "STATUS=") +
                       status_text(device, last_error));
    };
    if (o.config_path.empty()) return;
    hooks.on_reload =
        [reloader = Reloader(o.config_path, o.settings, device,
                             {.routes = routes, .name_fixed = o.name_fixed, .names = &names}),
         &device, &last_error](control::DeviceConfig& config, const Now& now) mutable {
            auto error = reloader(config, now);
            last_error = error ? "reload: " + *error : std::string();
            notify_systemd("STATUS=" + status_text(device, last_error));
            return error;
        };
}

// Endpoint host names: looked up off the loop from the start (the configuration is loaded
// without them) and whenever a reload brings new ones; none under wireguard-go's command line.
void names_hooks(RunHooks& hooks, const ServeOptions& o, const Device& device, NameLookups& names) {
    if (o.config_path.empty()) return;
    names.policy().configure(o.settings.peers, uses_tcp(o.settings));
    hooks.names_every = crypto::seconds_ns(1);
    hooks.on_names = [&names, &device](control::DeviceConfig& config, const Now& now) {
        names.run(config, device, now);
    };
}

// The TUN's link watched from the loop, so that what a link down/up takes away comes back
// (cli/link_restore), if configure_link could watch it.
void link_hooks(RunHooks& hooks, std::optional<LinkRestore>& link) {
    if (!link) return;
    hooks.link_watch = link->fd();
    hooks.on_link = [&link](std::span<const std::uint8_t> d) { link->on_datagram(d); };
}

void log_up(const ServeOptions& o, const std::string& ifname, const Device& device,
            const Sockets& sockets, std::uint16_t udp_port, bool tun_blocking) {
    if (sockets.tcp_listener)
        RT_LOG_NOTICE("%s: TCP port %u", ifname.c_str(), sockets.tcp_listener->port);
    if (sockets.control)
        RT_LOG_NOTICE("%s: UAPI socket %s", ifname.c_str(), sockets.control->path().c_str());
    if (sockets.metrics)
        RT_LOG_NOTICE("%s: metrics at http://%s/metrics", ifname.c_str(),
                      o.settings.metrics_listen->to_string().c_str());
    const bool keyless = o.settings.private_key.is_zero();  // until `wg` gives one
    RT_LOG_NOTICE(
        "%s: up, public key %s, UDP port %u, MTU %u, %zu peers, TUN %s, ChaCha20-Poly1305 %s",
        ifname.c_str(),
        keyless ? "(none yet)" : crypto::key_to_base64(device.identity().public_key.span()).c_str(),
        udp_port, o.settings.mtu, o.settings.peers.size(),
        tun_blocking ? "blocking" : "non-blocking",
        crypto::AeadContext::avx512_supported() ? "AVX-512 (ringtun's)" : "OpenSSL");
}

// What the plan chose, in the log: io_uring's features, or why the epoll backend runs.
void log_plan(const BackendPlan& plan) {
    if (plan.features) ring::log_features(*plan.features);
    if (!plan.why.empty())
        RT_LOG_NOTICE("running the epoll backend: %s", plan.why.c_str());
    else if (plan.epoll)
        RT_LOG_NOTICE("running the epoll backend ([ring] backend = \"epoll\")");
}

// What the backend serves besides the TUN: the sockets (their fds in `sockets`, which must
// outlive the backend), with the offloads agreed with the TUN in the plan's parameters.
struct Opened {
    ControlSetup control;
    std::optional<UdpSocket> udp;
    TcpSetup tcp;
    MetricsSetup metrics;
};

util::Result<Opened> open_sockets(const ServeOptions& o, BackendPlan& plan, tun::TunDevice& tun,
                                  Sockets& sockets) {
    const Settings& settings = o.settings;
    Opened out;
    auto control = open_control(o, tun.name(), sockets);
    if (!control) return util::fail(control.error());
    out.control = std::move(*control);
    auto udp = UdpSocket::open(settings.listen_port.value_or(0));
    if (!udp) return util::fail(udp.error());
    auto offloads = negotiate_offloads(settings.offload, tun, *udp);
    if (!offloads) return util::fail(offloads.error());
    plan.params.offloads = *offloads;
    out.udp.emplace(std::move(*udp));
    auto tcp = open_tcp(settings, sockets);
    if (!tcp) return util::fail(tcp.error());
    out.tcp = std::move(*tcp);
    auto metrics = open_metrics(settings, tun.name(), sockets);
    if (!metrics) return util::fail(metrics.error());
    out.metrics = std::move(*metrics);
    return out;
}

// The backend the plan chose over the sockets, its sockets marked for the routes' rules.
util::Result<std::unique_ptr<IoBackend>> make_backend(const BackendPlan& plan, int tun_fd,
                                                      Opened opened, util::SignalPipe& signals,
                                                      const std::optional<Routes>& routes) {
    if (plan.epoll)
        return with_fwmark(EpollLoop::create(plan.params, tun_fd, std::move(*opened.udp), signals,
                                             std::move(opened.tcp), std::move(opened.control),
                                             std::move(opened.metrics)),
                           routes);
    return with_fwmark(
        Loop::create(plan.params, tun_fd, std::move(*opened.udp), signals, std::move(opened.tcp),
                     std::move(opened.control), std::move(opened.metrics)),
        routes);
}

// After set-up, before the loop: what run keeps (cli/privileges). The loop's ring is made
// after it, so that an SQPOLL thread, which submits with its creator's credentials, has the
// dropped ones.
util::Result<void> drop_privileges(const ServeOptions& o) {
    if (!o.drop) return {};
    if (o.drop->user)
        for (const std::string& problem : unreadable_by(*o.drop->user, o.config_path, o.settings))
            RT_LOG_WARN("%s; a reload will fail", problem.c_str());
    auto state = util::drop_privileges(*o.drop);
    if (!state) return util::fail(state.error());
    RT_LOG_NOTICE("privileges: %s", describe(*state, *o.drop).c_str());
    return {};
}

}  // namespace

int serve(ServeOptions o) {
    const Settings& settings = o.settings;
    auto plan = plan_backend(settings);
    if (!plan) return report(plan.error());
    log_plan(*plan);
    if (auto r = check_offloads(settings.offload, plan->kernel); !r) return report(r.error());

    auto signals = util::SignalPipe::create();
    if (!signals) return report(signals.error());
    // Before the backend, whose hooks refer to it; after the signal pipe its worker writes to.
    NameLookups names(**signals);
    auto tun = open_tun(o, plan->tun_blocking);
    if (!tun) return report(tun.error());
    auto nl = tun::RouteSocket::open();
    if (!nl) return report(nl.error());
    auto watch = configure_link(*tun, o, *nl);
    if (!watch) return report(watch.error());
    // Declared before the backend: the rules go after the loop has stopped.
    std::optional<Routes> routes;
    std::optional<LinkRestore> link;
    if (!o.wg_mode) {  // under wg-quick the routes are wg-quick's
        auto r = Routes::install(std::move(*nl), tun->ifindex(), settings, {});  // sockets: below
        if (!r) return report(r.error());
        routes.emplace(std::move(*r));
        if (*watch)
            link.emplace(std::move(**watch), tun->ifindex(), tun->name(), settings.addresses,
                         *routes);
    }
    Sockets sockets;
    auto opened = open_sockets(o, *plan, *tun, sockets);
    if (!opened) return report(opened.error());
    const std::uint16_t udp_port = opened->udp->port;
    if (auto r = drop_privileges(o); !r) return report(r.error());
    auto made = make_backend(*plan, tun->fd(), std::move(*opened), **signals, routes);
    if (!made) return report(made.error());
    std::unique_ptr<IoBackend> backend = std::move(*made);

    crypto::SystemRng rng;
    Device device(settings.private_key, settings.mtu, backend->sink(), rng);
    if (auto r = add_peers(device, settings); !r) return report(r.error());
    log_up(o, tun->name(), device, sockets, udp_port, plan->tun_blocking);
    if (o.on_ready) o.on_ready();
    notify_systemd("READY=1\nSTATUS=" + status_text(device, {}));

    RunHooks hooks;
    // STOPPING=1 as soon as shutdown begins, so systemd shows "deactivating" during the drain.
    hooks.on_stopping = [] { notify_systemd("STOPPING=1"); };
    std::string last_error;
    service_hooks(hooks, o, device, routes ? &*routes : nullptr, names.policy(), last_error);
    names_hooks(hooks, o, device, names);
    link_hooks(hooks, link);
    auto end = backend->run(device, std::move(hooks));
    if (!end) return report(end.error());
    backend->log_statistics();
    log_device_statistics(device);
    RT_LOG_NOTICE("%s: stopped, %u in-flight requests cancelled", tun->name().c_str(),
                  end->cancelled);
    return exit_status(*end, o, tun->name());
}

}  // namespace ringtun::daemon
