// The daemon tests create and destroy many peers and sessions; their info-level log lines
// would drown the test output. Warnings and errors still print.
#include "util/log.hpp"

namespace {
const bool quiet_logs = [] {
    ringtun::util::log::set_min_level(ringtun::util::log::Level::warning);
    return true;
}();
}  // namespace
