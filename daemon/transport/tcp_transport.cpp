#include "daemon/transport/tcp_transport.hpp"

#include <cerrno>
#include <cstring>

#include "crypto/messages.hpp"
#include "util/log.hpp"

namespace ringtun::daemon {

namespace {

// The first byte of the message in a TCP frame (after its 2-byte length).
std::uint8_t message_type(const TxSlot& s) noexcept {
    return s.iov.iov_len > layout::prefix
               ? static_cast<const std::uint8_t*>(s.iov.iov_base)[layout::prefix]
               : 0;
}

}  // namespace

SourceKey source_key(const Endpoint& remote) noexcept {
    if (remote.family() == AF_INET) {
        const auto* a = reinterpret_cast<const std::uint8_t*>(&remote.addr.in4.sin_addr);
        return source_key_v4(a[0], a[1], a[2], a[3]);
    }
    std::array<std::uint8_t, 16> a{};
    std::memcpy(a.data(), &remote.addr.in6.sin6_addr, 16);
    return source_key_v6(a);
}

TcpTransport::TcpTransport(const TcpTransportParams& p, bool listening,
                           std::vector<DialTarget> dial, TxSlots& tx, TcpPort& port,
                           crypto::Rng& rng)
    : tx_(tx),
      port_(port),
      rng_(rng),
      listening_(listening),
      table_({.capacity = p.max_connections,
              .max_payload = p.max_payload,
              // Room for every transmit slot: a draining connection may hold that many (its
              // quota bounds it otherwise), so the queue itself never drops.
              .send_queue_capacity = tx.capacity()}),
      quota_(p.max_connections, p.quota),
      conns_(p.max_connections),
      dial_backoff_(p.dial_backoff) {
    pending_starts_.reserve(p.max_connections);
    for (const DialTarget& d : dial)
        dialers_.push_back(Dialer{d.to, d.peer, Backoff(p.dial_backoff), 0, std::nullopt});
}

void TcpTransport::arm(Nanos now) noexcept {
    now_ = now;
    if (any_over_) shed_stalled();
    if (listening_ && !accept_armed_ && now >= accept_retry_at_) {
        accept_armed_ = port_.accept();
        if (!accept_armed_) accept_retry_at_ = now + accept_retry;
    }
    for (std::size_t i = 0; i < dialers_.size(); ++i)
        if (dialers_[i].active && !dialers_[i].slot && now >= dialers_[i].next_attempt)
            start_dial(i, now);
    if (restart_sends_) {
        restart_sends_ = false;
        for (std::uint32_t s = 0; s < conns_.size(); ++s)
            start_send(s);
    }
    if (rearm_receives_) {
        rearm_receives_ = false;
        for (std::uint32_t s = 0; s < conns_.size(); ++s)
            if (!conns_[s].recv_armed && table_.state(s) == ConnectionState::open) arm_receive(s);
    }
}

void TcpTransport::on_accept_ended(int error, Nanos now) noexcept {
    accept_armed_ = false;
    if (error == 0) return;
    if (error == -EMFILE || error == -ENFILE) {
        if (const auto victim = table_.eviction_victim()) {
            close(*victim, Close::evicted);
            accept_retry_at_ = now;
            return;
        }
    }
    // ENOMEM and the like persist, and so does the limit with nothing to close: re-arming at
    // once would spin. Try again later.
    accept_retry_at_ = now + accept_retry;
}

std::optional<std::uint32_t> TcpTransport::open_slot(Nanos now, Direction d,
                                                     const SourceKey& source) noexcept {
    Acquire a = table_.acquire(now, d, source);
    if (a.status == AcquireStatus::evict_first) {
        close(a.slot, Close::evicted);
        a = table_.acquire(now, d, source);
    }
    if (a.status != AcquireStatus::acquired) {
        ++counters_.refused;
        return std::nullopt;
    }
    conns_[a.slot] = Conn{};
    return a.slot;
}

std::optional<std::uint32_t> TcpTransport::on_accepted(const Endpoint& remote, Nanos now) noexcept {
    const auto conn = open_slot(now, Direction::inbound, source_key(remote));
    if (!conn) return std::nullopt;
    Conn& c = conns_[*conn];
    c.remote = remote;
    c.remote.tcp = true;
    c.remote.tcp_connection = table_.handle(*conn);
    ++counters_.accepted;
    return conn;
}

void TcpTransport::opened(std::uint32_t conn) noexcept {
    arm_receive(conn);
}

void TcpTransport::start_dial(std::size_t index, Nanos now) noexcept {
    Dialer& d = dialers_[index];
    d.next_attempt = now + d.backoff.next_delay(crypto::random_value<std::uint64_t>(rng_));
    const auto conn = open_slot(now, Direction::outbound, {});
    if (!conn) return;
    Conn& c = conns_[*conn];
    c.dialer = static_cast<int>(index);
    c.remote = d.to;
    c.remote.tcp_connection = table_.handle(*conn);
    d.slot = *conn;
    ++counters_.dialed;
    if (!port_.dial(*conn, d.to)) {
        ++counters_.connect_failures;
        close(*conn, Close::error);
    }
}

void TcpTransport::on_connected(ConnectionRef c, int result, const Now& now) noexcept {
    now_ = now.boot;
    if (!current(c)) return;
    if (result < 0) {
        ++counters_.connect_failures;
        RT_LOG_DEBUG("tcp: connect to %s failed: %s", conns_[c.slot].remote.to_string().c_str(),
                     std::strerror(-result));
        close(c.slot, Close::error);
        return;
    }
    table_.mark_open(c.slot, now.boot);
    RT_LOG_INFO("tcp: connected to %s", conns_[c.slot].remote.to_string().c_str());
    arm_receive(c.slot);
    start_send(c.slot);
    if (device_) device_->on_transport_connected(conns_[c.slot].remote, now);
}

void TcpTransport::arm_receive(std::uint32_t conn) noexcept {
    conns_[conn].recv_armed = port_.receive(conn);
    if (!conns_[conn].recv_armed) rearm_receives_ = true;
}

void TcpTransport::on_received(ConnectionRef c, std::span<std::uint8_t> bytes,
                               const Now& now) noexcept {
    now_ = now.boot;
    if (!current(c)) return;
    counters_.rx_bytes += bytes.size();
    const FrameError e = table_.feed(
        c.slot, now.boot, bytes,
        [&](std::span<std::uint8_t> payload, bool) { return on_frame(c.slot, payload, now); });
    if (e == FrameError::none) return;
    if (e == FrameError::zero_length) ++counters_.zero_length;
    if (e == FrameError::oversized) ++counters_.oversized;
    close(c.slot, Close::protocol);
}

void TcpTransport::on_receive_ended(ConnectionRef c, int result) noexcept {
    if (!current(c)) return;
    conns_[c.slot].recv_armed = false;
    if (result == 0)
        close(c.slot, Close::eof);
    else if (result > 0 || result == -ENOBUFS)
        rearm_receives_ = true;
    else if (result != -ECANCELED)
        close(c.slot, Close::error);
}

bool TcpTransport::on_frame(std::uint32_t conn, std::span<std::uint8_t> payload,
                            const Now& now) noexcept {
    if (!crypto::classify(payload)) {
        ++counters_.malformed;
        return false;
    }
    ++counters_.rx_frames;
    if (!device_) return true;
    const Device::Inbound in = device_->on_network_packet(payload, conns_[conn].remote, now);
    if (in.peer) {
        attach(conn, in.peer);
        if (conns_[conn].dialer >= 0)
            dialers_[static_cast<std::size_t>(conns_[conn].dialer)].backoff.reset();
    }
    if (!in.packet.empty()) port_.write_to_tun(in.packet);
    return true;
}

void TcpTransport::attach(std::uint32_t conn, Peer* peer) noexcept {
    if (table_.peer(conn) == peer) return;
    table_.attach(conn, peer);
    quota_.set_authenticated(conn, peer != nullptr);
}

std::optional<std::uint32_t> TcpTransport::route(const Endpoint& to) const noexcept {
    if (auto slot = table_.slot_of(to.tcp_connection)) return slot;
    for (const Dialer& d : dialers_)
        if (d.active && d.slot && d.to.same_address(to)) return d.slot;
    return std::nullopt;
}

void TcpTransport::send(const Endpoint& to, std::uint32_t tx) noexcept {
    const auto conn = route(to);
    if (!conn) {
        ++counters_.no_connection;
        port_.release_tx(tx);
        return;
    }
    const TxSlot& s = tx_[tx];
    const bool cookie_reply =
        message_type(s) == static_cast<std::uint8_t>(crypto::MessageType::cookie_reply);
    // A cookie reply is what a flood of handshakes gets: into a connection nobody authenticated
    // on, one at a time.
    if ((cookie_reply && !table_.authenticated(*conn) && conns_[*conn].sending) ||
        !quota_.admits(*conn, s.cls, s.iov.iov_len, draining(*conn))) {
        ++counters_.queue_drops;
        port_.release_tx(tx);
        return;
    }
    quota_.take(*conn, s.cls, s.iov.iov_len);
    if (quota_.over(*conn)) any_over_ = true;
    if (auto dropped = table_.queue(*conn).push(tx)) drop_queued(*conn, *dropped);
    if (!conns_[*conn].start_pending) {
        conns_[*conn].start_pending = true;
        pending_starts_.push_back(*conn);  // reserved for every connection: never allocates
    }
}

void TcpTransport::flush() noexcept {
    for (const std::uint32_t conn : pending_starts_) {
        conns_[conn].start_pending = false;
        start_send(conn);
    }
    pending_starts_.clear();
}

void TcpTransport::drop_queued(std::uint32_t conn, std::uint32_t tx) noexcept {
    quota_.give_back(conn, tx_[tx].cls, tx_[tx].iov.iov_len);
    ++counters_.queue_drops;
    port_.release_tx(tx);
}

void TcpTransport::shed_stalled() noexcept {
    any_over_ = false;
    for (std::uint32_t conn = 0; conn < conns_.size(); ++conn) {
        if (!quota_.over(conn)) continue;
        if (draining(conn)) {
            any_over_ = true;
            continue;
        }
        // Keep the control frames, in order; the data goes.
        SendQueue& q = table_.queue(conn);
        for (std::uint32_t n = q.size(); n > 0; --n) {
            const std::uint32_t tx = *q.pop();
            if (tx_[tx].cls == TxClass::data)
                drop_queued(conn, tx);
            else
                (void)q.push(tx);
        }
    }
}

void TcpTransport::start_send(std::uint32_t conn) noexcept {
    Conn& c = conns_[conn];
    SendQueue& q = table_.queue(conn);
    if (c.sending || table_.state(conn) != ConnectionState::open || q.empty()) return;
    // The batch is a chain of transmit slots; the completion names its head, so it can free
    // the chain even after this connection slot was reused.
    std::int32_t head = no_slot, tail = no_slot;
    unsigned n = 0;
    c.batch_bytes = 0;
    while (n < max_batch) {
        const auto tx = q.pop();
        if (!tx) break;
        tx_[*tx].next = no_slot;
        if (tail != no_slot)
            tx_[static_cast<std::uint32_t>(tail)].next = static_cast<std::int32_t>(*tx);
        else
            head = static_cast<std::int32_t>(*tx);
        tail = static_cast<std::int32_t>(*tx);
        c.iov[n++] = tx_[*tx].iov;
        c.batch_bytes += tx_[*tx].iov.iov_len;
    }
    const auto first = static_cast<std::uint32_t>(head);
    c.sending = port_.send(conn, first, {c.iov.data(), n});
    c.send_started = now_;
    if (c.sending) return;
    // Nothing left the queue: these frames are lost, the stream is intact, and the ones
    // behind them go next turn.
    restart_sends_ = true;
    counters_.not_started += n;
    for (std::int32_t i = head; i != no_slot; i = tx_[static_cast<std::uint32_t>(i)].next)
        quota_.give_back(conn, tx_[static_cast<std::uint32_t>(i)].cls,
                         tx_[static_cast<std::uint32_t>(i)].iov.iov_len);
    port_.release_tx_chain(first);
}

void TcpTransport::on_sent(ConnectionRef c, std::uint32_t head, int result, Nanos now) noexcept {
    now_ = now;
    const bool live = current(c);
    if (live) {
        for (std::int32_t i = static_cast<std::int32_t>(head); i != no_slot;
             i = tx_[static_cast<std::uint32_t>(i)].next)
            quota_.give_back(c.slot, tx_[static_cast<std::uint32_t>(i)].cls,
                             tx_[static_cast<std::uint32_t>(i)].iov.iov_len);
    }
    port_.release_tx_chain(head);
    if (!live) return;
    Conn& conn = conns_[c.slot];
    conn.sending = false;
    if (result < 0) {
        if (result != -ECANCELED) close(c.slot, Close::error);
        return;
    }
    counters_.tx_bytes += static_cast<std::uint64_t>(result);
    // MSG_WAITALL reports a partial count when the stream failed midway: the framing is lost.
    if (static_cast<std::size_t>(result) != conn.batch_bytes) {
        close(c.slot, Close::error);
        return;
    }
    start_send(c.slot);
}

void TcpTransport::close(std::uint32_t conn, Close why) noexcept {
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
        case Close::removed:
        case Close::shutdown:
            break;
    }
    Conn& c = conns_[conn];
    if (why != Close::shutdown) port_.close(conn);
    if (c.dialer >= 0) dialers_[static_cast<std::size_t>(c.dialer)].slot.reset();
    // The peer must not keep a handle a future connection in this slot could match again
    // (16-bit generations wrap); a dialed peer falls back to its dialer.
    if (Peer* p = table_.peer(conn);
        p && p->endpoint && p->endpoint->tcp_connection == table_.handle(conn))
        p->endpoint->tcp_connection = 0;
    if (table_.peer(conn) && why != Close::shutdown)
        RT_LOG_INFO("tcp: connection to %s (%s) closed", c.remote.to_string().c_str(),
                    table_.peer(conn)->label().c_str());
    // Queued frames are freed here; the batch in flight, if any, by its completion.
    table_.release(conn, [this](std::uint32_t tx) { port_.release_tx(tx); });
    quota_.reset(conn);
    c = Conn{};
}

