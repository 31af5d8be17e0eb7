// One client of a stream socket the backend serves (the UAPI socket, the metrics endpoint),
// sans-IO: the backend reads bytes, feeds them here and sends what comes out. The backend owns
// the socket, the bounds on time and size, and the closing.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "daemon/engine/clock.hpp"

namespace ringtun::daemon::control {

class StreamSession {
  public:
    virtual ~StreamSession() = default;
    // Consumes a prefix of `in` and returns its length; a reply, if one is due, is appended to
    // `out`. Stops at each reply (the backend sends it before feeding more), so what waits to
    // be sent is one reply long and a client that does not read is not read either.
    virtual std::size_t feed(std::string_view in, std::string& out, const Now& now) = 0;
    // The client closed its side; a last reply may be appended.
    virtual void end_of_input(std::string& out, const Now& now) = 0;
    // No more input is wanted: the connection closes once `out` is sent.
    virtual bool done() const noexcept = 0;
};

}  // namespace ringtun::daemon::control
