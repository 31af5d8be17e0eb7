// The TCP transport's side of a reconfiguration: dialers added, moved and removed, a removed
// peer's connections closed, so that no connection or dialer refers to a peer that is gone.
#include "daemon/transport/tcp_transport.hpp"

namespace ringtun::daemon {

void TcpTransport::add_dialer(const DialTarget& target) {
    Endpoint to = target.to;
    to.tcp = true;
    to.tcp_connection = 0;
    Dialer* free = nullptr;
    for (Dialer& d : dialers_) {
        if (d.active && d.peer == target.peer) {
            if (d.to.same_address(to)) return;
            if (d.slot) close(*d.slot, Close::removed);  // clears d.slot
            d.to = to;
            d.next_attempt = now_;
            d.backoff.reset();
            return;
        }
        if (!d.active && !d.slot && free == nullptr) free = &d;
    }
    Dialer fresh{to, target.peer, Backoff(dial_backoff_), now_, std::nullopt};
    if (free != nullptr)
        *free = fresh;
    else
        dialers_.push_back(fresh);
}

void TcpTransport::remove_dialer(const crypto::PublicKey& peer) noexcept {
    for (Dialer& d : dialers_) {
        if (!d.active || d.peer != peer) continue;
        d.active = false;
        if (d.slot) close(*d.slot, Close::removed);  // clears d.slot
    }
}

void TcpTransport::forget_peer(const Peer& peer) noexcept {
    for (std::uint32_t conn = 0; conn < conns_.size(); ++conn)
        if (table_.peer(conn) == &peer) close(conn, Close::removed);
    remove_dialer(peer.public_key());
}

bool TcpTransport::dials(const crypto::PublicKey& peer) const noexcept {
    for (const Dialer& d : dialers_)
        if (d.active && d.peer == peer) return true;
    return false;
}

std::size_t TcpTransport::dialers() const noexcept {
    std::size_t n = 0;
    for (const Dialer& d : dialers_)
        n += d.active ? 1 : 0;
    return n;
}

}  // namespace ringtun::daemon
