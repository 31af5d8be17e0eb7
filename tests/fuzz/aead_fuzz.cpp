// libFuzzer target for ChaCha20-Poly1305 as the data path runs it: every received data message
// is opened from bytes a peer (or anyone on the path) chose. Differential: our AVX-512 engine
// and OpenSSL's must agree on every seal, and on every open of arbitrary bytes (almost always a
// rejection; if one accepts, both must, with the same plaintext).
//
// Input: bytes 0-1 = AD length (little-endian, mod 2048; at most the message); 32 key bytes;
// 12 nonce bytes; 16 tag bytes; the rest is the message, its first bytes also the AD. Without
// AVX-512 on the CPU only the OpenSSL engine runs.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "crypto/aead.hpp"

using namespace ringtun::crypto;
using Engine = AeadContext::Engine;
using Direction = AeadContext::Direction;

namespace {

constexpr std::size_t header_len = 2 + 32 + 12 + 16;

void require(bool ok) {
    if (!ok) std::abort();
}

struct Outcome {
    bool ok = false;
    std::vector<std::uint8_t> body;
    std::array<std::uint8_t, 16> tag{};
};

Outcome run(Engine engine, Direction dir, const SymmetricKey& key, const Nonce12& nonce,
            std::vector<std::uint8_t> body, const std::array<std::uint8_t, 16>& tag, Bytes ad) {
    auto ctx = AeadContext::create(key, dir, engine);
    require(ctx.has_value());
    Outcome out{false, std::move(body), tag};
    out.ok = dir == Direction::seal ? ctx->seal(nonce, out.body, out.tag, ad)
                                    : ctx->open(nonce, out.body, out.tag, ad);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < header_len) return 0;
    SymmetricKey key;
    key.assign(std::span<const std::uint8_t, 32>(data + 2, 32));
    Nonce12 nonce;
    std::memcpy(nonce.data(), data + 34, 12);
    std::array<std::uint8_t, 16> tag;
    std::memcpy(tag.data(), data + 46, 16);
    const std::vector<std::uint8_t> message(data + header_len, data + size);
    const std::size_t ad_len =
        std::min<std::size_t>((data[0] | data[1] << 8) % 2048, message.size());
    const Bytes ad(message.data(), ad_len);

    // Opening what a peer sent: the same verdict from both engines.
    const Outcome theirs = run(Engine::openssl, Direction::open, key, nonce, message, tag, ad);
    if (AeadContext::avx512_supported()) {
        const Outcome ours = run(Engine::avx512, Direction::open, key, nonce, message, tag, ad);
        require(ours.ok == theirs.ok);
        if (ours.ok) require(ours.body == theirs.body);
    }

    // Sealing: the same ciphertext and tag, and each opens the other's.
    const Outcome sealed = run(Engine::openssl, Direction::seal, key, nonce, message, {}, ad);
    require(sealed.ok);
    if (AeadContext::avx512_supported()) {
        const Outcome ours = run(Engine::avx512, Direction::seal, key, nonce, message, {}, ad);
        require(ours.ok && ours.body == sealed.body && ours.tag == sealed.tag);
        const Outcome back =
            run(Engine::avx512, Direction::open, key, nonce, sealed.body, sealed.tag, ad);
        require(back.ok && back.body == message);
    }
    return 0;
}
