// The endpoint names hook on a real Loop: it runs at the loop's first turn (it is due at once),
// again when the signal pipe carries kResolved (what the lookup worker writes), each time with a
// DeviceConfig over the running device.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include "crypto/rng.hpp"
#include "crypto/x25519.hpp"
#include "daemon/backend/udp_socket.hpp"
#include "daemon/backend/uring/loop.hpp"
#include "daemon/engine/device.hpp"
#include "ring/features.hpp"
#include "util/signal_pipe.hpp"
#include "util/unique_fd.hpp"

using namespace ringtun;

TEST_CASE("loop: the names hook runs at the first turn and on each kResolved byte") {
    auto features = ring::probe_features();
    if (!features || !features->buffer_rings || !features->recvmsg_multishot) {
        MESSAGE("io_uring with buffer rings and multishot recvmsg unavailable: test skipped");
        return;
    }
    // The TUN's stand-in: a pipe nobody writes to.
    int pipe_fds[2] = {-1, -1};
    REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
    const util::UniqueFd tun_read(pipe_fds[0]), tun_write(pipe_fds[1]);
    auto udp = daemon::UdpSocket::open(0);
    REQUIRE(udp);
    auto signals = util::SignalPipe::create();
    REQUIRE(signals);
    daemon::LoopParams params;
    params.entries = 128;
    params.tun_read_multishot = features->read_multishot;
    params.tun_rx_slots = 2;
    params.udp_rx_slots = 32;
    params.tx_slots = 32;
    auto loop = daemon::Loop::create(params, tun_read.get(), std::move(*udp), **signals);
    REQUIRE_MESSAGE(loop, (loop ? "" : loop.error().to_string()));
    crypto::SystemRng rng;
    daemon::Device device(crypto::generate_private_key(rng), params.mtu, (*loop)->sink(), rng);

    int calls = 0;
    std::string config_text;
    daemon::RunHooks hooks;
    hooks.names_every = crypto::seconds_ns(3600);  // on time: only the first turn's
    hooks.on_names = [&](daemon::control::DeviceConfig& config, const daemon::Now&) {
        ++calls;
        config.write_config(config_text);
        // The first call is the loop's time; the second the pipe's byte, which then stops.
        (*signals)->notify(calls == 1 ? util::SignalPipe::kResolved : util::SignalPipe::kTerminate);
    };
    const auto end = (*loop)->run(device, std::move(hooks));
    REQUIRE_MESSAGE(end, (end ? "" : end.error().to_string()));
    CHECK(end->reason == daemon::StopReason::signal);
    CHECK(calls == 2);
    CHECK(config_text.find("private_key=") != std::string::npos);  // the running device's
}
