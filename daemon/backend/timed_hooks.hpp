// The hooks a loop runs on its own clock, the same in every backend: the heartbeat (systemd's
// watchdog and status) and the endpoint name lookups (RunHooks). The loop asks when the next
// is due (its wait's timeout) and runs what is due after each wait.
#pragma once

#include <algorithm>

#include "daemon/backend/io_backend.hpp"

namespace ringtun::daemon {

class TimedHooks {
  public:
    // Both due at the loop's first turn, if the hooks are set.
    void start(const RunHooks& h, Nanos now) noexcept {
        if (h.heartbeat > 0 && h.on_heartbeat) next_heartbeat_ = now;
        if (h.names_every > 0 && h.on_names) next_names_ = now;
    }
    Nanos next() const noexcept { return std::min(next_heartbeat_, next_names_); }
    // Runs what is due at `now`.
    void run_due(const RunHooks& h, Device& device, control::SocketSettings& sockets,
                 const Now& now) {
        if (now.boot >= next_heartbeat_) {
            h.on_heartbeat(now);
            next_heartbeat_ = now.boot + h.heartbeat;
        }
        if (now.boot >= next_names_) {
            run_names(h, device, sockets, now);
            next_names_ = now.boot + h.names_every;
        }
    }
    // The names hook now (lookups answered), through a DeviceConfig of its own.
    static void run_names(const RunHooks& h, Device& device, control::SocketSettings& sockets,
                          const Now& now) {
        if (!h.on_names) return;
        control::DeviceConfig config(device, sockets);
        config.set_now(now);
        h.on_names(config, now);
    }

  private:
    Nanos next_heartbeat_ = no_deadline, next_names_ = no_deadline;
};

}  // namespace ringtun::daemon
