#include "daemon/backend/uring/stream_server.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "daemon/backend/uring/loop.hpp"
#include "daemon/backend/uring/loop_internal.hpp"

namespace ringtun::daemon {

using namespace loop_detail;

namespace {

constexpr Nanos accept_retry = crypto::millis_ns(100);

// io_uring waits for readiness only on blocking files: on an O_NONBLOCK one a receive or an
// accept with nothing there completes with -EAGAIN at once.
void make_blocking(int fd) noexcept {
    const int fl = ::fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK)) (void)::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}
}  // namespace

struct StreamServer::Conn {
    explicit Conn(StreamConnection c) : conn(std::move(c)) {}
    StreamConnection conn;
    bool recv_armed = false, send_armed = false;
    bool want_recv = false, want_send = false;  // to arm when an entry is free
    bool closing = false;
    bool cancel_pending = false;  // closing, but its cancel found no submission entry yet
};

StreamServer::StreamServer(Loop& loop, std::uint16_t index, const char* name,
                           const StreamLimits& limits, ControlSetup setup)
    : loop_(loop), index_(index), name_(name), limits_(limits), setup_(std::move(setup)) {
    if (setup_.listener >= 0) make_blocking(setup_.listener);
    if (setup_.watch >= 0) make_blocking(setup_.watch);
    open_.reserve(limits_.max_connections);
    closing_.reserve(max_closing(limits_));
}

StreamServer::~StreamServer() = default;

StreamServer::Conn* StreamServer::find(const io_uring_cqe& cqe) noexcept {
    const std::uint32_t id = ring::decode(cqe.user_data).slot;
    for (auto* list : {&open_, &closing_})
        for (auto& c : *list)
            if (c->conn.id() == id) return c.get();
    return nullptr;
}

std::uint32_t StreamServer::fresh_id() noexcept {
    // Ids live in user_data's 24-bit slot field: they wrap, skipping 0 and any still in use.
    for (;;) {
        next_id_ = (next_id_ + 1) & ring::kMaxSlot;
        if (next_id_ == 0) continue;
        bool used = false;
        for (auto* list : {&open_, &closing_})
            for (auto& c : *list)
                used = used || c->conn.id() == next_id_;
        if (!used) return next_id_;
    }
}

void StreamServer::arm() noexcept {
    if (loop_.stopping()) return;
    const Nanos now = loop_.now().boot;
    if (setup_.listener >= 0 && !accept_armed_ && now >= accept_retry_at_) {
        if (io_uring_sqe* sqe = loop_.new_request()) {
            io_uring_prep_multishot_accept(sqe, setup_.listener, nullptr, nullptr, SOCK_CLOEXEC);
            sqe->user_data = tag(Kind::stream_accept, index_);
            accept_armed_ = true;
        }
    }
    if (setup_.watch >= 0 && !watch_armed_) {
        if (io_uring_sqe* sqe = loop_.new_request()) {
            io_uring_prep_read(sqe, setup_.watch, watch_buf_.data(), watch_buf_.size(), 0);
            sqe->user_data = tag(Kind::control_watch, index_);
            watch_armed_ = true;
        }
    }
    if (!waiting_.empty()) admit();
    if (!retry_) return;
    retry_ = false;
    for (std::size_t i = 0; i < open_.size(); ++i) {
        Conn& c = *open_[i];
        if (c.want_send) arm_send(c);
        if (c.want_recv) arm_recv(c);
    }
    for (auto& c : closing_) {
        if (!c->cancel_pending) continue;
        c->cancel_pending = !loop_.ring().cancel_fd(c->conn.fd(), false);
        retry_ = retry_ || c->cancel_pending;
    }
}

void StreamServer::on_accept(const io_uring_cqe& cqe) noexcept {
    if (!(cqe.flags & IORING_CQE_F_MORE)) {
        accept_armed_ = false;
        // EMFILE and the like persist: re-arming at once would spin.
        if (cqe.res < 0 && cqe.res != -ECANCELED)
            accept_retry_at_ = loop_.now().boot + accept_retry;
    }
    if (cqe.res < 0) {
        if (cqe.res != -ECANCELED && log_limit_.allow(loop_.now().boot))
            RT_LOG_WARN("%s: accept failed: %s", name_, std::strerror(-cqe.res));
        return;
    }
    util::UniqueFd fd(cqe.res);
    if (loop_.stopping() || !factory_) return;
    waiting_.push_back(std::move(fd));
    if (waiting_.size() > limits_.max_connections) waiting_.pop_front();  // closed, never served
    admit();
}

void StreamServer::admit() noexcept {
    while (!waiting_.empty()) {
        if (open_.size() == limits_.max_connections) {
            if (closing_.size() >= max_closing(limits_)) return;  // until their requests are back
            auto oldest = std::min_element(
                open_.begin(), open_.end(),
                [](const auto& a, const auto& b) { return a->conn.opened() < b->conn.opened(); });
            close(**oldest, "evicted by a newer connection");
        }
        const std::uint32_t id = fresh_id();
        open_.push_back(std::make_unique<Conn>(
            StreamConnection(id, std::move(waiting_.front()), factory_(), loop_.now().boot)));
        waiting_.pop_front();
        arm_recv(*open_.back());
    }
}

