// `ringtun run FILE`: the interface the configuration file describes.
#include "daemon/cli/run.hpp"

#include "daemon/cli/serve.hpp"
#include "daemon/cli/settings.hpp"
#include "util/log.hpp"
#include "util/process_setup.hpp"

namespace ringtun::daemon {

int run_command(const std::string& path) {
    if (auto r = util::setup_daemon_process(); !r) {
        RT_LOG_ERROR("%s", r.error().to_string().c_str());
        return 1;
    }
    auto settings = load_settings(path);
    if (!settings) {
        RT_LOG_ERROR("%s", settings.error().to_string().c_str());
        return 1;
    }
    ServeOptions o;
    o.settings = std::move(*settings);
    o.config_path = path;
    return serve(std::move(o));
}

}  // namespace ringtun::daemon
