// mac()'s key is at most 32 bytes (BLAKE2s's key length): a longer one is a caller's bug, and
// would have overflowed the key block (over 64 bytes) or corrupted the parameter block's key
// length (33 to 64), so it aborts rather than computing something that is not BLAKE2s.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <vector>

#include "crypto/blake2s.hpp"

using namespace ringtun::crypto;

namespace {

// Runs mac() with a key of `key_len` bytes in a child; returns its wait status.
int mac_in_child(std::size_t key_len) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const std::vector<std::uint8_t> key(key_len, 0x5a), data(100, 0x33);
        const Mac16 m = mac(key, data);
        ::_exit(m[0] == 0xff && m[1] == 0xff ? 3 : 0);  // uses the result
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return status;
}

}  // namespace

TEST_CASE("mac: a key of 32 bytes works, a longer one aborts") {
    const int ok = mac_in_child(32);
    CHECK(WIFEXITED(ok));
    for (std::size_t len : {33u, 64u, 65u, 200u}) {
        CAPTURE(len);
        const int status = mac_in_child(len);
        CHECK(WIFSIGNALED(status));
        if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == SIGABRT);
    }
}
