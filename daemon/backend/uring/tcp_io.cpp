#include "daemon/backend/uring/tcp_io.hpp"

#include <cstring>

#include "daemon/backend/tcp_shared.hpp"
#include "daemon/backend/tcp_socket.hpp"
#include "daemon/backend/uring/loop.hpp"
#include "daemon/backend/uring/loop_internal.hpp"
#include "daemon/datapath/udp_cmsg.hpp"

namespace ringtun::daemon {

using namespace loop_detail;

namespace {

constexpr std::uint16_t first_tcp_group = 16;  // buffer group of connection slot 0

ConnectionRef conn_of(const io_uring_cqe& cqe) noexcept {
    const ring::UserData ud = ring::decode(cqe.user_data);
    return {ud.slot, ud.generation};
}

}  // namespace

TcpIo::TcpIo(Loop& loop, int listener, std::vector<DialTarget> dial)
    : loop_(loop),
      listener_(listener),
      sockets_(loop.params().tcp_max_connections),
      rings_(loop.params().tcp_max_connections),
      transport_(tcp_transport_params(loop.params(), loop.params().tx_slots), listener >= 0,
                 std::move(dial), loop.datapath().slots(), *this, rng_) {}

std::uint64_t TcpIo::tag(std::uint8_t kind, std::uint32_t conn,
                         std::uint16_t extra) const noexcept {
    return ring::encode({.kind = kind,
                         .generation = transport_.generation(conn),
                         .slot = conn,
                         .buffer_id = extra});
}

ring::BufferRing* TcpIo::buffers(std::uint32_t conn) noexcept {
    if (!rings_[conn]) {
        auto r = ring::BufferRing::create(
            loop_.ring(), {.group_id = static_cast<std::uint16_t>(first_tcp_group + conn),
                           .count = loop_.params().tcp_rx_buffers,
                           .buffer_size = tcp_buffer_size});
        if (!r) {
            if (log_limit_.allow(loop_.now().boot))
                RT_LOG_ERROR("tcp: buffer ring for connection slot %u: %s", conn,
                             r.error().to_string().c_str());
            return nullptr;
        }
        rings_[conn] = std::move(*r);
    }
    return rings_[conn].get();
}

bool TcpIo::accept() noexcept {
    io_uring_sqe* sqe = loop_.new_request();
    if (!sqe) return false;
    io_uring_prep_multishot_accept(sqe, listener_, nullptr, nullptr, SOCK_CLOEXEC);
    sqe->user_data = ring::encode({.kind = static_cast<std::uint8_t>(Kind::tcp_accept)});
    return true;
}

void TcpIo::on_accept(const io_uring_cqe& cqe) noexcept {
    const Nanos now = loop_.now().boot;
    if (!(cqe.flags & IORING_CQE_F_MORE))
        transport_.on_accept_ended(cqe.res < 0 && cqe.res != -ECANCELED ? cqe.res : 0, now);
    if (cqe.res < 0) {
        if (cqe.res != -ECANCELED && log_limit_.allow(now))
            RT_LOG_WARN("tcp: accept failed: %s", std::strerror(-cqe.res));
        return;
    }
    util::UniqueFd fd(cqe.res);
    if (loop_.stopping()) return;
    Endpoint remote = connected_peer(fd.get());
    const auto conn = transport_.on_accepted(remote, now);
    if (!conn) return;
    if (!buffers(*conn)) {
        transport_.on_receive_ended({*conn, transport_.generation(*conn)}, -ENOMEM);
        return;
    }
    (void)set_tunnel_options(fd.get());
    if (mark_ != 0) (void)setsockopt(fd.get(), SOL_SOCKET, SO_MARK, &mark_, sizeof mark_);
    sockets_[*conn] = Socket{};
    sockets_[*conn].fd = std::move(fd);
    transport_.opened(*conn);
}

bool TcpIo::dial(std::uint32_t conn, const Endpoint& to) noexcept {
    if (loop_.stopping() || !buffers(conn)) return false;
    auto fd = open_dialing_socket(to);
    if (!fd) return false;
    // Before the connect: the mark routes the SYN too.
    if (mark_ != 0) (void)setsockopt(fd->get(), SOL_SOCKET, SO_MARK, &mark_, sizeof mark_);
    Socket& s = sockets_[conn];
    s = Socket{};
    const socklen_t len = to_socket_address(to, to.family(), s.dial_addr);
    io_uring_sqe* sqe = loop_.new_request();
    if (!sqe) return false;
    s.fd = std::move(*fd);
    io_uring_prep_connect(sqe, s.fd.get(), reinterpret_cast<sockaddr*>(&s.dial_addr), len);
    sqe->user_data = tag(static_cast<std::uint8_t>(Kind::tcp_connect), conn);
    return true;
}

void TcpIo::on_connect(const io_uring_cqe& cqe) noexcept {
    transport_.on_connected(conn_of(cqe), cqe.res, loop_.now());
}

bool TcpIo::receive(std::uint32_t conn) noexcept {
    io_uring_sqe* sqe = sockets_[conn].fd ? loop_.new_request() : nullptr;
    if (!sqe) return false;
    io_uring_prep_recv_multishot(sqe, sockets_[conn].fd.get(), nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = static_cast<std::uint16_t>(first_tcp_group + conn);
    sqe->user_data = tag(static_cast<std::uint8_t>(Kind::tcp_recv), conn);
    return true;
}

void TcpIo::on_recv(const io_uring_cqe& cqe) noexcept {
    const ConnectionRef c = conn_of(cqe);
    ring::BufferRing* ring = rings_[c.slot].get();
    const auto bid = ring ? ring->take(cqe) : std::nullopt;
    if (cqe.res > 0 && bid && !loop_.stopping()) {
        auto bytes = ring->buffer(*bid).first(static_cast<std::size_t>(cqe.res));
        transport_.on_received(c, {reinterpret_cast<std::uint8_t*>(bytes.data()), bytes.size()},
                               loop_.now());
    }
    if (bid) {
        (void)ring->recycle(*bid);
        ring->commit();
    }
    if (!(cqe.flags & IORING_CQE_F_MORE) || cqe.res <= 0)
        transport_.on_receive_ended(c, cqe.res > 0 && !bid ? -ENOBUFS : cqe.res);
}

bool TcpIo::send(std::uint32_t conn, std::uint32_t head, std::span<const iovec> frames) noexcept {
    Socket& s = sockets_[conn];
    io_uring_sqe* sqe = s.fd ? loop_.new_request() : nullptr;
    if (!sqe) return false;
    s.msg = msghdr{};
    s.msg.msg_iov = const_cast<iovec*>(frames.data());
    s.msg.msg_iovlen = frames.size();
    io_uring_prep_sendmsg(sqe, s.fd.get(), &s.msg, MSG_WAITALL | MSG_NOSIGNAL);
    sqe->user_data =
        tag(static_cast<std::uint8_t>(Kind::tcp_send), conn, static_cast<std::uint16_t>(head));
    return true;
}

void TcpIo::on_sent(const io_uring_cqe& cqe) noexcept {
    transport_.on_sent(conn_of(cqe), ring::decode(cqe.user_data).buffer_id, cqe.res,
                       loop_.now().boot);
}

void TcpIo::close(std::uint32_t conn) noexcept {
    Socket& s = sockets_[conn];
    if (!s.fd) return;
    // Cancel before closing: a cancel by fd finds requests through the open descriptor.
    (void)loop_.ring().cancel_fd(s.fd.get(), false);
    (void)loop_.ring().submit();
    s.fd.reset();
}

void TcpIo::release_tx(std::uint32_t tx) noexcept {
    loop_.datapath().release(tx);
}

void TcpIo::release_tx_chain(std::uint32_t head) noexcept {
    loop_.datapath().release_chain(head);
}

void TcpIo::write_to_tun(std::span<const std::uint8_t> packet) noexcept {
    loop_.write_copy_to_tun(packet);
}

void TcpIo::set_mark(std::uint32_t mark) noexcept {
    mark_ = mark;
    if (listener_ >= 0) (void)setsockopt(listener_, SOL_SOCKET, SO_MARK, &mark, sizeof mark);
    for (Socket& s : sockets_)
        if (s.fd) (void)setsockopt(s.fd.get(), SOL_SOCKET, SO_MARK, &mark, sizeof mark);
}

void TcpIo::close_all() noexcept {
    transport_.close_all();
    for (Socket& s : sockets_)
        s.fd.reset();
}

}  // namespace ringtun::daemon
