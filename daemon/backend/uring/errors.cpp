// What a failed completion means, kind by kind, in one place apart from the happy paths (as
// liburing's proxy.c keeps its error handlers apart): the handlers in tun_io, udp_io and
// signal_io only see completions that carry data. Every path still gives back the slot and
// the buffer its completion names, re-arms only itself, and never stops another — except a
// TUN that is gone, which stops the daemon.
#include <liburing.h>

#include <cstring>

#include "daemon/backend/uring/loop.hpp"
#include "daemon/backend/uring/loop_internal.hpp"
#include "daemon/backend/uring/tcp_io.hpp"
#include "util/log.hpp"

namespace ringtun::daemon {

using namespace loop_detail;

namespace {

// What the TUN's reads and writes fail with once its interface is deleted (tun.c: the file
// has no device any more). Nothing brings it back: the loop stops, and the caller decides
// whether that is the end (wg-quick down) or a failure for a supervisor to restart.
constexpr const char* tun_gone = "the TUN device is gone (EBADFD: its interface was deleted)";

}  // namespace

bool Loop::failed_completion(Kind kind, const io_uring_cqe& cqe) noexcept {
    if (cqe.res > 0) return false;
    // Reads that carry nothing failed too: a read of 0 bytes, the signal pipe at its end.
    return cqe.res < 0 || kind == Kind::tun_read || kind == Kind::udp_recv ||
           kind == Kind::signal || kind == Kind::link_watch;
}

void Loop::on_error(Kind kind, const io_uring_cqe& cqe) noexcept {
    const int error = cqe.res;
    switch (kind) {
        case Kind::tun_read:
            end_tun_read(cqe);
            if (const auto bid = tun_buffers_->take(cqe)) (void)tun_buffers_->recycle(*bid);
            if (error == -ENOBUFS) {
                ++counters_.rearm_enobufs;  // re-armed once buffers are back
            } else if (error == -EAGAIN) {
                ++counters_.rearm_eagain;
            } else if (error == -EBADFD) {
                stop(StopReason::tun_gone, tun_gone);
            } else if (error != -ECANCELED) {
                ++counters_.rearm_other;
                back_off(tun_rearm_backoff_, tun_rearm_at_, "TUN read", error);
            }
            return;
        case Kind::udp_recv:
            if (!(cqe.flags & IORING_CQE_F_MORE)) udp_recv_armed_ = false;
            if (const auto bid = udp_buffers_->take(cqe)) (void)udp_buffers_->recycle(*bid);
            if (error == -ENOBUFS) {
                ++counters_.rearm_enobufs;
            } else if (error != -ECANCELED) {
                ++counters_.udp_recv_errors;
                if (!udp_recv_armed_)
                    back_off(udp_rearm_backoff_, udp_rearm_at_, "UDP receive", error);
            }
            return;
        case Kind::tun_write: {
            const ring::UserData ud = ring::decode(cqe.user_data);
            // TunWrites counts what was lost, or rewrites a refused coalesced write.
            if (!datapath_->on_tun_written(ud.slot, ud.generation, error))
                tun_write_failed(error, false);
            return;
        }
        case Kind::tun_write_copy: {
            const ring::UserData ud = ring::decode(cqe.user_data);
            if (!copies_ || !copies_->release(ud.slot, ud.generation))
                ++counters_.stale_completions;
            tun_write_failed(error, true);
            return;
        }
        case Kind::signal:
            signal_armed_ = false;
            // A signal pipe that ends or breaks can no longer stop us: stop now.
            if (error != -ECANCELED) fail("the signal pipe failed; stopping");
            return;
        case Kind::link_watch:
            on_link(cqe);  // backend/link_reads decides
            return;
        case Kind::udp_send:
            on_udp_sent(cqe);  // the datapath decides what a send error means
            return;
        case Kind::tcp_accept:
        case Kind::tcp_connect:
        case Kind::tcp_recv:
        case Kind::tcp_send:
            dispatch_tcp(kind, cqe);  // the transport decides
            return;
        case Kind::stream_accept:
        case Kind::stream_recv:
        case Kind::stream_send:
        case Kind::control_watch:
            dispatch_stream(kind, cqe);  // the server takes its own failures
            return;
    }
    ++counters_.stale_completions;
}

void Loop::tun_write_failed(int error, bool count) noexcept {
    if (error == -EBADFD) stop(StopReason::tun_gone, tun_gone);
    if (error == -ECANCELED) return;
    if (count) ++counters_.tun_write_errors;
    if (error_log_limit_.allow(now_.boot))
        RT_LOG_WARN("TUN write failed: %s", std::strerror(-error));
}

void Loop::fail(const char* why) noexcept {
    if (!failure_) RT_LOG_ERROR("stopping: %s", why);
    failure_ = why;
    stopping_ = true;
}

void Loop::stop(StopReason reason, const char* why) noexcept {
    if (!stopping_) {
        RT_LOG_NOTICE("stopping: %s", why);
        stop_reason_ = reason;
    }
    stopping_ = true;
}

void Loop::back_off(Backoff& b, Nanos& rearm_at, const char* path, int error) noexcept {
    const Nanos delay = b.next_delay(0);
    rearm_at = now_.boot + delay;
    if (error_log_limit_.allow(now_.boot))
        RT_LOG_WARN("%s failed: %s; re-armed in %llu ms", path, std::strerror(-error),
                    static_cast<unsigned long long>(delay / crypto::millis_ns(1)));
}

}  // namespace ringtun::daemon
