#include "daemon/backend/stream_connection.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace ringtun::daemon {

namespace {

// "64 MiB", "8 KiB", "100 bytes": a limit as its configuration reads; the unit's name in
// `unit`.
std::size_t in_units(std::size_t n, const char*& unit) noexcept {
    if (n % (std::size_t{1} << 20) == 0) {
        unit = "MiB";
        return n >> 20;
    }
    if (n % 1024 == 0) {
        unit = "KiB";
        return n >> 10;
    }
    unit = "bytes";
    return n;
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
            const char* unit = "";
            const std::size_t amount = in_units(limits.max_input, unit);
            std::snprintf(why_text_.data(), why_text_.size(),
                          "sent more than ringtun's limit of %zu %s per connection", amount, unit);
            why_ = why_text_.data();
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

const char* StreamConnection::expired(Nanos now, const StreamLimits& limits,
                                      bool sending) noexcept {
    if (linger_until_ != 0 && now >= linger_until_) return "";  // served: no reason to log
    const char* what = nullptr;
    Nanos limit = 0;
    if (now >= opened_ + limits.lifetime) {
        what = "open longer";
        limit = limits.lifetime;
    } else if (!sending && now >= last_input_ + limits.idle_timeout) {
        what = "idle longer";
        limit = limits.idle_timeout;
    } else {
        return nullptr;
    }
    std::snprintf(why_text_.data(), why_text_.size(), "%s than ringtun's limit of %" PRIu64 " s",
                  what, static_cast<std::uint64_t>(limit / crypto::seconds_ns(1)));
    return why_text_.data();
}

}  // namespace ringtun::daemon
