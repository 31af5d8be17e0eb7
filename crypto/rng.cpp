#include "crypto/rng.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <cstdlib>

namespace ringtun::crypto {

namespace {

// Bytes drawn from OpenSSL's DRBG ahead of use, a block per call: each RAND_priv_bytes call
// costs 0.7 µs however little it returns (locks, a getpid() system call for its fork check),
// and a responder's handshake asks three times for a few bytes. A byte handed out is wiped
// from the pool; the pool is wiped when its thread ends and, in a forked child, before the
// child could hand out what its parent will too.
struct Pool {
    static constexpr std::size_t size = 1024;
    std::uint8_t bytes[size];
    std::size_t next = size;  // bytes[next, size) not yet handed out

    ~Pool() { discard(); }
    void discard() noexcept {
        OPENSSL_cleanse(bytes, sizeof bytes);
        next = size;
    }
};

thread_local Pool pool;

void discard_in_child() {
    pool.discard();
}

void draw(std::uint8_t* out, std::size_t n) noexcept {
    if (RAND_priv_bytes(out, static_cast<int>(n)) != 1) std::abort();
}

}  // namespace

void SystemRng::fill(std::span<std::uint8_t> out) noexcept {
    static const bool registered = pthread_atfork(nullptr, nullptr, discard_in_child) == 0;
    if (!registered) std::abort();
    if (out.size() > Pool::size / 4) {  // a key file's worth or more: straight from OpenSSL
        draw(out.data(), out.size());
        return;
    }
    std::size_t done = 0;
    while (done < out.size()) {
        if (pool.next == Pool::size) {
            draw(pool.bytes, Pool::size);
            pool.next = 0;
        }
        const std::size_t take = std::min(out.size() - done, Pool::size - pool.next);
        std::copy_n(pool.bytes + pool.next, take, out.data() + done);
        OPENSSL_cleanse(pool.bytes + pool.next, take);
        pool.next += take;
        done += take;
    }
}

}  // namespace ringtun::crypto
