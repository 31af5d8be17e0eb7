// The device's counters as Prometheus metrics: traffic through the TUN, handshakes, drops by
// reason, and per peer (labelled by its public key, as `wg show` names peers) the bytes
// received and sent, the sessions held and the time of the last handshake.
#pragma once

#include "daemon/control/metrics_text.hpp"
#include "daemon/engine/device.hpp"

namespace ringtun::daemon::control {

void write_device_metrics(const Device& device, MetricsText& m);

}  // namespace ringtun::daemon::control
