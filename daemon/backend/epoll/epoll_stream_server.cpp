#include "daemon/backend/epoll/epoll_stream_server.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "daemon/backend/epoll/epoll_loop.hpp"

namespace ringtun::daemon {

namespace {

constexpr Nanos accept_pause = crypto::millis_ns(100);

util::Result<void> epoll_add(int epfd, int fd, std::uint32_t events, std::uint64_t data) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = data;
    if (::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        return util::fail(util::sys_error("epoll_ctl", errno));
    return {};
}

std::uint32_t events_for(StreamConnection::Next next) noexcept {
    return next == StreamConnection::Next::send ? EPOLLOUT : EPOLLIN;
}

}  // namespace

EpollStreamServer::EpollStreamServer(EpollLoop& loop, std::uint64_t data, const char* name,
                                     const StreamLimits& limits, ControlSetup setup)
    : loop_(loop), data_(data), name_(name), limits_(limits), setup_(std::move(setup)) {
    open_.reserve(limits_.max_connections + 1);
}

EpollStreamServer::~EpollStreamServer() = default;

util::Result<void> EpollStreamServer::start() {
    if (auto r = set_nonblocking(setup_.listener); !r) return r;
    if (auto r = epoll_add(loop_.epoll_fd(), setup_.listener, EPOLLIN, data_); !r) return r;
    if (setup_.watch >= 0)
        return epoll_add(loop_.epoll_fd(), setup_.watch, EPOLLIN, data_ | watch_id);
    return {};
}

std::uint32_t EpollStreamServer::fresh_id() noexcept {
    for (;;) {
        if (++next_id_ == watch_id) next_id_ = 1;
        const bool used = std::any_of(open_.begin(), open_.end(),
                                      [&](const auto& c) { return c->conn.id() == next_id_; });
        if (!used) return next_id_;
    }
}

void EpollStreamServer::on_event(std::uint32_t id, std::uint32_t events) noexcept {
    if (id == 0) return accept_all();
    if (id == watch_id) return on_watch();
    for (auto& c : open_)
        if (c->conn.id() == id) return on_conn(*c, events);
}

void EpollStreamServer::accept_all() noexcept {
    const Nanos now = loop_.now().boot;
    if (now < accept_paused_until_) return;
    for (int i = 0; i < 64; ++i) {
        util::UniqueFd fd(
            ::accept4(setup_.listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            const int error = errno;
            if (error != EAGAIN && error != EINTR && error != ECONNABORTED) {
                // EMFILE and the like persist, and level-triggered the waiting connection
                // would wake every wait: the listener is left out until the pause ends.
                accept_paused_until_ = now + accept_pause;
                set_listener_interest(0);
                if (log_limit_.allow(now))
                    RT_LOG_WARN("%s: accept failed: %s", name_, std::strerror(error));
            }
            return;
        }
        if (loop_.stopping() || !factory_) continue;  // closed unserved
        if (open_.size() == limits_.max_connections) {
            auto oldest = std::min_element(
                open_.begin(), open_.end(),
                [](const auto& a, const auto& b) { return a->conn.opened() < b->conn.opened(); });
            close(**oldest, "evicted by a newer connection");
        }
        const std::uint32_t id = fresh_id();
        open_.push_back(
            std::make_unique<Conn>(Conn{StreamConnection(id, std::move(fd), factory_(), now),
                                        StreamConnection::Next::receive}));
        Conn& c = *open_.back();
        if (!epoll_add(loop_.epoll_fd(), c.conn.fd(), EPOLLIN, data_ | id)) {
            close(c, "cannot be watched");
            continue;
        }
        pump(c);
    }
}

void EpollStreamServer::on_watch() noexcept {
    std::array<char, 1024> buf{};
    while (::read(setup_.watch, buf.data(), buf.size()) > 0) {
    }
    if (setup_.still_ours && !setup_.still_ours()) socket_gone_ = true;
}

void EpollStreamServer::on_conn(Conn& c, std::uint32_t events) noexcept {
    if ((events & (EPOLLERR | EPOLLHUP)) && c.next == StreamConnection::Next::send)
        return close(c, "send failed");
    pump(c);
}

void EpollStreamServer::pump(Conn& c) noexcept {
    using Next = StreamConnection::Next;
    const Next before = c.next;
    // A bounded number of calls per event (a client streaming its 16 MiB must not hold the
    // loop); level-triggered, the rest comes at the next wait.
    for (int calls = 0; calls < 64; ++calls) {
        if (loop_.stopping()) return close(c, nullptr);  // nothing is applied while stopping
        ssize_t n = 0;
        if (c.next == Next::receive) {
            const auto room = c.conn.receive_room();
            n = ::recv(c.conn.fd(), room.data(), room.size(), MSG_DONTWAIT);
            if (n >= 0)
                c.next = c.conn.on_received(static_cast<std::size_t>(n), loop_.now(), limits_);
        } else if (c.next == Next::send) {
            const auto out = c.conn.to_send();
            n = ::send(c.conn.fd(), out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n >= 0) c.next = c.conn.on_sent(static_cast<std::size_t>(n), loop_.now());
        } else {
            return close(c, c.conn.why());
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n < 0) return close(c, c.next == Next::send ? "send failed" : "receive failed");
    }
    if (c.next == before) return;
    epoll_event ev{};
    ev.events = events_for(c.next);
    ev.data.u64 = data_ | c.conn.id();
    if (::epoll_ctl(loop_.epoll_fd(), EPOLL_CTL_MOD, c.conn.fd(), &ev) != 0)
        close(c, "cannot be watched");
}

void EpollStreamServer::set_listener_interest(std::uint32_t events) noexcept {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = data_;
    (void)::epoll_ctl(loop_.epoll_fd(), EPOLL_CTL_MOD, setup_.listener, &ev);
}

Nanos EpollStreamServer::next_deadline() const noexcept {
    Nanos t = no_deadline;
    if (accept_paused_until_ > loop_.now().boot) t = accept_paused_until_;
    for (const auto& c : open_)
        t = std::min(t, c->conn.deadline(limits_, c->next == StreamConnection::Next::send));
    return t;
}

void EpollStreamServer::sweep(Nanos now) noexcept {
    if (accept_paused_until_ != 0 && now >= accept_paused_until_) {
        accept_paused_until_ = 0;
        set_listener_interest(EPOLLIN);  // waiting connections wake the next wait
    }
    for (std::size_t i = 0; i < open_.size();) {
        Conn& c = *open_[i];
        const bool sending = c.next == StreamConnection::Next::send;
        if (const char* why = c.conn.expired(now, limits_, sending))
            close(c, why);
        else
            ++i;
    }
}

void EpollStreamServer::close(Conn& c, const char* why) noexcept {
    if (why != nullptr && *why != '\0') RT_LOG_INFO("%s: connection closed: %s", name_, why);
    // Closing the socket takes it out of the epoll set.
    std::erase_if(open_, [&](const auto& p) { return p.get() == &c; });
}

void EpollStreamServer::close_all() noexcept {
    open_.clear();
}

}  // namespace ringtun::daemon
