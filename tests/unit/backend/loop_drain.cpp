// Loop shutdown (defect 9): no handler arms work once the loop is stopping. A completion
// posted after the loop's last reap but before the cancel-all is reaped during the drain; a
// handler that armed a request there (the old on_connect armed a receive, and a send when frames
// were queued) put it behind the cancel-all, so nothing cancelled it, the drain timed out and
// the buffers it points into were freed under the kernel.
//
// The window, made deterministic on a real Loop over loopback:
//  - The ring uses COOP_TASKRUN (TaskRun::coop, what kernels before 6.1 get): task work, and
//    with it a completion, runs on the return of any system call of the loop thread. (With
//    DEFER_TASKRUN completions are posted only while waiting on the ring, and a request whose
//    wake-up is still pending ends with -ECANCELED, so the window is closed there.)
//  - The dial goes to a listener whose accept queue a filler connection already fills: the
//    daemon's SYN is dropped and its connect stays pending.
//  - 'T' is in the signal pipe before run(), so the first turn arms the signal read and the
//    dial, and the loop stops at its first reap with the connect still pending.
//  - on_stopping (after the last reap, before the cancel-all) accepts the filler and polls the
//    listener until the daemon's retransmitted SYN (~1 s) is accepted: at that poll's return
//    the connect's completion is posted, before the cancel-all.
// The drain then reaps that completion; it must arm nothing, and end at once with nothing in
// flight.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "crypto/rng.hpp"
#include "crypto/x25519.hpp"
#include "daemon/backend/udp_socket.hpp"
#include "daemon/backend/uring/loop.hpp"
#include "daemon/backend/uring/loop_internal.hpp"  // Kind, to find the connect's completion
#include "daemon/engine/device.hpp"
#include "ring/features.hpp"
#include "util/signal_pipe.hpp"
#include "util/unique_fd.hpp"

using namespace ringtun;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// Longer than the SYN retransmission (TCP_TIMEOUT_INIT, 1 s), short enough to bound the test.
constexpr int kRetransmitWaitMs = 3000;
// Ring::drain's limit in Loop::shutdown_and_drain is 800 ms; a drain that waits for nothing
// ends in a few.
constexpr auto kDrainLimit = milliseconds(400);

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

std::uint16_t local_port(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    return ntohs(a.sin_port);
}

bool readable(int fd, int timeout_ms) {
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    const auto deadline = Clock::now() + milliseconds(timeout_ms);
    for (;;) {
        const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        const int r = ::poll(&p, 1, static_cast<int>(left));
        if (r > 0) return true;
        if (r < 0 && errno != EINTR) return false;
    }
}

// A non-blocking listener on 127.0.0.1 whose accept queue is full: backlog 0 admits one
// connection, and a filler (connected, not accepted) holds it, so further SYNs are dropped.
struct FullListener {
    util::UniqueFd fd;
    util::UniqueFd filler;
    std::uint16_t port = 0;

    void open() {
        fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        REQUIRE(fd);
        sockaddr_in a = loopback(0);
        REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd.get(), 0) == 0);
        port = local_port(fd.get());
        filler.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        REQUIRE(filler);
        a = loopback(port);
        REQUIRE(::connect(filler.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(readable(fd.get(), 2000));  // the filler is in the accept queue
    }
};

// The loop's UDP socket, bound to 127.0.0.1 (this test sends nothing over it).
daemon::UdpSocket loopback_udp() {
    daemon::UdpSocket udp;
    udp.fd.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    REQUIRE(udp.fd);
    const sockaddr_in a = loopback(0);
    REQUIRE(::bind(udp.fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);
    udp.family = AF_INET;
    udp.port = local_port(udp.fd.get());
    return udp;
}

util::UniqueFd accept_one(int listener) {
    return util::UniqueFd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
}

// Whether the CQ holds the dial's successful completion (read without consuming it).
bool connect_posted(io_uring& ring) {
    unsigned head = 0;
    io_uring_cqe* cqe = nullptr;
    bool found = false;
    io_uring_for_each_cqe(&ring, head, cqe) {
        if (ring::kind_of(cqe->user_data) ==
                static_cast<std::uint8_t>(daemon::loop_detail::Kind::tcp_connect) &&
            cqe->res == 0)
            found = true;
    }
    return found;
}

// on_stopping: frees the accept queue and waits for the daemon's connect to complete. Records
// what the test needs to know the window was hit; asserts nothing (it runs inside Loop::run).
struct Hook {
    Hook(FullListener& l, ring::Ring& r) : listener(l), ring(r) {}

    FullListener& listener;
    ring::Ring& ring;
    unsigned ready_at_start = 0;     // completions posted before the hook
    bool dial_was_queued = false;    // the daemon's SYN was not dropped after all
    bool dial_accepted = false;      // its retransmitted SYN was accepted
    bool connect_posted = false;     // the connect's completion was posted before the cancel-all
    util::UniqueFd filler_accepted;  // the listener's ends, closed by the test
    util::UniqueFd dial_accepted_fd;
    Clock::time_point end;

    void operator()() {
        ready_at_start = io_uring_cq_ready(&ring.native());
        filler_accepted = accept_one(listener.fd.get());
        dial_was_queued = accept_one(listener.fd.get()).valid();
        dial_accepted = readable(listener.fd.get(), kRetransmitWaitMs);
        if (dial_accepted) dial_accepted_fd = accept_one(listener.fd.get());
        connect_posted = ::connect_posted(ring.native());
        end = Clock::now();
    }
};

}  // namespace

