// Our AVX-512 ChaCha20-Poly1305 against OpenSSL's: the same ciphertext and tag for every message
// length up to three keystream calls and beyond, with and without additional data, with random
// and with extreme bytes (all-ones data and keys give the largest limbs and carries), and opens
// that reject every kind of tampering.
#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

#include <openssl/evp.h>

#include "crypto/aead.hpp"
#include "crypto/aead_avx512.hpp"
#include "crypto/keys.hpp"

using namespace ringtun::crypto;

namespace {

using Engine = AeadContext::Engine;
using Direction = AeadContext::Direction;

struct Sealed {
    std::vector<std::uint8_t> body;
    std::array<std::uint8_t, 16> tag{};
};

Sealed seal_with(Engine engine, const SymmetricKey& key, const Nonce12& nonce,
                 std::vector<std::uint8_t> plain, const std::vector<std::uint8_t>& ad) {
    auto ctx = AeadContext::create(key, Direction::seal, engine);
    REQUIRE(ctx);
    Sealed s{std::move(plain), {}};
    REQUIRE(ctx->seal(nonce, s.body, s.tag, ad));
    return s;
}

bool open_with(Engine engine, const SymmetricKey& key, const Nonce12& nonce, Sealed s,
               const std::vector<std::uint8_t>& ad, const std::vector<std::uint8_t>& plain) {
    auto ctx = AeadContext::create(key, Direction::open, engine);
    REQUIRE(ctx);
    if (!ctx->open(nonce, s.body, s.tag, ad)) return false;
    return s.body == plain;
}

std::vector<std::uint8_t> random_bytes(std::mt19937_64& rng, std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (auto& b : v)
        b = static_cast<std::uint8_t>(rng());
    return v;
}

// Seals with both engines, requires identical output, and opens each with the other.
void check_agree(const SymmetricKey& key, const Nonce12& nonce,
                 const std::vector<std::uint8_t>& plain, const std::vector<std::uint8_t>& ad) {
    const Sealed ours = seal_with(Engine::avx512, key, nonce, plain, ad);
    const Sealed theirs = seal_with(Engine::openssl, key, nonce, plain, ad);
    INFO("length ", plain.size(), ", ad ", ad.size());
    REQUIRE(ours.body == theirs.body);
    REQUIRE(ours.tag == theirs.tag);
    REQUIRE(open_with(Engine::avx512, key, nonce, theirs, ad, plain));
    REQUIRE(open_with(Engine::openssl, key, nonce, ours, ad, plain));
}

// OpenSSL's Poly1305 MAC over the AEAD's input for ct alone: ct ‖ pad16 ‖ le64(0) ‖ le64(len).
std::array<std::uint8_t, 16> reference_tag(const std::array<std::uint8_t, 32>& otk,
                                           const std::vector<std::uint8_t>& ct) {
    std::vector<std::uint8_t> input = ct;
    input.resize((ct.size() + 15) / 16 * 16 + 8, 0);
    for (int i = 0; i < 8; ++i)
        input.push_back(static_cast<std::uint8_t>(std::uint64_t{ct.size()} >> (8 * i)));
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "POLY1305", nullptr);
    REQUIRE(mac);
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
    std::array<std::uint8_t, 16> tag{};
    std::size_t out_len = 0;
    REQUIRE(EVP_MAC_init(ctx, otk.data(), otk.size(), nullptr) == 1);
    REQUIRE(EVP_MAC_update(ctx, input.data(), input.size()) == 1);
    REQUIRE(EVP_MAC_final(ctx, tag.data(), &out_len, tag.size()) == 1);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return tag;
}

}  // namespace

TEST_CASE("IFMA Poly1305 equals OpenSSL's for extreme keys and messages") {
    if (!AeadContext::avx512_supported()) return;
    std::mt19937_64 rng(1305);
    // r clamped from all ones is the largest r; s all ones makes the final addition carry.
    std::array<std::uint8_t, 32> otk;
    for (int key_kind = 0; key_kind < 3; ++key_kind) {
        for (auto& b : otk)
            b = key_kind == 0 ? 0xff : key_kind == 1 ? 0x00 : static_cast<std::uint8_t>(rng());
        if (key_kind == 1) otk[0] = 1;  // r = 1
        for (std::size_t len : {0u, 1u, 16u, 127u, 128u, 255u, 256u, 257u, 1424u, 8192u, 65535u}) {
            for (std::uint8_t fill : {0x00, 0xff}) {
                const std::vector<std::uint8_t> ct(len, fill);
                std::array<std::uint8_t, 16> ours{};
                ringtun::crypto::detail::poly1305_aead_tag(otk.data(), nullptr, 0, ct.data(),
                                                           ct.size(), ours.data());
                INFO("key kind ", key_kind, ", length ", len, ", fill ", int{fill});
                CHECK(ours == reference_tag(otk, ct));
            }
        }
    }
}

