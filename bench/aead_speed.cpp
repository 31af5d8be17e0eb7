// ringtun-aead-bench: nanoseconds per sealed and opened message for each ChaCha20-Poly1305
// engine ringtun has (OpenSSL's EVP and, where the CPU has it, our AVX-512 one), at the sizes
// the data path sees: a keepalive, small packets, an MTU-sized packet, and bulk for reference.
//
//   ringtun-aead-bench [milliseconds per cell, default 300]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "crypto/aead.hpp"

using namespace ringtun::crypto;
using Clock = std::chrono::steady_clock;

namespace {

// Runs `op` in batches until `budget` has passed; returns nanoseconds per call.
template <typename Op>
double time_per_call(std::chrono::milliseconds budget, Op op) {
    std::uint64_t calls = 0;
    const auto start = Clock::now();
    auto now = start;
    while (now - start < budget) {
        for (int i = 0; i < 256; ++i)
            op(calls++);
        now = Clock::now();
    }
    return std::chrono::duration<double, std::nano>(now - start).count() / double(calls);
}

void run(const char* name, AeadContext::Engine engine, std::size_t size,
         std::chrono::milliseconds budget) {
    SymmetricKey key;
    key.data()[0] = 1;
    auto sealer = AeadContext::create(key, AeadContext::Direction::seal, engine);
    auto opener = AeadContext::create(key, AeadContext::Direction::open, engine);
    if (!sealer || !opener) return;
    std::vector<std::uint8_t> buf(size, 0x5a);
    std::array<std::uint8_t, 16> tag{};
    const double seal_ns = time_per_call(budget, [&](std::uint64_t n) {
        if (!sealer->seal(wireguard_nonce(n), buf, tag)) std::abort();
    });
    // Opening the same sealed message over and over measures the full authenticated path; each
    // open starts from a fresh copy of it, which both engines pay alike.
    if (!sealer->seal(wireguard_nonce(0), buf, tag)) std::abort();
    const std::vector<std::uint8_t> sealed = buf;
    const double open_ns = time_per_call(budget, [&](std::uint64_t) {
        buf = sealed;
        if (!opener->open(wireguard_nonce(0), buf, tag)) std::abort();
    });
    std::printf("%-8s %6zu B  seal %8.1f ns %6.2f GB/s   open %8.1f ns %6.2f GB/s\n", name, size,
                seal_ns, double(size) / seal_ns, open_ns, double(size) / open_ns);
}

}  // namespace

int main(int argc, char** argv) {
    const std::chrono::milliseconds budget(argc > 1 ? std::atoi(argv[1]) : 300);
    std::printf("AVX-512 engine: %s\n",
                AeadContext::avx512_supported() ? "yes" : "no (CPU lacks it)");
    for (std::size_t size : {0u, 64u, 576u, 1424u, 8192u, 65536u}) {
        run("openssl", AeadContext::Engine::openssl, size, budget);
        run("avx512", AeadContext::Engine::avx512, size, budget);
    }
}