Nanos TcpTransport::next_deadline() const noexcept {
    Nanos t = no_deadline;
    for (const Dialer& d : dialers_)
        if (d.active && !d.slot) t = std::min(t, d.next_attempt);
    if (table_.in_use() > 0) t = std::min(t, last_sweep_ + crypto::seconds_ns(1));
    if (listening_ && !accept_armed_) t = std::min(t, accept_retry_at_);
    if (any_over_)
        for (std::uint32_t conn = 0; conn < conns_.size(); ++conn)
            if (quota_.over(conn) && conns_[conn].sending)
                t = std::min(t, conns_[conn].send_started + send_stall);
    return t;
}

void TcpTransport::sweep(Nanos now) noexcept {
    if (now < last_sweep_ + crypto::seconds_ns(1)) return;
    last_sweep_ = now;
    table_.for_each_expired(now,
                            {.stall_timeout = stall_timeout,
                             .unauthenticated_idle_timeout = unauthenticated_idle_timeout},
                            [this](std::uint32_t slot, ConnectionHandle, Expiry e) {
                                close(slot, e == Expiry::stalled ? Close::stalled : Close::idle);
                            });
}

void TcpTransport::close_all() noexcept {
    for (std::uint32_t s = 0; s < conns_.size(); ++s)
        if (table_.state(s) != ConnectionState::free) close(s, Close::shutdown);
}

}  // namespace ringtun::daemon