TEST_CASE("Poly1305's final reduction: h = p + k gives the tag k") {
    if (!AeadContext::avx512_supported()) return;
    // r = 1 and s = 0: the tag is the sum of the blocks mod 2^130 - 5, mod 2^128. With a
    // 32-byte ct of m1 = 2^128 - 2^69 - 5 + k and m2 = 0 the three blocks (each with its 2^128
    // bit, the last being le64(0) ‖ le64(32)) sum to exactly p + k, which only a correct
    // final subtraction of p turns into k.
    std::array<std::uint8_t, 32> otk{};
    otk[0] = 1;
    for (std::uint8_t k = 0; k < 5; ++k) {
        std::vector<std::uint8_t> ct(32, 0);
        __extension__ typedef unsigned __int128 u128;
        const u128 m1 = (~u128{0} << 69) - 5 + k;  // 2^128 - 2^69 - 5 + k
        for (int i = 0; i < 16; ++i)
            ct[i] = static_cast<std::uint8_t>(m1 >> (8 * i));
        std::array<std::uint8_t, 16> ours{};
        ringtun::crypto::detail::poly1305_aead_tag(otk.data(), nullptr, 0, ct.data(), ct.size(),
                                                   ours.data());
        std::array<std::uint8_t, 16> expected{};
        expected[0] = k;
        CAPTURE(int{k});
        CHECK(ours == expected);
        CHECK(reference_tag(otk, ct) == expected);
    }
}

TEST_CASE("AVX-512 ChaCha20-Poly1305 equals OpenSSL's on every length") {
    if (!AeadContext::avx512_supported()) {
        MESSAGE("this CPU lacks AVX-512 F/VL/BW/IFMA: only the OpenSSL engine runs here");
        CHECK_FALSE(AeadContext::create(SymmetricKey{}, Direction::seal, Engine::avx512));
        return;
    }
    std::mt19937_64 rng(8439);
    SymmetricKey key;
    Nonce12 nonce{};
    for (std::size_t len = 0; len <= 2200; ++len) {
        auto k = random_bytes(rng, 32);
        key.assign(std::span<const std::uint8_t, 32>(k.data(), 32));
        auto n = random_bytes(rng, 12);
        std::memcpy(nonce.data(), n.data(), 12);
        // Some with long additional data too, so that it takes the eight-lane path.
        const std::size_t ad_len = len % 7 == 0 ? len % 61 : len % 11 == 0 ? len * 13 % 1600 : 0;
        check_agree(key, nonce, random_bytes(rng, len), random_bytes(rng, ad_len));
    }
    for (std::size_t len : {16384u, 65519u})
        check_agree(key, nonce, random_bytes(rng, len), {});
}

TEST_CASE("AVX-512 ChaCha20-Poly1305 with the largest limbs") {
    if (!AeadContext::avx512_supported()) return;
    SymmetricKey ones;
    std::array<std::uint8_t, 32> ff;
    ff.fill(0xff);
    ones.assign(ff);
    // With all-ones keys the one-time Poly1305 keys still vary per nonce; try many, and data
    // that is all ones (each block the largest the radix holds) as well as all zeros.
    for (std::uint64_t counter = 0; counter < 300; ++counter) {
        const Nonce12 nonce = wireguard_nonce(counter * 0x0101010101010101ULL);
        for (std::size_t len : {0u, 16u, 255u, 256u, 1420u, 1424u, 4096u}) {
            check_agree(ones, nonce, std::vector<std::uint8_t>(len, 0xff), {});
            check_agree(ones, nonce, std::vector<std::uint8_t>(len, 0x00),
                        std::vector<std::uint8_t>(len % 33, 0xff));
        }
    }
}

TEST_CASE("AVX-512 open rejects a flipped bit anywhere and leaves the data as it was") {
    if (!AeadContext::avx512_supported()) return;
    std::mt19937_64 rng(7);
    SymmetricKey key;
    auto k = random_bytes(rng, 32);
    key.assign(std::span<const std::uint8_t, 32>(k.data(), 32));
    const Nonce12 nonce = wireguard_nonce(42);
    const auto plain = random_bytes(rng, 1424);
    const auto ad = random_bytes(rng, 32);
    const Sealed good = seal_with(Engine::avx512, key, nonce, plain, ad);
    auto opener = AeadContext::create(key, Direction::open, Engine::avx512);
    REQUIRE(opener);
    for (std::size_t bit = 0; bit < 8 * (good.body.size() + 16 + ad.size()); bit += 97) {
        Sealed bad = good;
        auto bad_ad = ad;
        const std::size_t byte = bit / 8;
        const auto flip = static_cast<std::uint8_t>(1u << (bit % 8));
        if (byte < bad.body.size())
            bad.body[byte] ^= flip;
        else if (byte < bad.body.size() + 16)
            bad.tag[byte - bad.body.size()] ^= flip;
        else
            bad_ad[byte - bad.body.size() - 16] ^= flip;
        auto before = bad.body;
        CHECK_FALSE(opener->open(nonce, bad.body, bad.tag, bad_ad));
        CHECK(bad.body == before);
    }
    CHECK_FALSE(open_with(Engine::avx512, key, wireguard_nonce(43), good, ad, plain));
    CHECK(open_with(Engine::avx512, key, nonce, good, ad, plain));
}
