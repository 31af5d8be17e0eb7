// One client of the metrics endpoint, sans-IO: an HTTP/1.x request in, one response out, then
// the connection closes (`Connection: close`, so no client waits on a kept-alive socket that
// the daemon's time bound would cut). GET and HEAD of /metrics (any query) answer 200 with
// the Prometheus text exposition (format 0.0.4) that `render` writes; another path answers
// 404, another method 405, a head over HttpRequestHead::max_head 431, a malformed request
// line 400. A client that closes before its head is complete gets no reply.
#pragma once

#include <functional>

#include "daemon/control/http_request.hpp"
#include "daemon/control/stream_session.hpp"

namespace ringtun::daemon::control {

class MetricsSession final : public StreamSession {
  public:
    // Appends the exposition to its first argument.
    using Render = std::function<void(std::string& body, const Now& now)>;

    explicit MetricsSession(Render render) : render_(std::move(render)) {}

    std::size_t feed(std::string_view in, std::string& out, const Now& now) override;
    void end_of_input(std::string& out, const Now& now) override;
    bool done() const noexcept override { return done_; }

  private:
    void respond(std::string& out, const Now& now);

    Render render_;
    HttpRequestHead head_;
    bool done_ = false;
};

}  // namespace ringtun::daemon::control
