// One UAPI client connection, sans-IO: bytes in, reply bytes out, `set` lines applied to a
// UapiTarget as they are read. The framing is wireguard-go's (device/uapi.go), which is what
// `wg` and every embedder expect:
//   - A request starts with `get=1` or `set=1`. Anything else ends the connection with no
//     reply. Several requests may follow each other on one connection.
//   - `get=1` must be followed by an empty line (a different byte: errno=-22). The reply is the
//     target's `key=value` lines, then `errno=0` and an empty line.
//   - `reload=1` (ringtun's own; wg never sends it) is followed by an empty line like get: the
//     daemon reads its configuration file again; the reply is `error=TEXT` lines if that
//     failed, then errno. What `ringtun reload IFNAME` (systemd's ExecReload) sends.
//   - `set=1` is followed by `key=value` lines, each applied at once (not transactional: what
//     came before an error stays applied), until an empty line. The reply is `errno=N` (N = 0
//     or a negative errno) and an empty line. After an error the connection is ended, as
//     wireguard-go's reads the rest of that request as unknown operations.
//   - End of input in the middle of a set applies what was read and answers errno=0.
// Bounds: a line longer than max_line ends the connection with errno=-22; nothing else is
// buffered, so a client sending forever costs time, not memory, and one that never reads its
// replies is not read either (feed stops at each reply).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "daemon/control/uapi_line.hpp"

namespace ringtun::daemon::control {

// What a session changes and reads. Implemented over the device and the sockets.
class UapiTarget {
  public:
    virtual ~UapiTarget() = default;
    // A set request begins: no current peer.
    virtual void begin_set() = 0;
    // One parsed line; an error stops the request.
    virtual UapiError apply(const SetCommand& command) = 0;
    // The set request ended (empty line, end of input, or an error): finish the current peer.
    virtual void end_set() = 0;
    // Appends the get reply's key=value lines (errno excluded) to `out`.
    virtual void write_config(std::string& out) = 0;
    // ringtun's own `reload=1`: reads the configuration file again and applies it. On failure
    // appends `error=TEXT` lines to `out`. Targets without a file answer -EINVAL.
    virtual UapiError reload(std::string& out) {
        out += "error=nothing to reload\n";
        return UapiError::invalid;
    }
};

class UapiSession {
  public:
    static constexpr std::size_t max_line = 1024;

    UapiSession() { line_.reserve(max_line); }

    // Consumes `in`, appending replies to `out`; returns how many bytes it consumed. Stops
    // early once done() or once a reply was appended, so a client pipelining requests gets
    // one reply at a time and what waits to be sent stays one reply long.
    std::size_t feed(std::string_view in, UapiTarget& target, std::string& out);
    // The client closed its side.
    void end_of_input(UapiTarget& target, std::string& out);
    // No more input is wanted: close after writing `out`.
    bool done() const noexcept { return state_ == State::done; }

  private:
    enum class State { operation, get_terminator, reload_terminator, set_lines, done };

    void on_line(std::string_view line, UapiTarget& target, std::string& out);
    void finish_set(UapiError result, UapiTarget& target, std::string& out);

    State state_ = State::operation;
    bool in_peer_ = false;
    std::string line_;
};

// "errno=N\n\n" with N = 0 or the negative errno.
void append_errno(std::string& out, UapiError e);

}  // namespace ringtun::daemon::control
