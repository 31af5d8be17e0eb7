// measure_rtt (measure.hpp): request/response round trips through the tunnel, one at a
// time, answered by an echo on B.
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "daemon/cli/tune/interrupt.hpp"
#include "daemon/cli/tune/lab_sockets.hpp"
#include "daemon/cli/tune/measure.hpp"

namespace ringtun::daemon::tune {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kPayload = 64;

void echo_until(int fd, const std::atomic<bool>& done) {
    std::array<char, kPayload> buf{};
    while (!done.load(std::memory_order_relaxed)) {
        sockaddr_in from{};
        socklen_t len = sizeof from;
        const ssize_t n =
            ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n > 0)
            (void)::sendto(fd, buf.data(), static_cast<std::size_t>(n), 0,
                           reinterpret_cast<const sockaddr*>(&from), len);
    }
}

// One round trip of request `seq`: its time in microseconds, or nullopt when no answer came
// within the socket's timeout (answers to earlier, late requests are passed over).
std::optional<double> round_trip(int fd, std::uint32_t seq) {
    std::array<char, kPayload> out{}, in{};
    std::memcpy(out.data(), &seq, sizeof seq);
    const auto start = Clock::now();
    if (::send(fd, out.data(), out.size(), 0) < 0) return std::nullopt;
    for (;;) {
        const ssize_t n = ::recv(fd, in.data(), in.size(), 0);
        if (n < 0) return std::nullopt;
        std::uint32_t got = 0;
        if (static_cast<std::size_t>(n) >= sizeof got) std::memcpy(&got, in.data(), sizeof got);
        if (got == seq)
            return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    }
}

util::Result<std::pair<util::UniqueFd, util::UniqueFd>> open_pair(const Lab& lab) {
    auto echo = socket_in(lab.netns_b(), SOCK_DGRAM);
    if (!echo) return util::fail(echo.error());
    auto client = socket_in(lab.netns_a(), SOCK_DGRAM);
    if (!client) return util::fail(client.error());
    const sockaddr_in at = ipv4(kTunnelB, kEchoPort);
    if (auto r = bind_to(echo->get(), at); !r) return util::fail(r.error());
    if (auto r = set_timeouts(echo->get(), 50); !r) return util::fail(r.error());
    if (auto r = set_timeouts(client->get(), 200); !r) return util::fail(r.error());
    if (::connect(client->get(), reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0)
        return util::fail(util::sys_error("connect", errno));
    return std::pair{std::move(*echo), std::move(*client)};
}

}  // namespace

util::Result<double> measure_rtt(const Lab& lab, const Timing& t) {
    auto fds = open_pair(lab);
    if (!fds) return util::fail(fds.error());
    std::atomic<bool> done{false};
    std::thread echo(echo_until, fds->first.get(), std::cref(done));
    std::vector<double> rtts;
    const auto end = Clock::now() + std::chrono::duration<double>(t.latency_cap_s);
    for (std::uint32_t seq = 1; seq <= t.latency_trips && Clock::now() < end && !interrupted();
         ++seq)
        if (const auto us = round_trip(fds->second.get(), seq)) rtts.push_back(*us);
    done = true;
    echo.join();
    if (interrupted()) return util::fail(util::make_error("latency", "interrupted"));
    if (rtts.empty()) return util::fail(util::make_error("latency", "no request was answered"));
    std::nth_element(rtts.begin(), rtts.begin() + static_cast<std::ptrdiff_t>(rtts.size() / 2),
                     rtts.end());
    return rtts[rtts.size() / 2];
}

}  // namespace ringtun::daemon::tune
