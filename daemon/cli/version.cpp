#include "daemon/cli/version.hpp"

namespace ringtun::daemon {
const char* version() noexcept {
    return RINGTUN_VERSION;
}
}  // namespace ringtun::daemon
