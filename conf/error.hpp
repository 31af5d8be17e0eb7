// Configuration errors: where in which file, which dotted field, and what is wrong, printed
// as "FILE:LINE:COLUMN: FIELD: MESSAGE" like a compiler diagnostic.
#pragma once

#include <string>
#include <string_view>

namespace ringtun::conf {

// A position in a file. line and column count from 1; 0 means unknown (e.g. the file itself
// could not be opened), and is then left out of messages.
struct Location {
    std::string file;
    unsigned line = 0;
    unsigned column = 0;
};

struct Error {
    Location where;
    std::string field;  // dotted path, e.g. "peer[2].allowed_ips[0]"; empty for whole-file errors
    std::string message;

    std::string to_string() const;
};

// "FILE:LINE:COLUMN: FIELD: MESSAGE"; line/column are omitted when 0 and the field when empty.
// The daemon uses this to report key-decoding errors in the same format as load() does.
std::string format_error(const Location& where, std::string_view field, std::string_view message);

}  // namespace ringtun::conf
