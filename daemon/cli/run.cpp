// `ringtun run FILE`: the interface the configuration file describes, run with only the
// privileges it needs once set up (cli/privileges).
#include "daemon/cli/run.hpp"

#include "conf/values.hpp"
#include "daemon/cli/privileges.hpp"
#include "daemon/cli/serve.hpp"
#include "daemon/cli/settings.hpp"
#include "util/log.hpp"
#include "util/process_setup.hpp"

namespace ringtun::daemon {

int run_command(const std::string& path, const std::string& name) {
    if (auto r = util::setup_daemon_process(); !r) {
        RT_LOG_ERROR("%s", r.error().to_string().c_str());
        return 1;
    }
    // Host names are looked up once the daemon runs, off its loop (cli/name_lookups): one
    // that does not resolve yet leaves its peer waiting instead of keeping the interface down.
    auto settings = load_settings(path, {.resolve_names = false});
    if (!settings) {
        RT_LOG_ERROR("%s", settings.error().to_string().c_str());
        return 1;
    }
    if (!name.empty()) {
        if (const std::string problem = conf::check_interface_name(name); !problem.empty()) {
            RT_LOG_ERROR("--name: %s", problem.c_str());
            return 1;
        }
        if (settings->interface_name != name && settings->interface_name != "rt0")
            RT_LOG_NOTICE("%s names the interface %s; running it as %s (--name)", path.c_str(),
                          settings->interface_name.c_str(), name.c_str());
        settings->interface_name = name;
    }
    auto drop = privilege_drop(*settings);
    if (!drop) {
        RT_LOG_ERROR("%s", drop.error().to_string().c_str());
        return 1;
    }
    ServeOptions o;
    o.settings = std::move(*settings);
    o.config_path = path;
    o.name_fixed = !name.empty();
    o.drop = std::move(*drop);
    return serve(std::move(o));
}

}  // namespace ringtun::daemon
