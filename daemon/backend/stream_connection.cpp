#include "daemon/backend/stream_connection.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <string>

namespace ringtun::daemon {

namespace {

// "64 MiB", "8 KiB", "100 bytes": a limit as its configuration reads.
std::string bytes_text(std::size_t n) {
    if (n % (std::size_t{1} << 20) == 0) return std::to_string(n >> 20) + " MiB";
    if (n % 1024 == 0) return std::to_string(n >> 10) + " KiB";
    return std::to_string(n) + " bytes";
}

std::string seconds_text(Nanos t) {
    return std::to_string(t / crypto::seconds_ns(1)) + " s";
}

}  // namespace

StreamConnection::StreamConnection(std::uint32_t id, util::UniqueFd fd,
                                   std::unique_ptr<control::StreamSession> session, Nanos now)
    : id_(id), fd_(std::move(fd)), session_(std::move(session)), opened_(now), last_input_(now) {}

StreamConnection::Next StreamConnection::on_received(std::size_t n, const Now& now,
                                                     const StreamLimits& limits) {
    if (n == 0) {
        eof_ = true;
    } else {
        in_begin_ = 0;
        in_end_ = n;
        input_total_ += n;
        last_input_ = now.boot;
        if (input_total_ > limits.max_input) {
            why_text_ = "sent more than ringtun's limit of " + bytes_text(limits.max_input) +
                        " per connection";
            why_ = why_text_.c_str();
            return Next::close;
        }
    }
    return advance(now);
}

StreamConnection::Next StreamConnection::on_sent(std::size_t n, const Now& now) {
    sent_ += n;
    if (sent_ < out_.size()) return Next::send;
    out_.clear();
    sent_ = 0;
    return advance(now);
}

StreamConnection::Next StreamConnection::advance(const Now& now) {
    control::StreamSession& s = *session_;
    while (out_.empty() && !s.done() && in_begin_ < in_end_)
        in_begin_ += s.feed({in_.data() + in_begin_, in_end_ - in_begin_}, out_, now);
    if (out_.empty() && eof_ && !s.done()) s.end_of_input(out_, now);
    if (!out_.empty()) return Next::send;
    if (s.done()) return linger(now);
    return eof_ ? Next::close : Next::receive;  // all input fed
}

StreamConnection::Next StreamConnection::linger(const Now& now) {
    if (eof_) return Next::close;
    if (linger_until_ == 0) {
        (void)::shutdown(fd_.get(), SHUT_WR);
        linger_until_ = now.boot + linger_time;
    }
    in_begin_ = in_end_;  // dropped
    return Next::receive;
}

Nanos StreamConnection::deadline(const StreamLimits& limits, bool sending) const noexcept {
    Nanos t = opened_ + limits.lifetime;
    if (!sending) t = std::min(t, last_input_ + limits.idle_timeout);
    if (linger_until_ != 0) t = std::min(t, linger_until_);
    return t;
}

const char* StreamConnection::expired(Nanos now, const StreamLimits& limits, bool sending) {
    if (linger_until_ != 0 && now >= linger_until_) return "";  // served: no reason to log
    if (now >= opened_ + limits.lifetime)
        why_text_ = "open longer than ringtun's limit of " + seconds_text(limits.lifetime);
    else if (!sending && now >= last_input_ + limits.idle_timeout)
        why_text_ = "idle longer than ringtun's limit of " + seconds_text(limits.idle_timeout);
    else
        return nullptr;
    return why_text_.c_str();
}

}  // namespace ringtun::daemon
