// BLAKE2s (RFC 7693) written out here, and HASH, MAC, HMAC and KDF on it.
//
// OpenSSL has BLAKE2s, but through EVP each call paid a context, a provider dispatch and, for
// HMAC, a digest looked up by name: about 0.6 µs per HMAC, and a handshake runs some twenty
// (its KDFs) besides a dozen hashes and MACs, a tenth of a responder's time next to its four
// X25519 operations. Here a compression is a function call (AVX-512 VL where the CPU has it:
// blake2s_compress.hpp), and an HMAC key's two padded blocks are absorbed once for every KDF
// output keyed by it. unit.crypto checks every
// function against OpenSSL's on every length and key length that matters.
#include "crypto/blake2s.hpp"

#include <openssl/crypto.h>

#include <cstdlib>
#include <cstring>

#include "crypto/blake2s_compress.hpp"

namespace ringtun::crypto {

namespace {

constexpr std::size_t block_len = 64;

inline std::uint32_t rotr(std::uint32_t x, int n) noexcept {
    return (x >> n) | (x << (32 - n));
}

inline std::uint32_t load32(const std::uint8_t* p) noexcept {
    return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
           std::uint32_t{p[3]} << 24;
}

// Chosen once at start-up; a hash computed before (another file's static initialiser) takes
// the portable form, which gives the same bytes.
const bool use_avx512 = detail::avx512_blake2s_supported();

// BLAKE2s with a digest of `out_len` bytes (1 to 32), optionally keyed: a value type, so a
// state that has absorbed a key block can be copied and continued.
class Blake2s {
  public:
    // `key` is 0 to 32 bytes (the MAC); unkeyed for HASH and HMAC.
    explicit Blake2s(std::size_t out_len, Bytes key = {}) noexcept : out_len_(out_len) {
        std::memcpy(h_, detail::blake2s_iv, sizeof h_);
        h_[0] ^= 0x01010000u ^ static_cast<std::uint32_t>(key.size() << 8) ^
                 static_cast<std::uint32_t>(out_len);
        if (!key.empty()) {
            std::uint8_t block[block_len] = {};
            std::memcpy(block, key.data(), key.size());
            update({block, block_len});
            OPENSSL_cleanse(block, sizeof block);
        }
    }
    Blake2s(const Blake2s&) = default;
    Blake2s& operator=(const Blake2s&) = default;
    ~Blake2s() { OPENSSL_cleanse(this, sizeof *this); }

    void update(Bytes in) noexcept {
        const std::uint8_t* p = in.data();
        std::size_t n = in.size();
        while (n > 0) {
            // A full block is compressed only once more input follows: the last one is the
            // final block, compressed with the final flag.
            if (filled_ == block_len) {
                counter_ += block_len;
                compress(buf_, false);
                filled_ = 0;
            }
            const std::size_t take = std::min(n, block_len - filled_);
            std::memcpy(buf_ + filled_, p, take);
            filled_ += take;
            p += take;
            n -= take;
        }
    }

    // Compresses `block` as the next full block. Precondition: nothing is buffered, and more
    // input will follow (a last block is compressed by final() instead).
    void absorb(const std::uint8_t* block) noexcept {
        counter_ += block_len;
        compress(block, false);
    }

    // Writes the digest (out_len bytes) to `out`.
    void final(std::uint8_t* out) noexcept {
        counter_ += filled_;
        std::memset(buf_ + filled_, 0, block_len - filled_);
        compress(buf_, true);
        std::uint8_t digest[32];
        for (int i = 0; i < 8; ++i)
            for (int j = 0; j < 4; ++j)
                digest[4 * i + j] = static_cast<std::uint8_t>(h_[i] >> (8 * j));
        std::memcpy(out, digest, out_len_);
        OPENSSL_cleanse(digest, sizeof digest);
    }

  private:
    void compress(const std::uint8_t* block, bool last) noexcept {
        if (use_avx512)
            detail::blake2s_compress_avx512(h_, block, counter_, last);
        else
            detail::blake2s_compress_portable(h_, block, counter_, last);
    }

    std::uint32_t h_[8];
    std::uint64_t counter_ = 0;
    std::uint8_t buf_[block_len] = {};
    std::size_t filled_ = 0;
    std::size_t out_len_;
};

// HMAC (RFC 2104 over BLAKE2s, whose block is 64 bytes) under one key: the two hashes with
// the key's padded blocks already compressed, to be copied for each message. The inner block
// is kept too, for an empty message, after which it is the final block.
class HmacKey {
  public:
    explicit HmacKey(Bytes key) noexcept {
        if (key.size() > block_len) {
            Blake2s k(32);
            k.update(key);
            k.final(ipad_);
        } else if (!key.empty()) {
            std::memcpy(ipad_, key.data(), key.size());
        }
        std::uint8_t opad[block_len];
        for (std::size_t i = 0; i < block_len; ++i) {
            opad[i] = static_cast<std::uint8_t>(ipad_[i] ^ 0x5c);
            ipad_[i] ^= 0x36;
        }
        inner_.absorb(ipad_);
        outer_.absorb(opad);
        OPENSSL_cleanse(opad, sizeof opad);
    }
    HmacKey(const HmacKey&) = delete;
    HmacKey& operator=(const HmacKey&) = delete;
    ~HmacKey() { OPENSSL_cleanse(ipad_, sizeof ipad_); }

