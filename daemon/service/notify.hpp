// systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram to the socket
// named by $NOTIFY_SOCKET. A no-op when not started by systemd.
#pragma once

#include <string_view>

namespace ringtun::daemon {

void notify_systemd(std::string_view state) noexcept;

}  // namespace ringtun::daemon
