// Which backend a run uses and with what parameters: the io_uring loop where the kernel lets
// us have io_uring, the epoll loop where it refuses (a container's seccomp profile,
// kernel.io_uring_disabled: EPERM, ENOSYS, EACCES) under [ring] backend = "auto", or the one
// the file names. `check` and `run` decide it the same way.
#pragma once

#include "daemon/backend/io_backend.hpp"
#include "daemon/cli/backend_choice.hpp"
#include "daemon/cli/settings.hpp"
#include "ring/features.hpp"
#include "util/result.hpp"

namespace ringtun::daemon {

struct BackendPlan {
    bool epoll = false;
    std::string why;  // for epoll under "auto": why not io_uring (choose_backend's reason)
    LoopParams params;
    bool tun_blocking = false;
    ring::KernelVersion kernel;
    std::optional<ring::Features> features;  // io_uring's, when it runs
};

// Probes io_uring (when it may be used) and sizes the chosen backend; logs nothing but what
// the file sets in vain. An error when the file asks for something this host or backend
// cannot do.
util::Result<BackendPlan> plan_backend(const Settings& s);

}  // namespace ringtun::daemon
