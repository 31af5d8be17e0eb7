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

[[nodiscard]] LoadResult load(const std::string& path);

}  // namespace ringtun::conf
