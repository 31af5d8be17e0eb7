#include "daemon/backend/scope_index.hpp"

#include <net/if.h>

#include <charconv>
#include <string>

namespace ringtun::daemon {

std::uint32_t ScopeIndex::interface_index(std::string_view scope) const {
    std::uint32_t index = 0;
    const auto [end, ec] = std::from_chars(scope.data(), scope.data() + scope.size(), index);
    if (ec == std::errc() && end == scope.data() + scope.size()) return index;
    return if_nametoindex(std::string(scope).c_str());
}

}  // namespace ringtun::daemon
