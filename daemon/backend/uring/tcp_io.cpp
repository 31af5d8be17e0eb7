#include "daemon/backend/uring/tcp_io.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "crypto/x25519.hpp"
#include "daemon/backend/tcp_socket.hpp"
#include "daemon/backend/udp_socket.hpp"
#include "daemon/backend/uring/loop.hpp"
#include "daemon/backend/uring/loop_internal.hpp"
#include "daemon/datapath/udp_cmsg.hpp"
#include "util/log.hpp"

namespace ringtun::daemon {

using namespace loop_detail;

namespace {

constexpr std::uint16_t first_tcp_group = 16;  // buffer group of connection slot 0
util::log::RateLimit tcp_log_limit(2, 10);

std::uint64_t random_u64() noexcept {
    std::uint64_t v = 0;
    crypto::SystemRng().fill({reinterpret_cast<std::uint8_t*>(&v), sizeof v});
    return v;
}

}  // namespace

TcpIo::TcpIo(Loop& loop, int listener, std::vector<Endpoint> dial)
    : loop_(loop),
      listener_(listener),
      table_({.capacity = loop.params_.tcp_max_connections,
              .max_payload =
                  layout::largest_peer_message(loop.params_.mtu),  // peers may use a larger MTU
              // Room for every transmit slot: when a connection cannot keep up, the TUN ring
              // runs dry first and pushes back on the sender, instead of frames being dropped.
              .send_queue_capacity = tx_slot_count(loop.params_)}),
      conns_(loop.params_.tcp_max_connections),
      rings_(loop.params_.tcp_max_connections) {
    for (Endpoint& e : dial) {
        Dialer d;
        d.to = e;
        dialers_.push_back(d);
    }
}

std::uint64_t TcpIo::tag(std::uint8_t kind, std::uint32_t slot,
                         std::uint16_t extra) const noexcept {
    return ring::encode(
        {.kind = kind, .generation = table_.generation(slot), .slot = slot, .buffer_id = extra});
}

ring::BufferRing* TcpIo::buffers(std::uint32_t slot) noexcept {
    if (!rings_[slot]) {
        auto r = ring::BufferRing::create(
            *loop_.ring_, {.group_id = static_cast<std::uint16_t>(first_tcp_group + slot),
                           .count = loop_.params_.tcp_rx_buffers,
                           .buffer_size = tcp_buffer_size});
        if (!r) {
            RT_LOG_ERROR("tcp: buffer ring for connection slot %u: %s", slot,
                         r.error().to_string().c_str());
            return nullptr;
        }
        rings_[slot] = std::move(*r);
    }
    return rings_[slot].get();
}

void TcpIo::arm(crypto::Nanos now) noexcept {
    if (listener_ >= 0 && !accept_armed_ && now >= accept_retry_at_) {
        io_uring_sqe* sqe = loop_.ring_->get_sqe();
        io_uring_prep_multishot_accept(sqe, listener_, nullptr, nullptr, SOCK_CLOEXEC);
        sqe->user_data = ring::encode({.kind = static_cast<std::uint8_t>(Kind::tcp_accept)});
        accept_armed_ = true;
    }
    for (std::size_t i = 0; i < dialers_.size(); ++i)
        if (!dialers_[i].slot && now >= dialers_[i].next_attempt) start_dial(i, now);
    if (rearm_recvs_) {
        rearm_recvs_ = false;
        for (std::uint32_t s = 0; s < conns_.size(); ++s)
            if (conns_[s].fd && !conns_[s].recv_armed && table_.state(s) == ConnectionState::open)
                arm_recv(s);
    }
}

std::optional<std::uint32_t> TcpIo::open_slot(crypto::Nanos now, Direction d) noexcept {
    Acquire a = table_.acquire(now, d);
    if (a.status == AcquireStatus::evict_first) {
        close(a.slot, Close::evicted);
        a = table_.acquire(now, d);
    }
    if (a.status != AcquireStatus::acquired) {
        ++counters_.refused;
        return std::nullopt;
    }
    return a.slot;
}

void TcpIo::on_accept(const io_uring_cqe& cqe) noexcept {
    if (!(cqe.flags & IORING_CQE_F_MORE)) accept_armed_ = false;
    if (cqe.res < 0) {
        if (cqe.res == -ECANCELED) return;
        // EMFILE, ENFILE, ENOMEM persist: re-arming at once would spin. Try again later.
        accept_retry_at_ = loop_.now_.boot + crypto::millis_ns(100);
        if (tcp_log_limit.allow(loop_.now_.boot))
            RT_LOG_WARN("tcp: accept failed: %s", std::strerror(-cqe.res));
        return;
    }
    util::UniqueFd fd(cqe.res);
    if (loop_.stopping_) return;
    const auto slot = open_slot(loop_.now_.boot, Direction::inbound);
    if (!slot || !buffers(*slot)) {
        if (slot) table_.release(*slot, [this](std::uint32_t tx) { loop_.release_tx(tx); });
        return;
    }
    (void)set_tunnel_options(fd.get());
    Conn& c = conns_[*slot];
    c = Conn{};
    c.fd = std::move(fd);
    c.remote = connected_peer(c.fd.get());
    c.remote.tcp = true;
    c.remote.tcp_connection = table_.handle(*slot);
    ++counters_.accepted;
    arm_recv(*slot);
}

void TcpIo::start_dial(std::size_t index, crypto::Nanos now) noexcept {
    Dialer& d = dialers_[index];
    d.next_attempt = now + d.backoff.next_delay(random_u64());
    auto fd = open_dialing_socket(d.to);
    if (!fd) {
        ++counters_.connect_failures;
        return;
    }
    const auto slot = open_slot(now, Direction::outbound);
    if (!slot || !buffers(*slot)) {
        if (slot) table_.release(*slot, [this](std::uint32_t tx) { loop_.release_tx(tx); });
        return;
    }
    Conn& c = conns_[*slot];
    c = Conn{};
    c.fd = std::move(*fd);
    c.dialer = static_cast<int>(index);
    c.remote = d.to;
    c.remote.tcp_connection = table_.handle(*slot);
    const socklen_t len = to_socket_address(d.to, d.to.family(), c.dial_addr);
    d.slot = *slot;
    ++counters_.dialed;
    io_uring_sqe* sqe = loop_.ring_->get_sqe();
    io_uring_prep_connect(sqe, c.fd.get(), reinterpret_cast<sockaddr*>(&c.dial_addr), len);
    sqe->user_data = tag(static_cast<std::uint8_t>(Kind::tcp_connect), *slot);
}

void TcpIo::on_connect(const io_uring_cqe& cqe) noexcept {
    const ring::UserData ud = ring::decode(cqe.user_data);
    const ConnectionHandle h = encode_connection({ud.slot, ud.generation});
    if (!table_.is_current(h)) return;
    if (cqe.res < 0) {
        ++counters_.connect_failures;
        if (tcp_log_limit.allow(loop_.now_.boot))
            RT_LOG_INFO("tcp: connect to %s failed: %s", conns_[ud.slot].remote.to_string().c_str(),
                        std::strerror(-cqe.res));
        close(ud.slot, Close::error);
        return;
    }
    table_.mark_open(ud.slot, loop_.now_.boot);
    RT_LOG_INFO("tcp: connected to %s", conns_[ud.slot].remote.to_string().c_str());
    arm_recv(ud.slot);
    if (!table_.queue(ud.slot).empty()) start_send(ud.slot, std::nullopt);
    loop_.device_->on_transport_connected(conns_[ud.slot].remote, loop_.now_);
}

void TcpIo::arm_recv(std::uint32_t slot) noexcept {
    Conn& c = conns_[slot];
    io_uring_sqe* sqe = loop_.ring_->get_sqe();
    io_uring_prep_recv_multishot(sqe, c.fd.get(), nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = static_cast<std::uint16_t>(first_tcp_group + slot);
    sqe->user_data = tag(static_cast<std::uint8_t>(Kind::tcp_recv), slot);
    c.recv_armed = true;
}

void TcpIo::on_recv(const io_uring_cqe& cqe) noexcept {
    const ring::UserData ud = ring::decode(cqe.user_data);
    ring::BufferRing* ring = rings_[ud.slot].get();
    const auto bid = ring ? ring->take(cqe) : std::nullopt;
    const bool current = table_.is_current(encode_connection({ud.slot, ud.generation}));
    if (!current || cqe.res <= 0 || !bid || loop_.stopping_) {
        if (bid) {
            (void)ring->recycle(*bid);
            ring->commit();
        }
        if (!current) return;
        if (!(cqe.flags & IORING_CQE_F_MORE)) conns_[ud.slot].recv_armed = false;
        if (cqe.res == 0)
            close(ud.slot, Close::eof);
        else if (cqe.res == -ENOBUFS)
            rearm_recvs_ = true;
        else if (cqe.res < 0 && cqe.res != -ECANCELED)
            close(ud.slot, Close::error);
        return;
    }
    if (!(cqe.flags & IORING_CQE_F_MORE)) {
        conns_[ud.slot].recv_armed = false;
        rearm_recvs_ = true;
    }
    counters_.rx_bytes += static_cast<std::uint64_t>(cqe.res);
    auto bytes = ring->buffer(*bid).first(static_cast<std::size_t>(cqe.res));
    const FrameError e = table_.feed(ud.slot, loop_.now_.boot,
                                     {reinterpret_cast<std::uint8_t*>(bytes.data()), bytes.size()},
                                     [this, slot = ud.slot](std::span<std::uint8_t> payload, bool) {
                                         return on_frame(slot, payload);
                                     });
    (void)ring->recycle(*bid);
    ring->commit();
    if (e == FrameError::none) return;
    if (e == FrameError::zero_length) ++counters_.zero_length;
    if (e == FrameError::oversized) ++counters_.oversized;
    close(ud.slot, Close::protocol);
}

bool TcpIo::on_frame(std::uint32_t slot, std::span<std::uint8_t> payload) noexcept {
    if (!crypto::classify(payload)) {
        ++counters_.malformed;
        return false;
    }
    ++counters_.rx_frames;
    const Device::Inbound in =
        loop_.device_->on_network_packet(payload, conns_[slot].remote, loop_.now_);
    if (in.peer) {
        if (table_.peer(slot) != in.peer) table_.attach(slot, in.peer);
        if (conns_[slot].dialer >= 0)
            dialers_[static_cast<std::size_t>(conns_[slot].dialer)].backoff.reset();
    }
    if (!in.packet.empty()) loop_.write_copy_to_tun(in.packet);
    return true;
}

std::optional<std::uint32_t> TcpIo::route(const Endpoint& to) const noexcept {
    if (auto slot = table_.slot_of(to.tcp_connection)) return slot;
    for (const Dialer& d : dialers_)
        if (d.slot && d.to.same_address(to)) return d.slot;
    return std::nullopt;
}

void TcpIo::send(const Endpoint& to, std::uint32_t tx) noexcept {
    const auto slot = route(to);
    if (!slot || loop_.stopping_) {
        ++counters_.no_connection;
        loop_.release_tx(tx);
        return;
    }
    if (!conns_[*slot].sending && table_.state(*slot) == ConnectionState::open &&
        table_.queue(*slot).empty()) {
        start_send(*slot, tx);
        return;
    }
    SendQueue& q = table_.queue(*slot);
    // Only a connection a peer authenticated on may hold many transmit slots; others (and
    // dials still connecting) keep a few, so a connection that never reads cannot take the
    // slots every other path needs.
    if (!table_.authenticated(*slot) && q.size() >= unauthenticated_queue_limit) {
        if (auto oldest = q.pop()) loop_.release_tx(*oldest);
        ++counters_.queue_drops;
    }
    if (auto dropped = q.push(tx)) {
        ++counters_.queue_drops;
        loop_.release_tx(*dropped);
    }
}

void TcpIo::start_send(std::uint32_t slot, std::optional<std::uint32_t> first) noexcept {
    Conn& c = conns_[slot];
    SendQueue& q = table_.queue(slot);
    // The batch is a chain of transmit slots; the completion names its head, so it can free
    // the chain even after this connection slot was reused.
    std::int32_t head = -1, tail = -1;
    unsigned n = 0;
    auto link = [&](std::uint32_t tx) {
        TxSlots& slots = *loop_.tx_;
        slots[tx].next = no_slot;
        if (tail >= 0)
            slots[static_cast<std::uint32_t>(tail)].next = static_cast<std::int32_t>(tx);
        else
            head = static_cast<std::int32_t>(tx);
        tail = static_cast<std::int32_t>(tx);
        c.iov[n++] = slots[tx].iov;
    };
    if (first) link(*first);
    while (n < max_batch) {
        const auto tx = q.pop();
        if (!tx) break;
        link(*tx);
    }
    if (n == 0) return;
    c.batch_bytes = 0;
    for (unsigned i = 0; i < n; ++i)
        c.batch_bytes += c.iov[i].iov_len;
    c.msg = msghdr{};
    c.msg.msg_iov = c.iov.data();
    c.msg.msg_iovlen = n;
    c.sending = true;
    io_uring_sqe* sqe = loop_.ring_->get_sqe();
    io_uring_prep_sendmsg(sqe, c.fd.get(), &c.msg, MSG_WAITALL | MSG_NOSIGNAL);
    sqe->user_data =
        tag(static_cast<std::uint8_t>(Kind::tcp_send), slot, static_cast<std::uint16_t>(head));
}

void TcpIo::on_sent(const io_uring_cqe& cqe) noexcept {
    const ring::UserData ud = ring::decode(cqe.user_data);
    loop_.release_tx_chain(ud.buffer_id);
    if (!table_.is_current(encode_connection({ud.slot, ud.generation}))) return;
    conns_[ud.slot].sending = false;
    if (cqe.res < 0) {
        if (cqe.res != -ECANCELED) close(ud.slot, Close::error);
        return;
    }
    counters_.tx_bytes += static_cast<std::uint64_t>(cqe.res);
    // MSG_WAITALL reports a partial count when the stream failed midway: the framing is lost.
    if (static_cast<std::size_t>(cqe.res) != conns_[ud.slot].batch_bytes) {
        close(ud.slot, Close::error);
        return;
    }
    if (!table_.queue(ud.slot).empty()) start_send(ud.slot, std::nullopt);
}

void TcpIo::close(std::uint32_t slot, Close why) noexcept {
    Conn& c = conns_[slot];
    switch (why) {
        case Close::eof:
            ++counters_.closed_eof;
            break;
        case Close::error:
            ++counters_.closed_error;
            break;
        case Close::evicted:
            ++counters_.evicted;
            break;
        case Close::stalled:
            ++counters_.stalled;
            break;
        case Close::idle:
            ++counters_.idle_closed;
            break;
        case Close::protocol:
        case Close::shutdown:
            break;
    }
    if (c.fd && why != Close::shutdown) {
        // Cancel before closing: a cancel by fd finds requests through the open descriptor.
        // (At shutdown everything was cancelled and drained already.)
        loop_.ring_->cancel_fd(c.fd.get(), false);
        (void)loop_.ring_->submit();
        c.fd.reset();
    }
    if (c.dialer >= 0) dialers_[static_cast<std::size_t>(c.dialer)].slot.reset();
    // The peer must not keep a handle a future connection in this slot could match again
    // (16-bit generations wrap); a dialed peer falls back to its dialer.
    if (Peer* p = table_.peer(slot);
        p && p->endpoint && p->endpoint->tcp_connection == table_.handle(slot))
        p->endpoint->tcp_connection = 0;
    if (table_.peer(slot) && table_.authenticated(slot) && why != Close::shutdown)
        RT_LOG_INFO("tcp: connection to %s (%s) closed", c.remote.to_string().c_str(),
                    table_.peer(slot)->label().c_str());
    table_.release(slot, [this](std::uint32_t tx) { loop_.release_tx(tx); });
    c = Conn{};
}

crypto::Nanos TcpIo::next_deadline() const noexcept {
    crypto::Nanos t = no_deadline;
    for (const Dialer& d : dialers_)
        if (!d.slot) t = std::min(t, d.next_attempt);
    if (table_.in_use() > 0) t = std::min(t, last_sweep_ + crypto::seconds_ns(1));
    if (listener_ >= 0 && !accept_armed_) t = std::min(t, accept_retry_at_);
    return t;
}

void TcpIo::sweep(crypto::Nanos now) noexcept {
    if (now < last_sweep_ + crypto::seconds_ns(1)) return;
    last_sweep_ = now;
    table_.for_each_expired(now,
                            {.stall_timeout = stall_timeout,
                             .unauthenticated_idle_timeout = unauthenticated_idle_timeout},
                            [this](std::uint32_t slot, ConnectionHandle, Expiry e) {
                                close(slot, e == Expiry::stalled ? Close::stalled : Close::idle);
                            });
}

void TcpIo::close_all() noexcept {
    for (std::uint32_t s = 0; s < conns_.size(); ++s)
        if (conns_[s].fd) close(s, Close::shutdown);
}

}  // namespace ringtun::daemon
