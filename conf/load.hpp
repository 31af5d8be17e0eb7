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
#include "conf/file_read.hpp"

namespace ringtun::conf {

using LoadResult = std::variant<Config, Error>;

struct LoadOptions {
    // false: an endpoint named by host name is not looked up (a daemon: a name that does not
    // resolve yet must not stop it, and no DNS on its loop); the peer gets no endpoint and
    // Peer::endpoint_name keeps the name.
    bool resolve_names = true;
    // Reads a key file the configuration names (`path` already resolved against the
    // configuration's folder; at most `max_bytes`). The file system by default; a caller that
    // must not open files (the fuzz target) supplies its own.
    ReadFileFn read_key_file = read_whole_file;
};
[[nodiscard]] LoadResult load(const std::string& path, LoadOptions options = {});

// The same for configuration text already read: `name` stands for the file in errors and
// relative key paths; `file`'s mode and owner are the file's (the rule for inline secrets
// checks them). Its text is wiped once parsed. Files over ringtun's size limit are refused by
// load() alone.
[[nodiscard]] LoadResult load_text(FileText file, const std::string& name,
                                   LoadOptions options = {});

}  // namespace ringtun::conf
