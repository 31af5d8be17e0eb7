// `ringtun run FILE`: the composition root. It resolves the settings, opens the TUN and the
// sockets, chooses the backend, makes the device and runs it until it stops.
#include "daemon/cli/run.hpp"

#include <cstdio>

#include "crypto/aead.hpp"
#include "crypto/x25519.hpp"
#include "daemon/backend/tcp_socket.hpp"
#include "daemon/backend/udp_socket.hpp"
#include "daemon/backend/uring/loop.hpp"
#include "daemon/cli/offloads.hpp"
#include "daemon/cli/settings.hpp"
#include "daemon/engine/device.hpp"
#include "daemon/engine/statistics.hpp"
#include "daemon/service/notify.hpp"
#include "ring/features.hpp"
#include "tun/netlink.hpp"
#include "tun/tun_device.hpp"
#include "util/log.hpp"
#include "util/process_setup.hpp"
#include "util/signal_pipe.hpp"

namespace ringtun::daemon {

namespace {

int report(const util::Error& e) {
    RT_LOG_ERROR("%s", e.to_string().c_str());
    return 1;
}

// A TUN adopted from RINGTUN_TUN_FD keeps whatever header it was opened with; one created
// here gets the virtio-net header unless every TUN offload is off.
util::Result<tun::TunDevice> open_tun(const Settings& s, bool blocking) {
    auto inherited = tun::TunDevice::adopt_from_env();
    if (!inherited) return util::fail(inherited.error());
    if (*inherited) {
        if (auto r = (*inherited)->set_blocking(blocking); !r) return util::fail(r.error());
        return std::move(**inherited);
    }
    return tun::TunDevice::create(s.interface_name, blocking, wants_vnet_hdr(s.offload));
}

util::Result<void> configure_link(const tun::TunDevice& tun, const Settings& s) {
    auto nl = tun::RouteSocket::open();
    if (!nl) return util::fail(nl.error());
    if (auto r = nl->set_mtu(tun.ifindex(), s.mtu); !r) return r;
    for (const conf::Prefix& a : s.addresses)
        if (auto r = nl->add_address(tun.ifindex(), a.family, a.addr.data(), a.length); !r)
            return r;
    return nl->set_up(tun.ifindex());
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

}  // namespace

int run_command(const std::string& path) {
    if (auto r = util::setup_daemon_process(); !r) return report(r.error());
    auto settings = load_settings(path);
    if (!settings) return report(settings.error());
    auto features = ring::probe_features();
    if (!features) return report(features.error());
    ring::log_features(*features);
    bool tun_blocking = false;
    auto params = ring_params(*settings, *features, &tun_blocking);
    if (!params) return report(params.error());
    if (auto r = check_offloads(settings->offload, features->kernel); !r) return report(r.error());

    auto signals = util::SignalPipe::create();
    if (!signals) return report(signals.error());
    auto tun = open_tun(*settings, tun_blocking);
    if (!tun) return report(tun.error());
    if (auto r = configure_link(*tun, *settings); !r) return report(r.error());
    auto udp = UdpSocket::open(settings->listen_port.value_or(0));
    if (!udp) return report(udp.error());
    auto offloads = negotiate_offloads(settings->offload, *tun, *udp);
    if (!offloads) return report(offloads.error());
    params->offloads = *offloads;
    std::optional<TcpListener> tcp_listener;
    if (settings->listen_tcp_port) {
        auto l = TcpListener::open(*settings->listen_tcp_port);
        if (!l) return report(l.error());
        tcp_listener = std::move(*l);
    }
    TcpSetup tcp;
    tcp.listener = tcp_listener ? tcp_listener->fd.get() : -1;
    for (const PeerSettings& p : settings->peers)
        if (p.endpoint && p.endpoint->tcp) tcp.dial.push_back(*p.endpoint);
    // The backend: the io_uring loop (the only one so far).
    auto loop = Loop::create(*params, tun->fd(), *udp, **signals, std::move(tcp));
    if (!loop) return report(loop.error());
    std::unique_ptr<IoBackend> backend = std::move(*loop);

    crypto::SystemRng rng;
    Device device(settings->private_key, settings->mtu, backend->sink(), rng);
    if (auto r = add_peers(device, *settings); !r) return report(r.error());
    if (tcp_listener) RT_LOG_NOTICE("%s: TCP port %u", tun->name().c_str(), tcp_listener->port);
    RT_LOG_NOTICE(
        "%s: up, public key %s, UDP port %u, MTU %u, %zu peers, TUN %s, ChaCha20-Poly1305 %s",
        tun->name().c_str(), crypto::key_to_base64(device.identity().public_key.span()).c_str(),
        udp->port, settings->mtu, settings->peers.size(),
        tun_blocking ? "blocking" : "non-blocking",
        crypto::AeadContext::avx512_supported() ? "AVX-512 (ringtun's)" : "OpenSSL");
    notify_systemd("READY=1\nSTATUS=running");

    // STOPPING=1 as soon as shutdown begins, so systemd shows "deactivating" during the drain.
    auto cancelled = backend->run(device, [] { notify_systemd("STOPPING=1"); });
    if (!cancelled) return report(cancelled.error());
    backend->log_statistics();
    log_device_statistics(device);
    RT_LOG_NOTICE("%s: stopped, %u in-flight requests cancelled", tun->name().c_str(), *cancelled);
    return 0;
}

}  // namespace ringtun::daemon
