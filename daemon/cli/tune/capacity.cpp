// measure_capacity (measure.hpp): how many small datagrams a second the tunnel carries with
// less than 1% loss. Each step tags its datagrams with its number, so late arrivals of a
// step are never counted for the next.
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "daemon/cli/tune/interrupt.hpp"
#include "daemon/cli/tune/lab_sockets.hpp"
#include "daemon/cli/tune/measure.hpp"
#include "daemon/cli/tune/rate_search.hpp"

namespace ringtun::daemon::tune {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kPayload = 64;
constexpr unsigned kBatch = 32;     // datagrams per sendmmsg / recvmmsg
constexpr unsigned kMaxSteps = 16;  // tags 1..16
constexpr auto kDrain = std::chrono::milliseconds(150);

using Counts = std::array<std::atomic<std::uint64_t>, kMaxSteps + 1>;

// Counts each arriving datagram under its tag until `done`.
void count_arrivals(int fd, Counts& counts, const std::atomic<bool>& done) {
    std::array<std::array<char, kPayload>, kBatch> bufs{};
    std::array<iovec, kBatch> iov{};
    std::array<mmsghdr, kBatch> msgs{};
    while (!done.load(std::memory_order_relaxed)) {
        for (unsigned i = 0; i < kBatch; ++i) {
            iov[i] = {bufs[i].data(), bufs[i].size()};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        const int n = ::recvmmsg(fd, msgs.data(), kBatch, MSG_WAITFORONE, nullptr);
        for (int i = 0; i < n; ++i) {
            std::uint32_t tag = 0;
            if (msgs[i].msg_len >= sizeof tag) std::memcpy(&tag, bufs[i].data(), sizeof tag);
            if (tag >= 1 && tag <= kMaxSteps) counts[tag].fetch_add(1, std::memory_order_relaxed);
        }
    }
}

// Sends tagged datagrams at `rate` per second (0: flat out) for `seconds`; how many the
// kernel took, and the seconds it really took.
std::pair<std::uint64_t, double> offer(int fd, std::uint32_t tag, double rate, double seconds) {
    std::array<char, kPayload> payload{};
    std::memcpy(payload.data(), &tag, sizeof tag);
    iovec iov{payload.data(), payload.size()};
    std::array<mmsghdr, kBatch> msgs{};
    for (mmsghdr& m : msgs) {
        m.msg_hdr.msg_iov = &iov;
        m.msg_hdr.msg_iovlen = 1;
    }
    std::uint64_t sent = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    while ((elapsed = std::chrono::duration<double>(Clock::now() - start).count()) < seconds &&
           !interrupted()) {
        if (rate > 0 && static_cast<double>(sent + kBatch) > rate * elapsed) {
            const double wait = (static_cast<double>(sent + kBatch) - rate * elapsed) / rate;
            std::this_thread::sleep_for(std::chrono::duration<double>(std::min(wait, 0.001)));
            continue;
        }
        const int n = ::sendmmsg(fd, msgs.data(), kBatch, MSG_DONTWAIT);
        if (n > 0) sent += static_cast<unsigned>(n);
        if (n <= 0) std::this_thread::yield();  // ENOBUFS, EAGAIN: the sender's own queue
    }
    return {sent, elapsed};
}

util::Result<std::pair<util::UniqueFd, util::UniqueFd>> open_pair(const Lab& lab) {
    auto rx = socket_in(lab.netns_b(), SOCK_DGRAM);
    if (!rx) return util::fail(rx.error());
    auto tx = socket_in(lab.netns_a(), SOCK_DGRAM);
    if (!tx) return util::fail(tx.error());
    const sockaddr_in at = ipv4(kTunnelB, kCapacityPort);
    if (auto r = bind_to(rx->get(), at); !r) return util::fail(r.error());
    // A deep receive queue, so that our own reader is not what drops (root may exceed rmem_max).
    const int bytes = 8 << 20;
    ::setsockopt(rx->get(), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes);
    if (auto r = set_timeouts(rx->get(), 50); !r) return util::fail(r.error());
    if (::connect(tx->get(), reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0)
        return util::fail(util::sys_error("connect", errno));
    return std::pair{std::move(*rx), std::move(*tx)};
}

}  // namespace

util::Result<double> measure_capacity(const Lab& lab, const Timing& t) {
    auto fds = open_pair(lab);
    if (!fds) return util::fail(fds.error());
    Counts counts{};
    std::atomic<bool> done{false};
    std::thread counter(count_arrivals, fds->first.get(), std::ref(counts), std::cref(done));
    RateSearch search;
    const unsigned steps = std::min(t.capacity_steps, kMaxSteps);
    for (std::uint32_t step = 1; step <= steps && !search.done() && !interrupted(); ++step) {
        const auto [sent, seconds] =
            offer(fds->second.get(), step, search.next(), t.capacity_step_s);
        std::this_thread::sleep_for(kDrain);
        search.record(sent, counts[step].load(), seconds);
    }
    done = true;
    counter.join();
    if (interrupted()) return util::fail(util::make_error("capacity", "interrupted"));
    return search.best() / 1000;
}

}  // namespace ringtun::daemon::tune
