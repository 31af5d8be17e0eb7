// The head of one HTTP/1.x request, sans-IO and bounded: the bytes up to the blank line are
// gathered (at most max_head of them) and the request line is parsed. Header fields are not
// interpreted: the metrics endpoint answers every request the same way whatever they say, and
// closes the connection after one reply. Bare LF line ends are accepted as well as CRLF
// (RFC 9112 §2.2); an empty line before the request line, which that section suggests
// ignoring, is read as an empty request line (400), and an absolute-form target
// ("http://host/metrics", for proxies) is another path (404): scrapers send neither.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ringtun::daemon::control {

class HttpRequestHead {
  public:
    static constexpr std::size_t max_head = 8192;

    enum class State {
        incomplete,  // no blank line yet
        complete,    // method() and target() are set
        too_large,   // no blank line within max_head bytes
        malformed,   // the request line is not METHOD SP TARGET SP HTTP/1.x
    };

    // Takes bytes until the head is complete or over its bound; returns how many it took
    // (bytes after the head are left: a body, or a next request that will not be read).
    std::size_t feed(std::string_view in);
    State state() const noexcept { return state_; }
    std::string_view method() const noexcept { return method_; }
    // The request target as sent ("/metrics?x=1").
    std::string_view target() const noexcept { return target_; }
    // The target without its query.
    std::string_view path() const noexcept { return target_.substr(0, target_.find('?')); }

  private:
    void parse_request_line();

    State state_ = State::incomplete;
    std::string head_;
    std::string_view method_, target_;
};

}  // namespace ringtun::daemon::control