    // HMAC(key, parts) into `out`.
    void compute(std::span<std::uint8_t, 32> out,
                 std::initializer_list<Bytes> parts) const noexcept {
        std::size_t total = 0;
        for (Bytes p : parts)
            total += p.size();
        Blake2s in = inner_;
        if (total == 0) {
            in = Blake2s(32);
            in.update({ipad_, block_len});
        }
        for (Bytes p : parts)
            in.update(p);
        std::uint8_t inner_hash[32];
        in.final(inner_hash);
        Blake2s o = outer_;
        o.update({inner_hash, sizeof inner_hash});
        o.final(out.data());
        OPENSSL_cleanse(inner_hash, sizeof inner_hash);
    }

  private:
    std::uint8_t ipad_[block_len] = {};
    Blake2s inner_{32}, outer_{32};
};

}  // namespace

Hash hash(std::initializer_list<Bytes> parts) noexcept {
    Blake2s b(32);
    for (Bytes p : parts)
        b.update(p);
    Hash out;
    b.final(out.data());
    return out;
}

Mac16 mac(Bytes key, Bytes data) noexcept {
    // BLAKE2s keys are at most 32 bytes: a longer one would overflow the key block (over 64)
    // or corrupt the parameter block's key length (33 to 64). A caller's bug, not input.
    if (key.size() > 32) std::abort();
    Blake2s b(16, key);
    b.update(data);
    Mac16 out;
    b.final(out.data());
    return out;
}

void hmac(std::span<std::uint8_t, 32> out, Bytes key, std::initializer_list<Bytes> parts) noexcept {
    HmacKey(key).compute(out, parts);
}

void kdf(std::span<SymmetricKey* const> outputs, std::span<const std::uint8_t, 32> key,
         Bytes input) noexcept {
    // prk = HMAC(key, input); t(i) = HMAC(prk, t(i-1) ‖ i), t(0) being empty.
    SymmetricKey prk;
    hmac(prk.span(), key, {input});
    const HmacKey keyed(prk.span());
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        const std::uint8_t counter = static_cast<std::uint8_t>(i + 1);
        const Bytes prev = i == 0 ? Bytes{} : Bytes{outputs[i - 1]->span()};
        keyed.compute(outputs[i]->span(), {prev, Bytes{&counter, 1}});
    }
}

namespace detail {

namespace {

// The mixing function G (RFC 7693 §3.1).
inline void mix(std::uint32_t v[16], int a, int b, int c, int d, std::uint32_t x,
                std::uint32_t y) noexcept {
    v[a] = v[a] + v[b] + x;
    v[d] = rotr(v[d] ^ v[a], 16);
    v[c] = v[c] + v[d];
    v[b] = rotr(v[b] ^ v[c], 12);
    v[a] = v[a] + v[b] + y;
    v[d] = rotr(v[d] ^ v[a], 8);
    v[c] = v[c] + v[d];
    v[b] = rotr(v[b] ^ v[c], 7);
}

// Round R of the compression: the column mixes, then the diagonal ones, with the round's
// message permutation. One instance per round, so every index is a constant (a loop over the
// rounds read the permutation from memory: 15% slower).
template <int R>
inline void round(std::uint32_t v[16], const std::uint32_t m[16]) noexcept {
    constexpr const std::uint8_t* s = detail::blake2s_sigma[R];
    mix(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
    mix(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
    mix(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
    mix(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
    mix(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
    mix(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
    mix(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
    mix(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
}

}  // namespace

bool avx512_blake2s_supported() noexcept {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
}

void blake2s_compress_portable(std::uint32_t h[8], const std::uint8_t block[64],
                               std::uint64_t counter, bool last) noexcept {
    std::uint32_t m[16], v[16];
    for (int i = 0; i < 16; ++i)
        m[i] = load32(block + 4 * i);
    std::memcpy(v, h, 8 * sizeof *h);
    std::memcpy(v + 8, blake2s_iv, sizeof blake2s_iv);
    v[12] ^= static_cast<std::uint32_t>(counter);
    v[13] ^= static_cast<std::uint32_t>(counter >> 32);
    if (last) v[14] = ~v[14];
    round<0>(v, m);
    round<1>(v, m);
    round<2>(v, m);
    round<3>(v, m);
    round<4>(v, m);
    round<5>(v, m);
    round<6>(v, m);
    round<7>(v, m);
    round<8>(v, m);
    round<9>(v, m);
    for (int i = 0; i < 8; ++i)
        h[i] ^= v[i] ^ v[i + 8];
    // m and v are left on the stack (blake2s_compress.hpp): wiping them cost a fifth of a
    // compression, seventy times a handshake; the state and the buffered input, which outlive
    // the call, are wiped with the Blake2s object.
}

}  // namespace detail

}  // namespace ringtun::crypto
