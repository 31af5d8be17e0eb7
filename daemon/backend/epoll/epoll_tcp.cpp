#include "daemon/backend/epoll/epoll_tcp.hpp"

#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "daemon/backend/epoll/epoll_loop.hpp"
#include "daemon/backend/tcp_shared.hpp"
#include "daemon/backend/tcp_socket.hpp"
#include "daemon/datapath/udp_cmsg.hpp"
#include "tun/virtio_net_hdr.hpp"

namespace ringtun::daemon {

namespace {

// Receives per readable event before the other sources get their turn.
constexpr int receive_budget = 16;

}  // namespace

EpollTcp::EpollTcp(EpollLoop& loop, int listener, std::vector<DialTarget> dial, std::uint64_t data)
    : loop_(loop),
      listener_(listener),
      data_(data),
      sockets_(loop.params().tcp_max_connections),
      transport_(tcp_transport_params(loop.params(), loop.params().tx_slots), listener >= 0,
                 std::move(dial), loop.datapath().slots(), *this, rng_) {
    results_.reserve(2 * sockets_.size() + 8);
}

util::Result<void> EpollTcp::start() {
    if (listener_ < 0) return {};
    if (auto r = set_nonblocking(listener_); !r) return r;
    epoll_event ev{};
    ev.data.u64 = data_ | listener_low;  // no interest until the transport asks to accept
    if (::epoll_ctl(loop_.epoll_fd(), EPOLL_CTL_ADD, listener_, &ev) != 0)
        return util::fail(util::sys_error("epoll_ctl", errno, "TCP listener"));
    return {};
}

std::uint64_t EpollTcp::data_of(std::uint32_t slot) const noexcept {
    return data_ | std::uint64_t{sockets_[slot].generation} << 32 | slot;
}

void EpollTcp::update_interest(std::uint32_t slot) noexcept {
    Socket& s = sockets_[slot];
    const std::uint32_t want = (s.receiving ? std::uint32_t{EPOLLIN} : 0u) |
                               (s.connecting || s.sending ? std::uint32_t{EPOLLOUT} : 0u);
    if (!s.fd || want == s.events) return;
    epoll_event ev{};
    ev.events = want;
    ev.data.u64 = data_of(slot);
    (void)::epoll_ctl(loop_.epoll_fd(), EPOLL_CTL_MOD, s.fd.get(), &ev);
    s.events = want;
}

bool EpollTcp::accept() noexcept {
    if (loop_.stopping() || listener_ < 0) return false;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = data_ | listener_low;
    accepting_ = ::epoll_ctl(loop_.epoll_fd(), EPOLL_CTL_MOD, listener_, &ev) == 0;
    return accepting_;
}

void EpollTcp::accept_all() noexcept {
    const Nanos now = loop_.now().boot;
    for (int i = 0; i < 64 && accepting_; ++i) {
        util::UniqueFd fd(::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            const int error = errno;
            if (error == EAGAIN || error == EINTR || error == ECONNABORTED) return;
            // The transport decides when to accept again (TcpTransport::on_accept_ended): at
            // once after closing a connection to make room at EMFILE, else after a pause.
            if (log_limit_.allow(now)) RT_LOG_WARN("tcp: accept failed: %s", std::strerror(error));
            epoll_event ev{};
            ev.data.u64 = data_ | listener_low;
            (void)::epoll_ctl(loop_.epoll_fd(), EPOLL_CTL_MOD, listener_, &ev);
            accepting_ = false;
            transport_.on_accept_ended(-error, now);
            return;
        }
        if (loop_.stopping()) return;
        const auto slot = transport_.on_accepted(connected_peer(fd.get()), now);
        if (!slot) continue;  // refused: closed
        (void)set_tunnel_options(fd.get());
        if (mark_ != 0) (void)setsockopt(fd.get(), SOL_SOCKET, SO_MARK, &mark_, sizeof mark_);
        Socket& s = sockets_[*slot];
        s = Socket{};
        s.generation = transport_.generation(*slot);
        epoll_event ev{};
        ev.data.u64 = data_of(*slot);
        if (::epoll_ctl(loop_.epoll_fd(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) {
            const int error = errno;
            transport_.on_receive_ended(ref(*slot), -error);  // the transport closes it
            continue;
        }
        s.fd = std::move(fd);
        transport_.opened(*slot);
    }
}

bool EpollTcp::dial(std::uint32_t conn, const Endpoint& to) noexcept {
    if (loop_.stopping()) return false;
    auto fd = open_dialing_socket(to);
    if (!fd || !set_nonblocking(fd->get())) return false;
    // Before the connect: the mark routes the SYN too.
    if (mark_ != 0) (void)setsockopt(fd->get(), SOL_SOCKET, SO_MARK, &mark_, sizeof mark_);
    Socket& s = sockets_[conn];
    s = Socket{};
    s.generation = transport_.generation(conn);
    sockaddr_in6 addr{};
    const socklen_t len = to_socket_address(to, to.family(), addr);
    const int r = ::connect(fd->get(), reinterpret_cast<sockaddr*>(&addr), len);
    if (r != 0 && errno != EINPROGRESS) {
        results_.push_back({Result::Kind::connected, ref(conn), 0, -errno});
        s.fd = std::move(*fd);
        return true;
    }
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.u64 = data_of(conn);
    if (::epoll_ctl(loop_.epoll_fd(), EPOLL_CTL_ADD, fd->get(), &ev) != 0) return false;
    s.fd = std::move(*fd);
    s.connecting = true;
    s.events = EPOLLOUT;
    return true;
}

void EpollTcp::on_connectable(std::uint32_t slot) noexcept {
    Socket& s = sockets_[slot];
    int error = 0;
    socklen_t len = sizeof error;
    if (::getsockopt(s.fd.get(), SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
    s.connecting = false;
    update_interest(slot);
    transport_.on_connected(ref(slot), -error, loop_.now());
}

bool EpollTcp::receive(std::uint32_t conn) noexcept {
    Socket& s = sockets_[conn];
    if (!s.fd || loop_.stopping()) return false;
    s.receiving = true;
    update_interest(conn);
    return true;
}

void EpollTcp::on_readable(std::uint32_t slot) noexcept {
    for (int i = 0; i < receive_budget; ++i) {
        Socket& s = sockets_[slot];
        if (!s.fd || !s.receiving || s.generation != transport_.generation(slot)) return;
        const ssize_t n = ::recv(s.fd.get(), scratch_.data(), scratch_.size(), MSG_DONTWAIT);
        const int error = n < 0 ? errno : 0;
        if (n < 0 && (error == EAGAIN || error == EINTR)) return;
        if (n <= 0) {
            s.receiving = false;
            update_interest(slot);
            transport_.on_receive_ended(ref(slot), -error);  // 0: the peer's EOF; it may close
            return;
        }
        transport_.on_received(ref(slot), {scratch_.data(), static_cast<std::size_t>(n)},
                               loop_.now());
    }
}

bool EpollTcp::send(std::uint32_t conn, std::uint32_t head,
                    std::span<const iovec> frames) noexcept {
    Socket& s = sockets_[conn];
    if (!s.fd || s.sending || frames.size() > s.iov.size() || loop_.stopping()) return false;
    std::copy(frames.begin(), frames.end(), s.iov.begin());
    s.iov_first = 0;
    s.iov_count = frames.size();
    s.sent = 0;
    s.head = head;
    s.sending = true;
    continue_send(conn);
    return true;
}

void EpollTcp::continue_send(std::uint32_t slot) noexcept {
    Socket& s = sockets_[slot];
    while (s.iov_first < s.iov_count) {
        msghdr msg{};
        msg.msg_iov = &s.iov[s.iov_first];
        msg.msg_iovlen = s.iov_count - s.iov_first;
        const ssize_t n = ::sendmsg(s.fd.get(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        const int error = n < 0 ? errno : 0;
        if (error == EINTR) continue;
        if (error == EAGAIN) return update_interest(slot);  // the rest at EPOLLOUT
        if (n < 0) {
            s.sending = false;
            update_interest(slot);
            results_.push_back({Result::Kind::sent, ref(slot), s.head, -error});
            return;
        }
        s.sent += static_cast<std::size_t>(n);
        // Step over what went out: whole iovecs, then into the one it stopped in.
        for (std::size_t left = static_cast<std::size_t>(n); left > 0;) {
            iovec& v = s.iov[s.iov_first];
            const std::size_t take = std::min(left, v.iov_len);
            v.iov_base = static_cast<char*>(v.iov_base) + take;
            v.iov_len -= take;
            left -= take;
            if (v.iov_len == 0) ++s.iov_first;
        }
        while (s.iov_first < s.iov_count && s.iov[s.iov_first].iov_len == 0)
            ++s.iov_first;
    }
    s.sending = false;
    update_interest(slot);
    results_.push_back({Result::Kind::sent, ref(slot), s.head, static_cast<int>(s.sent)});
}

void EpollTcp::on_event(std::uint64_t low, std::uint32_t events) noexcept {
    if (low == listener_low) return accept_all();
    const auto slot = static_cast<std::uint32_t>(low);
    const auto generation = static_cast<std::uint16_t>(low >> 32);
    if (slot >= sockets_.size()) return;
    Socket& s = sockets_[slot];
    if (!s.fd || s.generation != generation) return;  // closed earlier in this batch
    if (s.connecting) return on_connectable(slot);
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && s.sending) continue_send(slot);
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(slot);
}

void EpollTcp::close(std::uint32_t conn) noexcept {
    Socket& s = sockets_[conn];
    if (!s.fd) return;
    // What the io_uring loop's cancelled send would report: the transport frees its slots.
    if (s.sending) results_.push_back({Result::Kind::sent, ref(conn), s.head, -ECANCELED});
    s = Socket{};  // closing the socket takes it out of the epoll set
}

bool EpollTcp::deliver() noexcept {
    if (results_.empty()) return false;
    // Delivering may queue more (a failed connect closes, a send completes and starts the
    // next): take what is there now.
    const std::size_t n = results_.size();
    for (std::size_t i = 0; i < n; ++i) {
        const Result r = results_[i];
        if (r.kind == Result::Kind::connected)
            transport_.on_connected(r.conn, r.result, loop_.now());
        else
            transport_.on_sent(r.conn, r.head, r.result, loop_.now().boot);
    }
    results_.erase(results_.begin(), results_.begin() + static_cast<std::ptrdiff_t>(n));
    return true;
}

void EpollTcp::close_all() noexcept {
    for (std::uint32_t i = 0; i < sockets_.size(); ++i)
        close(i);
    while (deliver()) {
    }
    transport_.close_all();
}

void EpollTcp::set_mark(std::uint32_t mark) noexcept {
    mark_ = mark;
    if (listener_ >= 0) (void)setsockopt(listener_, SOL_SOCKET, SO_MARK, &mark, sizeof mark);
    for (Socket& s : sockets_)
        if (s.fd) (void)setsockopt(s.fd.get(), SOL_SOCKET, SO_MARK, &mark, sizeof mark);
}

void EpollTcp::release_tx(std::uint32_t tx) noexcept {
    loop_.datapath().release(tx);
}

void EpollTcp::release_tx_chain(std::uint32_t head) noexcept {
    loop_.datapath().release_chain(head);
}

void EpollTcp::write_to_tun(std::span<const std::uint8_t> packet) noexcept {
    // A TUN with the virtio-net header takes a zeroed one first: no offload, the kernel checks
    // the checksums.
    static const std::array<std::uint8_t, tun::vnet_hdr_len> no_offload{};
    const bool vnet = loop_.params().offloads.vnet_hdr;
    const iovec pieces[2] = {{const_cast<std::uint8_t*>(no_offload.data()), no_offload.size()},
                             {const_cast<std::uint8_t*>(packet.data()), packet.size()}};
    const ssize_t n = ::writev(loop_.tun_fd(), vnet ? pieces : pieces + 1, vnet ? 2 : 1);
    if (n < 0) return loop_.tun_write_failed(errno, true);
    ++tun_packets_;
    tun_bytes_ += static_cast<std::uint64_t>(n);
}

}  // namespace ringtun::daemon
