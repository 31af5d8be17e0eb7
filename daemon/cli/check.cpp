// `ringtun check FILE`: everything `run` refuses before it opens anything, refused the same
// way and with the same message (an [interface] user that does not exist among them). An
// endpoint host name that does not resolve is not refused (`run` starts, and the peer waits
// for the name), nor a file that user cannot read (`run` reads them before it becomes the
// user; a reload would fail): those are warnings, and the exit status stays 0.
#include "daemon/cli/check.hpp"

#include <cstdio>
#include <variant>

#include "conf/values.hpp"
#include "daemon/cli/backend_plan.hpp"
#include "daemon/cli/offloads.hpp"
#include "daemon/cli/privileges.hpp"
#include "daemon/cli/settings.hpp"
#include "ring/features.hpp"

namespace ringtun::daemon {

namespace {

// Looks up each endpoint host name as `run` will (blocking is fine here), and warns of those
// that do not resolve now.
void warn_of_names(const std::string& path, const Settings& settings) {
    for (const PeerSettings& p : settings.peers) {
        if (p.endpoint_name.empty()) continue;
        const auto found = conf::resolve_endpoint(p.endpoint_name);
        if (const auto* problem = std::get_if<std::string>(&found))
            std::fprintf(stderr,
                         "%s: %s.endpoint: warning: %s does not resolve (%s); run starts "
                         "anyway and the peer waits until it does\n",
                         path.c_str(), p.name.c_str(), p.endpoint_name.c_str(), problem->c_str());
    }
}

// The files a reload reads again, which the [interface] user must be able to read: run
// starts without them readable (it reads them before it drops to the user), reloads fail.
void warn_of_access(const std::string& path, const Settings& settings,
                    const util::PrivilegeDrop& drop) {
    if (!drop.user) return;
    for (const std::string& problem : unreadable_by(*drop.user, path, settings))
        std::fprintf(stderr, "%s: warning: %s; run starts, but a reload would fail\n", path.c_str(),
                     problem.c_str());
}

}  // namespace

int check_command(const std::string& path) {
    auto settings = load_settings(path, {.resolve_names = false});
    if (!settings) {
        std::fprintf(stderr, "%s\n", settings.error().to_string().c_str());
        return 1;
    }
    auto drop = privilege_drop(*settings);
    if (!drop) {
        std::fprintf(stderr, "%s\n", drop.error().to_string().c_str());
        return 1;
    }
    // What run decides from the kernel, decided the same way.
    auto plan = plan_backend(*settings);
    if (!plan) {
        std::fprintf(stderr, "%s\n", plan.error().to_string().c_str());
        return 1;
    }
    if (!plan->why.empty())
        std::fprintf(stderr, "%s: note: run would use the epoll backend: %s\n", path.c_str(),
                     plan->why.c_str());
    if (auto offloads = check_offloads(settings->offload, plan->kernel); !offloads) {
        std::fprintf(stderr, "%s\n", offloads.error().to_string().c_str());
        return 1;
    }
    warn_of_names(path, *settings);
    warn_of_access(path, *settings, *drop);
    std::printf("%s: OK (interface %s, %zu peer%s)\n", path.c_str(),
                settings->interface_name.c_str(), settings->peers.size(),
                settings->peers.size() == 1 ? "" : "s");
    return 0;
}

}  // namespace ringtun::daemon
