#include "crypto/aead.hpp"

#include <openssl/crypto.h>

#include <cstdlib>
#include <cstring>

#include "crypto/aead_avx512.hpp"

namespace ringtun::crypto {

namespace {

std::uint32_t load_le32(const std::uint8_t* p) noexcept {
    return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
           (std::uint32_t{p[3]} << 24);
}

void store_le32(std::uint8_t* p, std::uint32_t v) noexcept {
    for (int i = 0; i < 4; ++i)
        p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

constexpr std::uint32_t rotl(std::uint32_t v, int n) noexcept {
    return (v << n) | (v >> (32 - n));
}

void quarter_round(std::uint32_t* x, int a, int b, int c, int d) noexcept {
    x[a] += x[b], x[d] = rotl(x[d] ^ x[a], 16);
    x[c] += x[d], x[b] = rotl(x[b] ^ x[c], 12);
    x[a] += x[b], x[d] = rotl(x[d] ^ x[a], 8);
    x[c] += x[d], x[b] = rotl(x[b] ^ x[c], 7);
}

int len_int(std::size_t n) noexcept {
    return static_cast<int>(n);
}

}  // namespace

Nonce12 wireguard_nonce(std::uint64_t counter) noexcept {
    Nonce12 n{};
    for (int i = 0; i < 8; ++i)
        n[4 + i] = static_cast<std::uint8_t>(counter >> (8 * i));
    return n;
}

bool AeadContext::avx512_supported() noexcept {
    static const bool supported = detail::avx512_aead_supported();
    return supported;
}

std::optional<AeadContext> AeadContext::create(const SymmetricKey& key, Direction dir,
                                               Engine engine) noexcept {
    if (engine == Engine::avx512 && !avx512_supported()) return std::nullopt;
    if (engine != Engine::openssl && avx512_supported()) return AeadContext(key);
    detail::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    if (!ctx) return std::nullopt;
    int enc = dir == Direction::seal ? 1 : 0;
    if (EVP_CipherInit_ex2(ctx.get(), detail::algorithms().chacha20_poly1305, key.data(), nullptr,
                           enc, nullptr) != 1)
        return std::nullopt;
    return AeadContext(std::move(ctx));
}

bool AeadContext::process(const Nonce12& nonce, std::span<std::uint8_t> data, Bytes ad) noexcept {
    EVP_CIPHER_CTX* c = ctx_.get();
    int len = 0;
    if (EVP_CipherInit_ex2(c, nullptr, nullptr, nonce.data(), -1, nullptr) != 1) return false;
    if (!ad.empty() && EVP_CipherUpdate(c, nullptr, &len, ad.data(), len_int(ad.size())) != 1)
        return false;
    return data.empty() ||
           EVP_CipherUpdate(c, data.data(), &len, data.data(), len_int(data.size())) == 1;
}

bool AeadContext::seal(const Nonce12& nonce, std::span<std::uint8_t> data,
                       std::span<std::uint8_t, 16> tag, Bytes ad) noexcept {
    if (avx512_) {
        detail::avx512_seal(key_.data(), nonce.data(), ad.data(), ad.size(), data.data(),
                            data.size(), tag.data());
        return true;
    }
    EVP_CIPHER_CTX* c = ctx_.get();
    int len = 0;
    if (!process(nonce, data, ad)) return false;
    if (EVP_CipherFinal_ex(c, data.data() + data.size(), &len) != 1) return false;
    return EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag.data()) == 1;
}

bool AeadContext::open(const Nonce12& nonce, std::span<std::uint8_t> data,
                       std::span<const std::uint8_t, 16> tag, Bytes ad) noexcept {
    if (avx512_)
        return detail::avx512_open(key_.data(), nonce.data(), ad.data(), ad.size(), data.data(),
                                   data.size(), tag.data());
    EVP_CIPHER_CTX* c = ctx_.get();
    int len = 0;
    if (!process(nonce, data, ad)) return false;
    // OpenSSL's ctrl takes a non-const pointer but only reads the tag.
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, const_cast<std::uint8_t*>(tag.data())) !=
        1)
        return false;
    return EVP_CipherFinal_ex(c, data.data() + data.size(), &len) == 1;
}

