// The part of control::SocketSettings both loops answer alike: which interface an IPv6
// endpoint's scope names. The loops derive from it instead of from control::SocketSettings.
#pragma once

#include <cstdint>
#include <string_view>

#include "daemon/control/device_config.hpp"

namespace ringtun::daemon {

class ScopeIndex : public control::SocketSettings {
  public:
    // The index of "eth0" in this network namespace, or 0 when there is none; an index ("2")
    // is taken as it is, as getaddrinfo takes it. A name too long for an interface is refused
    // where it is parsed (control/uapi_line); it would answer 0 here all the same.
    std::uint32_t interface_index(std::string_view scope) const final;
};

}  // namespace ringtun::daemon
