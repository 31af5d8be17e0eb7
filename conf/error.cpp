// Formatting of configuration errors.
#include "conf/error.hpp"

namespace ringtun::conf {

std::string format_error(const Location& where, std::string_view field, std::string_view message) {
    std::string out = where.file;
    if (where.line != 0) {
        out += ':' + std::to_string(where.line);
        if (where.column != 0) out += ':' + std::to_string(where.column);
    }
    out += ": ";
    if (!field.empty()) {
        out += field;
        out += ": ";
    }
    out += message;
    return out;
}

std::string Error::to_string() const {
    return format_error(where, field, message);
}

}  // namespace ringtun::conf
