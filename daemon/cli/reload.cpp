#include "daemon/cli/reload.hpp"

#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <exception>
#include <string>

#include "daemon/service/notify.hpp"
#include "util/log.hpp"

namespace ringtun::daemon {

namespace {

control::WantedPeer wanted_peer(const PeerSettings& p, bool tcp_running) {
    control::WantedPeer w;
    w.public_key = p.public_key;
    w.preshared_key = p.preshared_key;
    w.persistent_keepalive = p.persistent_keepalive;
    if (p.endpoint && (!p.endpoint->tcp || tcp_running)) w.endpoint = p.endpoint;
    for (const conf::Prefix& ip : p.allowed_ips) {
        control::set::AllowedIp a{
            .family = ip.family, .addr = {}, .cidr = ip.length, .remove = false};
        std::copy(ip.addr.begin(), ip.addr.end(), a.addr);
        w.allowed_ips.push_back(a);
    }
    return w;
}

bool by_bytes(const crypto::PublicKey& a, const crypto::PublicKey& b) noexcept {
    return a.bytes < b.bytes;
}

// How many of `from` are not in `in` (sorted).
std::size_t count_new(const std::vector<crypto::PublicKey>& from,
                      const std::vector<crypto::PublicKey>& in) {
    return static_cast<std::size_t>(std::count_if(from.begin(), from.end(), [&](const auto& k) {
        return !std::binary_search(in.begin(), in.end(), k, by_bytes);
    }));
}

std::vector<crypto::PublicKey> sorted_keys(const Device& device) {
    std::vector<crypto::PublicKey> keys;
    keys.reserve(device.peers().size());
    for (const auto& p : device.peers())
        keys.push_back(p->public_key());
    std::sort(keys.begin(), keys.end(), by_bytes);
    return keys;
}

}  // namespace

std::vector<std::string> restart_only_changes(const Settings& running, const Settings& fresh) {
    std::vector<std::string> out;
    if (fresh.interface_name != running.interface_name) out.emplace_back("interface.name");
    if (fresh.addresses != running.addresses) out.emplace_back("interface.address");
    if (fresh.mtu != running.mtu) out.emplace_back("interface.mtu");
    if (fresh.listen_tcp_port != running.listen_tcp_port)
        out.emplace_back("interface.listen_tcp_port");
    if (fresh.control_socket != running.control_socket)
        out.emplace_back("interface.control_socket");
    if (fresh.table != running.table) out.emplace_back("interface.table");
    const auto user_name = [](const Settings& s) { return s.user ? s.user->name : std::string(); };
    if (user_name(fresh) != user_name(running)) out.emplace_back("interface.user");
    const auto& m0 = running.metrics_listen;
    const auto& m1 = fresh.metrics_listen;
    if (m0.has_value() != m1.has_value() || (m0 && !m0->same_address(*m1)))
        out.emplace_back("metrics.listen");
    if (uses_tcp(fresh) && !uses_tcp(running)) out.emplace_back("peer.transport (TCP)");
    if (!(fresh.ring == running.ring)) out.emplace_back("[ring]");
    if (!(fresh.offload == running.offload)) out.emplace_back("[offload]");
    return out;
}

control::WantedDevice wanted_device(const Settings& s, bool tcp_running) {
    control::WantedDevice w;
    w.private_key = s.private_key;
    w.listen_port = s.listen_port.value_or(0);
    for (const PeerSettings& p : s.peers)
        w.peers.push_back(wanted_peer(p, tcp_running));
    return w;
}

std::optional<std::string> Reloader::operator()(control::DeviceConfig& config,
                                                const Now&) noexcept {
    try {
        // Type=notify-reload (systemd 253+) wants the time the reload started.
        timespec mono{};
        ::clock_gettime(CLOCK_MONOTONIC, &mono);
        notify_systemd("RELOADING=1\nMONOTONIC_USEC=" +
                       std::to_string(static_cast<std::uint64_t>(mono.tv_sec) * 1000000 +
                                      static_cast<std::uint64_t>(mono.tv_nsec) / 1000));
        auto result = apply(config);
        // What the reload read and computed (about 2 KB per peer) is freed by now, but below
        // what it left in place, so the allocator would keep its pages: 10,000 peers held 22 MB
        // more after the first reload. Hand them back.
        malloc_trim(0);
        notify_systemd("READY=1");
        return result;
    } catch (const std::exception& ex) {
        RT_LOG_ERROR("reload: %s: %s; keeping the running configuration", path_.c_str(), ex.what());
        notify_systemd("READY=1");  // systemd must not wait in "reloading" for its timeout
        return std::string(ex.what());
    }
}

std::optional<std::string> Reloader::apply(control::DeviceConfig& config) {
    RT_LOG_NOTICE("reload: reading %s", path_.c_str());
    // No DNS here: this runs on the daemon's loop. An endpoint given by host name is left as
    // it is (sync_commands leaves an endpoint it is not given alone); EndpointNames has it
    // looked up off the loop.
    auto fresh = load_settings(path_, {.resolve_names = false});
    if (!fresh) {
        std::string error = fresh.error().to_string();
        RT_LOG_ERROR("reload: %s; keeping the running configuration", error.c_str());
        return error;
    }
    if (followers_.name_fixed) fresh->interface_name = started_.interface_name;  // run --name=
    for (const std::string& key : restart_only_changes(started_, *fresh))
        RT_LOG_WARN("reload: %s changed; it takes effect at the next restart", key.c_str());
    const std::vector<crypto::PublicKey> before = sorted_keys(*device_);
    const auto commands =
        control::sync_commands(*device_, wanted_device(*fresh, uses_tcp(started_)));
    const control::UapiError e = control::apply_commands(config, commands);
    const std::vector<crypto::PublicKey> after = sorted_keys(*device_);
    if (followers_.names != nullptr) followers_.names->configure(fresh->peers, uses_tcp(started_));
    if (e == control::UapiError::none && followers_.routes != nullptr) {
        // The routes follow the peers; the table itself waits for a restart (named above).
        Settings routed = *fresh;
        routed.table = started_.table;
        auto mark = [&config](std::uint32_t m) {
            (void)control::apply_commands(config, {control::set::Fwmark{m}});
        };
        if (auto r = followers_.routes->sync(routed, mark); !r) {
            RT_LOG_ERROR("reload: routes: %s", r.error().to_string().c_str());
            return "routes: " + r.error().to_string();
        }
    }
    if (e != control::UapiError::none) {
        RT_LOG_ERROR("reload: %s applied in part (error %d); see the lines above", path_.c_str(),
                     static_cast<int>(e));
        return path_ + ": applied in part (error " + std::to_string(static_cast<int>(e)) +
               "; see the daemon's log)";
    }
    RT_LOG_NOTICE("reload: applied %s: %zu peers, %zu added, %zu removed", path_.c_str(),
                  after.size(), count_new(after, before), count_new(before, after));
    return std::nullopt;
}

}  // namespace ringtun::daemon
