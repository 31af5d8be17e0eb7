// conf::load: reads, parses and validates a ringtun TOML configuration file.
//
// The whole file is checked; the first problem found is returned as an Error whose
// to_string() reads "FILE:LINE:COLUMN: FIELD: MESSAGE". Endpoint hostnames are resolved
// during load (blocking getaddrinfo), so call it at start-up, not from the event loop.
#pragma once

#include <string>
#include <variant>

#include "conf/config.hpp"
#include "conf/error.hpp"

namespace ringtun::conf {

using LoadResult = std::variant<Config, Error>;

struct LoadOptions {
    // false: an endpoint named by host name is not looked up (no DNS on a daemon's loop: a
    // reload); the peer gets no endpoint and Peer::endpoint_name keeps the name.
    bool resolve_names = true;
};
[[nodiscard]] LoadResult load(const std::string& path, LoadOptions options = {});

}  // namespace ringtun::conf
