#include "daemon/control/http_request.hpp"

#include <algorithm>

namespace ringtun::daemon::control {

namespace {

// RFC 9110 §5.6.2 token characters, which a method is made of.
bool is_token(std::string_view s) noexcept {
    constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               extra.find(c) != std::string_view::npos;
    });
}

// Visible ASCII, as a request target must be.
bool is_visible(std::string_view s) noexcept {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

}  // namespace

std::size_t HttpRequestHead::feed(std::string_view in) {
    if (state_ != State::incomplete) return 0;
    // Look for the blank line from a little before the new bytes: it may straddle two feeds.
    const std::size_t from = head_.size() < 3 ? 0 : head_.size() - 3;
    const std::size_t room = max_head - head_.size();
    const std::size_t take = std::min(in.size(), room);
    head_.append(in.substr(0, take));
    const std::string_view h = head_;
    std::size_t end = std::string_view::npos;
    for (std::size_t i = h.find('\n', from); i != std::string_view::npos; i = h.find('\n', i + 1)) {
        if (i + 1 < h.size() && h[i + 1] == '\n')
            end = i + 2;
        else if (i + 2 < h.size() && h[i + 1] == '\r' && h[i + 2] == '\n')
            end = i + 3;
        if (end != std::string_view::npos) break;
    }
    if (end == std::string_view::npos) {
        if (head_.size() == max_head) state_ = State::too_large;
        return take;
    }
    const std::size_t consumed = take - (head_.size() - end);
    head_.resize(end);
    parse_request_line();
    return consumed;
}

void HttpRequestHead::parse_request_line() {
    std::string_view line = head_;
    line = line.substr(0, line.find('\n'));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::size_t sp1 = line.find(' ');
    const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) {
        state_ = State::malformed;
        return;
    }
    method_ = line.substr(0, sp1);
    target_ = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    const bool ok = is_token(method_) && is_visible(target_) &&
                    (version == "HTTP/1.1" || version == "HTTP/1.0");
    state_ = ok ? State::complete : State::malformed;
}

}  // namespace ringtun::daemon::control
