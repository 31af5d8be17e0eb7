// What a UAPI set request may change of the loop's sockets (control::SocketSettings): the UDP
// listen port, the fwmark of every socket, and the TCP transport's view of the peers.
#include <liburing.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "daemon/backend/tcp_shared.hpp"
#include "daemon/backend/uring/loop.hpp"
#include "daemon/backend/uring/loop_internal.hpp"
#include "daemon/backend/uring/tcp_io.hpp"

namespace ringtun::daemon {

using namespace loop_detail;
using control::UapiError;

namespace {

bool set_mark(int fd, std::uint32_t mark) noexcept {
    return ::setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) == 0;
}

}  // namespace

// The new socket is bound before the old one goes, so a port that cannot be had changes
// nothing (-EADDRINUSE; -EIO when the ring cannot take the change). The multishot receive on
// the old socket is cancelled; the run loop arms the next one on the registered-file slot,
// which by then names the new socket. Sends in flight finish on the old one (a request holds
// its file).
UapiError Loop::set_listen_port(std::uint16_t port) {
    auto fresh = UdpSocket::open(port);
    if (!fresh) {
        RT_LOG_WARN("listen port %u: %s", port, fresh.error().to_string().c_str());
        return UapiError::address_in_use;
    }
    if (fresh->family != udp_family_) return UapiError::io;
    if (params_.offloads.udp_gro) {
        if (auto r = fresh->enable_gro(); !r) {
            RT_LOG_WARN("listen port %u: %s", port, r.error().to_string().c_str());
            return UapiError::io;
        }
    }
    if (fwmark_ != 0 && !set_mark(fresh->fd.get(), fwmark_)) return UapiError::address_in_use;
    // The old socket's receive ends first (one cancel, however many ports a request names);
    // if it cannot be cancelled now, nothing changes.
    if (udp_recv_armed_ && !udp_recv_cancelled_) {
        if (!ring_->cancel_request(tag(Kind::udp_recv))) return UapiError::io;
        udp_recv_cancelled_ = true;
    }
    if (auto r = ring_->update_file(file_udp, fresh->fd.get()); !r) {
        RT_LOG_WARN("listen port %u: %s", port, r.error().to_string().c_str());
        return UapiError::io;  // the receive is re-armed on the old socket
    }
    (void)ring_->submit();
    RT_LOG_NOTICE("UDP port %u (was %u)", fresh->port, udp_.port);
    udp_ = std::move(*fresh);
    return UapiError::none;
}

UapiError Loop::set_fwmark(std::uint32_t mark) {
    if (!set_mark(udp_.fd.get(), mark)) {
        RT_LOG_WARN("fwmark %u: %s", mark, std::strerror(errno));
        return UapiError::address_in_use;  // what wireguard-go answers when SO_MARK fails
    }
    if (tcp_) tcp_->set_mark(mark);
    fwmark_ = mark;
    return UapiError::none;
}

void Loop::forget_peer(Peer& peer) noexcept {
    tcp_forget_peer(tcp_ ? &tcp_->transport() : nullptr, peer);
}

bool Loop::dials(const Peer& peer) const noexcept {
    return tcp_dials(tcp_ ? &tcp_->transport() : nullptr, peer);
}

UapiError Loop::redial(const Peer& peer, const Endpoint& now) {
    return tcp_redial(tcp_ ? &tcp_->transport() : nullptr, peer, now);
}

}  // namespace ringtun::daemon
