// Helpers shared by the ring tests: rings that skip cleanly where io_uring is unavailable,
// pipes and loopback UDP sockets, and bounded wait loops.
#pragma once

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>

#include "ring/ring.hpp"
#include "util/unique_fd.hpp"

namespace ringtun::ring::test {

using namespace std::chrono_literals;

// Completion kinds of the tests' own little "daemon".
enum Kind : std::uint8_t { kNop = 1, kRead, kRecv, kPoll, kTimeout };

// A Ring, or nullptr (with a message) if io_uring is disabled or blocked here.
inline std::unique_ptr<Ring> ring_or_skip(const RingParams& params = {}) {
    auto r = Ring::create(params);
    if (r) return std::move(*r);
    const int e = r.error().sys_errno;
    if (e == EPERM || e == ENOSYS) {
        MESSAGE("io_uring unavailable, test skipped: " << r.error().to_string());
    } else {
        FAIL_CHECK("Ring::create: " << r.error().to_string());
    }
    return nullptr;
}

struct Pipe {
    util::UniqueFd read;
    util::UniqueFd write;
};

inline Pipe make_pipe() {
    int fds[2] = {-1, -1};
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    return Pipe{util::UniqueFd(fds[0]), util::UniqueFd(fds[1])};
}

// A UDP socket bound to 127.0.0.1 on an ephemeral port.
inline util::UniqueFd udp_loopback(sockaddr_in* bound = nullptr) {
    util::UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    REQUIRE(s.valid());
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
    if (bound) *bound = a;
    return s;
}

// Waits (bounded) until `done()` holds, reaping every CQE into `on_cqe`.
template <class Done, class F>
bool pump_until(Ring& ring, Done&& done, F&& on_cqe, std::chrono::milliseconds limit = 2000ms) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    ring.reap(on_cqe);
    while (!done()) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return false;
        const int r = ring.submit_and_wait(1, deadline - now);
        if (r < 0 && r != -EBUSY) return false;
        ring.reap(on_cqe);
    }
    return true;
}

}  // namespace ringtun::ring::test
