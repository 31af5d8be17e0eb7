// measure_stream (measure.hpp): one TCP stream through the tunnel, and what it costs the
// daemons in CPU time.
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "daemon/cli/tune/cpu_time.hpp"
#include "daemon/cli/tune/interrupt.hpp"
#include "daemon/cli/tune/lab_sockets.hpp"
#include "daemon/cli/tune/measure.hpp"

namespace ringtun::daemon::tune {

namespace {

using Clock = std::chrono::steady_clock;

struct Connection {
    util::UniqueFd sender, receiver;
};

util::Result<Connection> connect_stream(const Lab& lab) {
    auto listener = socket_in(lab.netns_b(), SOCK_STREAM);
    if (!listener) return util::fail(listener.error());
    const sockaddr_in at = ipv4(kTunnelB, kStreamPort);
    if (auto r = bind_to(listener->get(), at); !r) return util::fail(r.error());
    if (::listen(listener->get(), 1) != 0) return util::fail(util::sys_error("listen", errno));
    auto client = socket_in(lab.netns_a(), SOCK_STREAM);
    if (!client) return util::fail(client.error());
    if (auto r = connect_within(client->get(), at, 3000); !r) return util::fail(r.error());
    pollfd p{listener->get(), POLLIN, 0};
    if (::poll(&p, 1, 1000) != 1) return util::fail(util::make_error("accept", "no connection"));
    util::UniqueFd server(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!server) return util::fail(util::sys_error("accept4", errno));
    if (auto r = set_timeouts(client->get(), 100); !r) return util::fail(r.error());
    if (auto r = set_timeouts(server.get(), 100); !r) return util::fail(r.error());
    return Connection{std::move(*client), std::move(server)};
}

// Both daemons' CPU seconds so far.
util::Result<double> daemons_cpu(const Lab& lab) {
    auto a = cpu_seconds(lab.daemon_a());
    if (!a) return a;
    auto b = cpu_seconds(lab.daemon_b());
    if (!b) return b;
    return *a + *b;
}

void send_until(int fd, const std::atomic<bool>& done) {
    std::vector<char> buf(128 * 1024, 'x');
    while (!done.load(std::memory_order_relaxed) && !interrupted()) {
        if (::send(fd, buf.data(), buf.size(), MSG_NOSIGNAL) < 0 && errno != EAGAIN &&
            errno != EINTR)
            return;
    }
}

}  // namespace

util::Result<StreamFigures> measure_stream(const Lab& lab, const Timing& t) {
    auto conn = connect_stream(lab);
    if (!conn) return util::fail(conn.error());
    std::atomic<bool> done{false};
    std::thread sender(send_until, conn->sender.get(), std::cref(done));
    std::vector<char> buf(256 * 1024);
    const auto start = Clock::now();
    const auto window = start + std::chrono::duration<double>(t.warmup_s);
    const auto end = start + std::chrono::duration<double>(t.throughput_s);
    std::optional<Clock::time_point> t0;
    util::Result<double> cpu0 = 0.0;
    std::uint64_t bytes = 0;
    auto now = start;
    while ((now = Clock::now()) < end && !interrupted()) {
        if (!t0 && now >= window) {
            t0 = now;
            cpu0 = daemons_cpu(lab);
            bytes = 0;
        }
        const ssize_t n = ::recv(conn->receiver.get(), buf.data(), buf.size(), 0);
        if (n > 0) bytes += static_cast<std::uint64_t>(n);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;
    }
    const util::Result<double> cpu1 = daemons_cpu(lab);
    const double seconds = std::chrono::duration<double>(Clock::now() - t0.value_or(now)).count();
    done = true;
    ::shutdown(conn->sender.get(), SHUT_RDWR);
    sender.join();
    if (interrupted()) return util::fail(util::make_error("stream", "interrupted"));
    if (!t0 || bytes == 0 || seconds <= 0)
        return util::fail(util::make_error("stream", "nothing arrived through the tunnel"));
    if (!cpu0 || !cpu1) return util::fail(!cpu0 ? cpu0.error() : cpu1.error());
    const double gb = static_cast<double>(bytes) / 1e9;
    return StreamFigures{gb * 8 / seconds, (*cpu1 - *cpu0) / gb};
}

}  // namespace ringtun::daemon::tune
