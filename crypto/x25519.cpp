#include "crypto/x25519.hpp"

#include <cstdlib>

#include "crypto/openssl.hpp"

namespace ringtun::crypto {

void clamp_private_key(PrivateKey& key) noexcept {
    key.data()[0] &= 248;
    key.data()[31] &= 127;
    key.data()[31] |= 64;
}

PrivateKey generate_private_key(Rng& rng) noexcept {
    PrivateKey key;
    rng.fill(key.span());
    clamp_private_key(key);
    return key;
}

namespace {

detail::PkeyPtr private_pkey(const PrivateKey& key) noexcept {
    return detail::PkeyPtr(
        EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, key.data(), key.size()));
}

}  // namespace

PublicKey derive_public_key(const PrivateKey& key) noexcept {
    detail::PkeyPtr pkey = private_pkey(key);
    PublicKey pub;
    size_t len = pub.bytes.size();
    if (!pkey || EVP_PKEY_get_raw_public_key(pkey.get(), pub.bytes.data(), &len) != 1 ||
        len != pub.bytes.size())
        std::abort();
    return pub;
}

bool dh(SymmetricKey& out, const PrivateKey& priv, const PublicKey& pub) noexcept {
    detail::PkeyPtr mine = private_pkey(priv);
    detail::PkeyPtr theirs(
        EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, pub.data(), pub.bytes.size()));
    if (!mine || !theirs) return false;
    detail::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, mine.get(), nullptr));
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
        EVP_PKEY_derive_set_peer(ctx.get(), theirs.get()) != 1)
        return false;
    size_t len = out.size();
    // OpenSSL's X25519 derive fails on an all-zero shared secret; check again regardless.
    if (EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1 || len != out.size() || out.is_zero()) {
        out.clear();
        return false;
    }
    return true;
}

}  // namespace ringtun::crypto
