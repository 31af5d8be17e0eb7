// Endpoint host names while the daemon runs: the policy (cli/endpoint_names) on the loop
// thread, the lookups on a worker thread (backend/name_resolver) that wakes the loop through
// the signal pipe (SignalPipe::kResolved). serve installs it as RunHooks::on_names; a reload
// gives its policy the file's names again.
#pragma once

#include <memory>

#include "daemon/backend/name_resolver.hpp"
#include "daemon/cli/endpoint_names.hpp"
#include "daemon/control/device_config.hpp"
#include "util/log.hpp"
#include "util/signal_pipe.hpp"

namespace ringtun::daemon {

// What the worker runs: conf's lookup (conf::resolve_endpoint, the one `check` runs too).
Resolved look_up_endpoint(const std::string& name);

class NameLookups {
  public:
    // `signals` must outlive this object. Destroying it stops the worker without waiting for
    // a lookup in progress (NameResolver).
    explicit NameLookups(const util::SignalPipe& signals) : signals_(signals) {}

    EndpointNames& policy() noexcept { return names_; }

    // RunHooks::on_names: applies the answers in, each as a UAPI set would (through `config`,
    // so a TCP peer's dialer follows), then asks for the lookups due; the worker starts at the
    // first. Never blocks; a failure is logged, and what was not asked is asked again later.
    void run(control::DeviceConfig& config, const Device& device, const Now& now) noexcept;

  private:
    // Queues `lookup`; false if it could not (queue full, or the worker did not start).
    bool ask(const NameLookup& lookup, const Now& now) noexcept;

    const util::SignalPipe& signals_;
    EndpointNames names_;
    std::unique_ptr<NameResolver> resolver_;            // from the first lookup on
    util::log::RateLimit start_failures_{1.0 / 60, 1};  // a worker that cannot start: logged
};

}  // namespace ringtun::daemon
