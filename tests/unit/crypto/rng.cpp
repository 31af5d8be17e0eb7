// SystemRng: its pool hands out each byte once, in every size, and a forked child does not
// hand out the bytes its parent will.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <set>
#include <vector>

#include "crypto/rng.hpp"

using namespace ringtun::crypto;

TEST_CASE("SystemRng: no 8-byte draw repeats, across pool refills and in every size") {
    SystemRng rng;
    std::set<std::uint64_t> seen;
    for (int i = 0; i < 2000; ++i)  // 16 KB: the pool (1 KB) refilled many times
        CHECK(seen.insert(random_value<std::uint64_t>(rng)).second);
    for (std::size_t len : {1u, 31u, 32u, 255u, 256u, 257u, 1023u, 1024u, 1025u, 5000u}) {
        CAPTURE(len);
        std::vector<std::uint8_t> a(len), b(len);
        rng.fill(a);
        rng.fill(b);
        CHECK(a != b);
        if (len >= 32) CHECK(std::vector<std::uint8_t>(len) != a);
    }
}

TEST_CASE("SystemRng: a forked child draws other bytes than its parent") {
    SystemRng rng;
    random_value<std::uint8_t>(rng);  // the pool now holds bytes not yet handed out
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        std::array<std::uint8_t, 32> child{};
        rng.fill(child);
        const bool sent = ::write(fds[1], child.data(), child.size()) == 32;
        ::_exit(sent ? 0 : 1);
    }
    ::close(fds[1]);
    std::array<std::uint8_t, 32> parent{}, child{};
    rng.fill(parent);
    const ssize_t got = ::read(fds[0], child.data(), child.size());
    ::close(fds[0]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    REQUIRE(got == 32);
    CHECK(parent != child);
}
