#include "util/result.hpp"

#include <cstring>

namespace ringtun::util {

std::string Error::to_string() const {
    std::string s = where;
    if (!detail.empty()) s += ": " + detail;
    if (sys_errno != 0) s += std::string(" (") + std::strerror(sys_errno) + ")";
    return s;
}

Error sys_error(std::string where, int err, std::string detail) {
    return Error{std::move(where), err < 0 ? -err : err, std::move(detail)};
}

Error make_error(std::string where, std::string detail) {
    return Error{std::move(where), 0, std::move(detail)};
}

}  // namespace ringtun::util