TEST_CASE("loop drain (defect 9): a connect completed before the cancel-all arms nothing") {
    auto features = ring::probe_features();
    if (!features) {
        MESSAGE("io_uring unavailable, test skipped: " << features.error().to_string());
        return;
    }
    if (!features->coop_taskrun || !features->buffer_rings || !features->recvmsg_multishot) {
        MESSAGE("kernel lacks COOP_TASKRUN, buffer rings or multishot recvmsg: test skipped");
        return;
    }

    FullListener listener;
    listener.open();
    // The TUN's stand-in: a pipe nobody writes to, read like the TUN (a pipe is pollable).
    int pipe_fds[2] = {-1, -1};
    REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
    const util::UniqueFd tun_read(pipe_fds[0]), tun_write(pipe_fds[1]);
    daemon::UdpSocket udp = loopback_udp();
    auto signals = util::SignalPipe::create();
    REQUIRE(signals);

    daemon::Endpoint to;
    to.addr.in4 = loopback(listener.port);
    to.tcp = true;
    daemon::LoopParams params;
    params.entries = 128;
    params.tun_read_multishot = features->read_multishot;
    params.tun_rx_slots = 2;
    params.udp_rx_slots = 32;
    params.tx_slots = 32;
    params.tcp_rx_buffers = 4;
    params.tcp_max_connections = 2;
    params.taskrun = ring::TaskRun::coop;
    auto loop = daemon::Loop::create(params, tun_read.get(), std::move(udp), **signals,
                                     daemon::TcpSetup{.dial = {{to, {}}}});
    REQUIRE_MESSAGE(loop, (loop ? "" : loop.error().to_string()));
    REQUIRE((*loop)->ring().taskrun() == ring::TaskRun::coop);

    // A peer reached at the dialed endpoint, as a `transport = "tcp"` peer is configured.
    crypto::SystemRng rng;
    daemon::Device device(crypto::generate_private_key(rng), params.mtu, (*loop)->sink(), rng);
    const crypto::PublicKey peer_key = crypto::derive_public_key(crypto::generate_private_key(rng));
    REQUIRE(device.add_peer(peer_key, crypto::SymmetricKey{}, 0, to));

    (*signals)->notify(util::SignalPipe::kTerminate);
    Hook hook(listener, (*loop)->ring());
    daemon::RunHooks hooks;
    hooks.on_stopping = [&hook] { hook(); };
    const auto result = (*loop)->run(device, std::move(hooks));
    const auto drain = Clock::now() - hook.end;

    // The window was hit: the connect was pending at the last reap and had completed by the
    // cancel-all. Without these the checks below would prove nothing.
    REQUIRE(hook.ready_at_start == 0);
    REQUIRE_FALSE(hook.dial_was_queued);
    REQUIRE_MESSAGE(hook.dial_accepted, "the daemon's SYN was not retransmitted and accepted");
    REQUIRE(hook.dial_accepted_fd);
    REQUIRE_MESSAGE(hook.connect_posted, "the connect did not complete before the cancel-all");

    REQUIRE_MESSAGE(result, (result ? "" : result.error().to_string()));
    CHECK_MESSAGE((*loop)->ring().in_flight() == 0,
                  "requests armed during the drain did not complete");
    CHECK_MESSAGE(
        drain < kDrainLimit,
        "drain took " << std::chrono::duration_cast<milliseconds>(drain).count() << " ms");
    CHECK((*loop)->counters().refused_while_stopping >= 1);  // the connect asked for a receive
}
