// `ringtun check FILE`: everything `run` refuses before it opens anything, refused the same
// way and with the same message.
#include "daemon/cli/check.hpp"

#include <cstdio>

#include "daemon/cli/backend_plan.hpp"
#include "daemon/cli/offloads.hpp"
#include "daemon/cli/settings.hpp"
#include "ring/features.hpp"

namespace ringtun::daemon {

int check_command(const std::string& path) {
    auto settings = load_settings(path);
    if (!settings) {
        std::fprintf(stderr, "%s\n", settings.error().to_string().c_str());
        return 1;
    }
    // What run decides from the kernel, decided the same way.
    auto plan = plan_backend(*settings);
    if (!plan) {
        std::fprintf(stderr, "%s\n", plan.error().to_string().c_str());
        return 1;
    }
    if (!plan->why.empty())
        std::fprintf(stderr,
                     "%s: note: io_uring is refused here (%s): run would use the epoll "
                     "backend\n",
                     path.c_str(), plan->why.c_str());
    if (auto offloads = check_offloads(settings->offload, plan->kernel); !offloads) {
        std::fprintf(stderr, "%s\n", offloads.error().to_string().c_str());
        return 1;
    }
    std::printf("%s: OK (interface %s, %zu peer%s)\n", path.c_str(),
                settings->interface_name.c_str(), settings->peers.size(),
                settings->peers.size() == 1 ? "" : "s");
    return 0;
}

}  // namespace ringtun::daemon
