// Endpoint host names while the daemon runs: the policy's lookups to the worker and back.
#include "daemon/cli/name_lookups.hpp"

#include <exception>

#include "conf/values.hpp"
#include "daemon/control/sync.hpp"

namespace ringtun::daemon {

Resolved look_up_endpoint(const std::string& name) {
    auto found = conf::resolve_endpoint(name);
    if (auto* problem = std::get_if<std::string>(&found)) return {std::nullopt, *problem};
    const conf::Endpoint& e = std::get<conf::Endpoint>(found);
    return {Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&e.addr), e.len), {}};
}

void NameLookups::run(control::DeviceConfig& config, const Device& device,
                      const Now& now) noexcept {
    try {
        std::vector<NameAnswer> answers;
        if (resolver_) answers = resolver_->take_answers();
        for (const NameAnswer& a : answers) {
            const auto to = names_.answered(device, a, now);
            if (!to) continue;
            // keep_transport false: the endpoint names the configured transport, as a reload's.
            (void)control::apply_commands(
                config, {control::set::PublicKey{a.peer},
                         control::set::PeerEndpoint{
                             .endpoint = *to, .keep_transport = false, .scope = {}}});
        }
        for (const NameLookup& lookup : names_.due(device, now))
            if (!ask(lookup, now)) names_.not_asked(lookup.peer);
    } catch (const std::exception& e) {  // out of memory: what was not asked is due again
        RT_LOG_ERROR("endpoint names: %s", e.what());
    }
}

bool NameLookups::ask(const NameLookup& lookup, const Now& now) noexcept {
    try {
        if (!resolver_) {
            auto made = NameResolver::create(
                look_up_endpoint, [this] { signals_.notify(util::SignalPipe::kResolved); });
            if (!made) {
                if (start_failures_.allow(now.boot))
                    RT_LOG_ERROR("endpoint names: %s", made.error().to_string().c_str());
                return false;
            }
            resolver_ = std::move(*made);
        }
        return resolver_->ask(lookup);
    } catch (const std::exception& e) {
        RT_LOG_ERROR("endpoint names: %s", e.what());
        return false;
    }
}

}  // namespace ringtun::daemon
