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

std::string errno_name(int err) {
    if (err < 0) err = -err;
    // glibc 2.32+ (bookworm has 2.36); nullptr for a value it has no name for.
    if (const char* name = ::strerrorname_np(err)) return name;
    return "errno " + std::to_string(err);
}

}  // namespace ringtun::util
