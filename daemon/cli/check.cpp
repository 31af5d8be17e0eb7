// `ringtun check FILE`: everything `run` refuses before it opens anything, refused the same
// way and with the same message.
#include "daemon/cli/check.hpp"

#include <cstdio>

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
    // What run decides from the kernel, decided the same way; where io_uring cannot be
    // probed (a build host, a container that forbids it) run would fail anyway, so say so.
    if (auto features = ring::probe_features(); !features) {
        std::fprintf(stderr, "%s: note: [ring] not checked: %s\n", path.c_str(),
                     features.error().to_string().c_str());
    } else if (auto params = ring_params(*settings, *features); !params) {
        std::fprintf(stderr, "%s\n", params.error().to_string().c_str());
        return 1;
    } else if (auto offloads = check_offloads(settings->offload, features->kernel); !offloads) {
        std::fprintf(stderr, "%s\n", offloads.error().to_string().c_str());
        return 1;
    }
    std::printf("%s: OK (interface %s, %zu peer%s)\n", path.c_str(),
                settings->interface_name.c_str(), settings->peers.size(),
                settings->peers.size() == 1 ? "" : "s");
    return 0;
}

}  // namespace ringtun::daemon
