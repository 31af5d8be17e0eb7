// `ringtun reload IFNAME`: asks the daemon serving IFNAME to read its configuration file
// again, over the control socket (`reload=1`), and waits for the answer, so that systemd's
// ExecReload= returns only when the new file is applied or refused (systemd 252 has no
// Type=notify-reload to wait for the daemon otherwise).
#pragma once

#include <string_view>

namespace ringtun::daemon {

// 0 when applied; 1, with the daemon's error on standard error, otherwise.
int reload_command(std::string_view ifname);

}  // namespace ringtun::daemon
