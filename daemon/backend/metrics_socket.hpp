// The metrics endpoint's listening socket ([metrics] listen): TCP on the address the
// configuration names, for a Prometheus server to scrape. The loop serves it (StreamServer).
#pragma once

#include "daemon/engine/endpoint.hpp"
#include "util/result.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::daemon {

// Scrapes are few: a short queue of connections waiting to be accepted is plenty.
inline constexpr unsigned metrics_backlog = 16;

// A listening socket bound to `at` (SO_REUSEADDR, so a restart finds the port free at once;
// an IPv6 address listens on IPv6 only). Errors name the address.
util::Result<util::UniqueFd> open_metrics_listener(const Endpoint& at);

}  // namespace ringtun::daemon
