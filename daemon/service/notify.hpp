// systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram to the socket
// named by $NOTIFY_SOCKET. A no-op when not started by systemd.
#pragma once

#include <cstdint>
#include <string_view>

namespace ringtun::daemon {

void notify_systemd(std::string_view state) noexcept;

// systemd's watchdog interval for this process (WATCHDOG_USEC, when WATCHDOG_PID is unset or
// ours), in microseconds; 0 when no watchdog is asked for (sd_watchdog_enabled(3)).
std::uint64_t watchdog_usec() noexcept;

}  // namespace ringtun::daemon