namespace {

void seal_with_nonce(const SymmetricKey& key, const Nonce12& nonce, Bytes plaintext, Bytes ad,
                     std::span<std::uint8_t> out) noexcept {
    auto ctx = AeadContext::create(key, AeadContext::Direction::seal);
    if (!ctx || out.size() != plaintext.size() + aead_tag_len) std::abort();
    if (!plaintext.empty()) std::memmove(out.data(), plaintext.data(), plaintext.size());
    auto body = out.first(plaintext.size());
    if (!ctx->seal(nonce, body, out.subspan(plaintext.size()).first<16>(), ad)) std::abort();
}

bool open_with_nonce(const SymmetricKey& key, const Nonce12& nonce, Bytes ciphertext, Bytes ad,
                     std::span<std::uint8_t> out) noexcept {
    if (ciphertext.size() < aead_tag_len || out.size() != ciphertext.size() - aead_tag_len)
        return false;
    auto ctx = AeadContext::create(key, AeadContext::Direction::open);
    if (!ctx) return false;
    if (!out.empty()) std::memmove(out.data(), ciphertext.data(), out.size());
    auto tag = ciphertext.subspan(out.size()).first<16>();
    if (ctx->open(nonce, out, tag, ad)) return true;
    OPENSSL_cleanse(out.data(), out.size());
    return false;
}

SymmetricKey xchacha_subkey(const SymmetricKey& key, const Nonce24& nonce, Nonce12& inner) {
    SymmetricKey subkey;
    hchacha20(subkey.span(), key.span(), std::span<const std::uint8_t, 24>(nonce).first<16>());
    inner.fill(0);
    std::memcpy(inner.data() + 4, nonce.data() + 16, 8);
    return subkey;
}

}  // namespace

void aead_seal(const SymmetricKey& key, std::uint64_t counter, Bytes plaintext, Bytes ad,
               std::span<std::uint8_t> out) noexcept {
    seal_with_nonce(key, wireguard_nonce(counter), plaintext, ad, out);
}

bool aead_open(const SymmetricKey& key, std::uint64_t counter, Bytes ciphertext, Bytes ad,
               std::span<std::uint8_t> out) noexcept {
    return open_with_nonce(key, wireguard_nonce(counter), ciphertext, ad, out);
}

void hchacha20(std::span<std::uint8_t, 32> out, std::span<const std::uint8_t, 32> key,
               std::span<const std::uint8_t, 16> nonce) noexcept {
    std::uint32_t x[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};
    for (int i = 0; i < 8; ++i)
        x[4 + i] = load_le32(key.data() + 4 * i);
    for (int i = 0; i < 4; ++i)
        x[12 + i] = load_le32(nonce.data() + 4 * i);
    for (int round = 0; round < 10; ++round) {
        quarter_round(x, 0, 4, 8, 12);
        quarter_round(x, 1, 5, 9, 13);
        quarter_round(x, 2, 6, 10, 14);
        quarter_round(x, 3, 7, 11, 15);
        quarter_round(x, 0, 5, 10, 15);
        quarter_round(x, 1, 6, 11, 12);
        quarter_round(x, 2, 7, 8, 13);
        quarter_round(x, 3, 4, 9, 14);
    }
    for (int i = 0; i < 4; ++i)
        store_le32(out.data() + 4 * i, x[i]);
    for (int i = 0; i < 4; ++i)
        store_le32(out.data() + 16 + 4 * i, x[12 + i]);
    OPENSSL_cleanse(x, sizeof x);
}

void xaead_seal(const SymmetricKey& key, const Nonce24& nonce, Bytes plaintext, Bytes ad,
                std::span<std::uint8_t> out) noexcept {
    Nonce12 inner;
    SymmetricKey subkey = xchacha_subkey(key, nonce, inner);
    seal_with_nonce(subkey, inner, plaintext, ad, out);
}

bool xaead_open(const SymmetricKey& key, const Nonce24& nonce, Bytes ciphertext, Bytes ad,
                std::span<std::uint8_t> out) noexcept {
    Nonce12 inner;
    SymmetricKey subkey = xchacha_subkey(key, nonce, inner);
    return open_with_nonce(subkey, inner, ciphertext, ad, out);
}

}  // namespace ringtun::crypto
