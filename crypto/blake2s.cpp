#include "crypto/blake2s.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

#include <cstdlib>

#include "crypto/openssl.hpp"

namespace ringtun::crypto {

using detail::algorithms;

namespace {

// OpenSSL reports failure here only on allocation failure or a broken provider: there is no
// safe way to continue computing keys, so stop.
void check(int ok) noexcept {
    if (ok != 1) std::abort();
}

}  // namespace

Hash hash(std::initializer_list<Bytes> parts) noexcept {
    detail::MdCtxPtr ctx(EVP_MD_CTX_new());
    check(ctx != nullptr);
    check(EVP_DigestInit_ex2(ctx.get(), algorithms().blake2s256, nullptr));
    for (Bytes p : parts)
        check(EVP_DigestUpdate(ctx.get(), p.data(), p.size()));
    Hash out;
    unsigned int len = 0;
    check(EVP_DigestFinal_ex(ctx.get(), out.data(), &len));
    return out;
}

Mac16 mac(Bytes key, Bytes data) noexcept {
    detail::MacCtxPtr ctx(EVP_MAC_CTX_new(algorithms().blake2s_mac));
    check(ctx != nullptr);
    size_t digest_size = 16;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &digest_size),
                           OSSL_PARAM_construct_end()};
    check(EVP_MAC_init(ctx.get(), key.data(), key.size(), params));
    check(EVP_MAC_update(ctx.get(), data.data(), data.size()));
    Mac16 out;
    size_t len = 0;
    check(EVP_MAC_final(ctx.get(), out.data(), &len, out.size()));
    check(len == out.size());
    return out;
}

void hmac(std::span<std::uint8_t, 32> out, Bytes key, std::initializer_list<Bytes> parts) noexcept {
    detail::MacCtxPtr ctx(EVP_MAC_CTX_new(algorithms().hmac));
    check(ctx != nullptr);
    char digest[] = "BLAKE2S-256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    // An empty key is legal HMAC, but OpenSSL treats a null pointer as "no key given".
    static const std::uint8_t no_key = 0;
    check(EVP_MAC_init(ctx.get(), key.empty() ? &no_key : key.data(), key.size(), params));
    for (Bytes p : parts)
        check(EVP_MAC_update(ctx.get(), p.data(), p.size()));
    size_t len = 0;
    check(EVP_MAC_final(ctx.get(), out.data(), &len, out.size()));
    check(len == out.size());
}

void kdf(std::span<SymmetricKey* const> outputs, std::span<const std::uint8_t, 32> key,
         Bytes input) noexcept {
    // prk = HMAC(key, input); t(i) = HMAC(prk, t(i-1) ‖ i), t(0) being empty.
    SymmetricKey prk;
    hmac(prk.span(), key, {input});
    SymmetricKey previous;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        const std::uint8_t counter = static_cast<std::uint8_t>(i + 1);
        Bytes prev = i == 0 ? Bytes{} : Bytes{previous.span()};
        hmac(outputs[i]->span(), prk.span(), {prev, Bytes{&counter, 1}});
        previous = *outputs[i];
    }
}

}  // namespace ringtun::crypto
