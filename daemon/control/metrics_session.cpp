#include "daemon/control/metrics_session.hpp"

namespace ringtun::daemon::control {

namespace {

constexpr std::string_view exposition_type = "text/plain; version=0.0.4; charset=utf-8";

void append_response(std::string& out, std::string_view status, std::string_view type,
                     std::string_view extra_headers, std::string_view body, bool with_body) {
    out += "HTTP/1.1 ";
    out += status;
    out += "\r\nContent-Type: ";
    out += type;
    out += "\r\nContent-Length: ";
    out += std::to_string(body.size());
    out += "\r\nCache-Control: no-store\r\nConnection: close\r\n";
    out += extra_headers;
    out += "\r\n";
    if (with_body) out += body;
}

void append_error(std::string& out, std::string_view status, std::string_view extra_headers,
                  std::string_view text, bool with_body) {
    append_response(out, status, "text/plain; charset=utf-8", extra_headers, text, with_body);
}

}  // namespace

std::size_t MetricsSession::feed(std::string_view in, std::string& out, const Now& now) {
    if (done_) return in.size();  // nothing more is read: the connection closes
    const std::size_t used = head_.feed(in);
    if (head_.state() != HttpRequestHead::State::incomplete) respond(out, now);
    return done_ ? in.size() : used;
}

void MetricsSession::end_of_input(std::string&, const Now&) {
    done_ = true;
}

void MetricsSession::respond(std::string& out, const Now& now) {
    done_ = true;
    using State = HttpRequestHead::State;
    if (head_.state() == State::too_large)
        return append_error(out, "431 Request Header Fields Too Large", {},
                            "request head over 8192 bytes\n", true);
    if (head_.state() == State::malformed)
        return append_error(out, "400 Bad Request", {}, "malformed request line\n", true);
    // A response to HEAD has the headers GET's would have, and no body (RFC 9110 §9.3.2).
    const bool head_only = head_.method() == "HEAD";
    if (head_.method() != "GET" && !head_only)
        return append_error(out, "405 Method Not Allowed", "Allow: GET, HEAD\r\n",
                            "only GET and HEAD\n", true);
    if (head_.path() != "/metrics")
        return append_error(out, "404 Not Found", {}, "the metrics are at /metrics\n", !head_only);
    std::string body;
    render_(body, now);
    append_response(out, "200 OK", exposition_type, {}, body, !head_only);
}

}  // namespace ringtun::daemon::control
