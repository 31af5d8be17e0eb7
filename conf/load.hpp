// conf::load: reads, parses and validates a ringtun TOML configuration file.
//
// The whole file is checked; the first problem found is returned as an Error whose
// to_string() reads "FILE:LINE:COLUMN: FIELD: MESSAGE". With LoadOptions::resolve_names
// (the default) endpoint host names are resolved during load (blocking getaddrinfo) and one
// that does not resolve is an error; the daemon loads without and looks them up itself.
#pragma once

#include <string>
#include <variant>

#include "conf/config.hpp"
#include "conf/error.hpp"

namespace ringtun::conf {

using LoadResult = std::variant<Config, Error>;

struct LoadOptions {
    // false: an endpoint named by host name is not looked up (a daemon: a name that does not
    // resolve yet must not stop it, and no DNS on its loop); the peer gets no endpoint and
    // Peer::endpoint_name keeps the name.
    bool resolve_names = true;
};
[[nodiscard]] LoadResult load(const std::string& path, LoadOptions options = {});

}  // namespace ringtun::conf
