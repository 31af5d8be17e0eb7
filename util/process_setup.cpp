// The daemon's process-wide start-up state; see process_setup.hpp.
#include "util/process_setup.hpp"

#include <signal.h>

#include "util/log.hpp"

namespace ringtun::util {

Result<void> setup_daemon_process() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    if (::sigaction(SIGPIPE, &ignore, nullptr) != 0)
        return fail(sys_error("sigaction(SIGPIPE)", errno, "cannot ignore SIGPIPE"));
    log::open_sink();
    return {};
}

}  // namespace ringtun::util
