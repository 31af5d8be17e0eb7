// The sessions a loop's stream servers give each connection, the same on every backend: the
// UAPI over the device and the loop's socket settings, and the metrics (the device's, then
// the loop's own).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "daemon/control/device_config.hpp"
#include "daemon/control/device_metrics.hpp"
#include "daemon/control/metrics_session.hpp"
#include "daemon/control/uapi_stream.hpp"

namespace ringtun::daemon {

inline std::unique_ptr<control::StreamSession> uapi_session(
    Device& device, control::SocketSettings& sockets, control::DeviceConfig::ReloadFn reload) {
    return std::make_unique<control::UapiStream>(device, sockets, std::move(reload));
}

// `loop_metrics` appends the backend's own families; every sample is labelled `interface`.
inline std::unique_ptr<control::StreamSession> metrics_session(
    const Device& device, const std::string& interface,
    std::function<void(control::MetricsText&)> loop_metrics) {
    return std::make_unique<control::MetricsSession>(
        [&device, &interface, loop_metrics = std::move(loop_metrics)](std::string& body,
                                                                      const Now&) {
            control::MetricsText m(body, {{"interface", interface}});
            control::write_device_metrics(device, m);
            loop_metrics(m);
        });
}

}  // namespace ringtun::daemon