void StreamServer::arm_recv(Conn& c) noexcept {
    c.want_recv = false;
    if (c.closing || c.recv_armed) return;
    io_uring_sqe* sqe = loop_.new_request();
    if (!sqe) {
        c.want_recv = retry_ = !loop_.stopping();
        return;
    }
    const auto room = c.conn.receive_room();
    io_uring_prep_recv(sqe, c.conn.fd(), room.data(), room.size(), 0);
    sqe->user_data = tag(Kind::stream_recv, index_, c.conn.id());
    c.recv_armed = true;
}

void StreamServer::arm_send(Conn& c) noexcept {
    c.want_send = false;
    if (c.closing || c.send_armed) return;
    io_uring_sqe* sqe = loop_.new_request();
    if (!sqe) {
        c.want_send = retry_ = !loop_.stopping();
        return;
    }
    const auto out = c.conn.to_send();
    io_uring_prep_send(sqe, c.conn.fd(), out.data(), out.size(), MSG_NOSIGNAL);
    sqe->user_data = tag(Kind::stream_send, index_, c.conn.id());
    c.send_armed = true;
}

void StreamServer::on_recv(const io_uring_cqe& cqe) noexcept {
    Conn* c = find(cqe);
    if (c == nullptr) return;
    c->recv_armed = false;
    if (c->closing) return release_if_idle(*c);
    // Nothing is applied while the loop stops: a set now could arm new requests.
    if (cqe.res < 0 || loop_.stopping())
        return close(*c, cqe.res < 0 && cqe.res != -ECANCELED ? "receive failed" : nullptr);
    proceed(*c, c->conn.on_received(static_cast<std::size_t>(cqe.res), loop_.now(), limits_));
}

void StreamServer::on_sent(const io_uring_cqe& cqe) noexcept {
    Conn* c = find(cqe);
    if (c == nullptr) return;
    c->send_armed = false;
    if (c->closing) return release_if_idle(*c);
    if (cqe.res <= 0 || loop_.stopping())
        return close(*c, cqe.res <= 0 && cqe.res != -ECANCELED ? "send failed" : nullptr);
    proceed(*c, c->conn.on_sent(static_cast<std::size_t>(cqe.res), loop_.now()));
}

void StreamServer::proceed(Conn& c, StreamConnection::Next next) noexcept {
    switch (next) {
        case StreamConnection::Next::receive:
            return arm_recv(c);
        case StreamConnection::Next::send:
            return arm_send(c);
        case StreamConnection::Next::close:
            return close(c, c.conn.why());
    }
}

void StreamServer::on_watch(const io_uring_cqe& cqe) noexcept {
    watch_armed_ = false;
    if (cqe.res == -ECANCELED) return;
    if (cqe.res <= 0) {
        // Without the watch a deleted socket would go unnoticed: poll it from the sweep.
        if (log_limit_.allow(loop_.now().boot))
            RT_LOG_WARN("%s: watch on the socket file failed: %s", name_, std::strerror(-cqe.res));
        setup_.watch = -1;
    }
    if (setup_.still_ours && !setup_.still_ours()) socket_gone_ = true;
}

Nanos StreamServer::next_deadline() const noexcept {
    Nanos t = no_deadline;
    if (setup_.listener >= 0 && !accept_armed_) t = std::min(t, accept_retry_at_);
    if (setup_.watch < 0 && setup_.still_ours)
        t = std::min(t, loop_.now().boot + crypto::seconds_ns(1));
    for (const auto& c : open_)
        t = std::min(t, c->conn.deadline(limits_, c->send_armed));
    return t;
}

void StreamServer::sweep(Nanos now) noexcept {
    if (setup_.watch < 0 && setup_.still_ours && !setup_.still_ours()) socket_gone_ = true;
    for (std::size_t i = 0; i < open_.size();) {
        Conn& c = *open_[i];
        if (const char* why = c.conn.expired(now, limits_, c.send_armed))
            close(c, why);  // takes it out of open_
        else
            ++i;
    }
}

void StreamServer::close(Conn& c, const char* why) noexcept {
    if (c.closing) return;
    if (why != nullptr && *why != '\0') RT_LOG_INFO("%s: connection closed: %s", name_, why);
    c.closing = true;
    c.want_recv = c.want_send = false;
    if (c.recv_armed || c.send_armed) {
        c.cancel_pending = !loop_.ring().cancel_fd(c.conn.fd(), false);
        retry_ = retry_ || c.cancel_pending;
        (void)loop_.ring().submit();
    }
    auto it =
        std::find_if(open_.begin(), open_.end(), [&](const auto& p) { return p.get() == &c; });
    closing_.push_back(std::move(*it));
    open_.erase(it);
    release_if_idle(c);
}

void StreamServer::release_if_idle(Conn& c) noexcept {
    if (!c.closing || c.recv_armed || c.send_armed) return;
    std::erase_if(closing_, [&](const auto& p) { return p.get() == &c; });  // closes its socket
}

void StreamServer::close_all() noexcept {
    // The loop drained: nothing is in flight any more.
    open_.clear();
    closing_.clear();
    waiting_.clear();
}

}  // namespace ringtun::daemon
