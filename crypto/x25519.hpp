// X25519 (RFC 7748) key generation, public-key derivation and Diffie-Hellman.
#pragma once

#include <memory>

#include "crypto/keys.hpp"
#include "crypto/rng.hpp"

// OpenSSL's EVP_PKEY and EVP_PKEY_CTX, declared rather than included: the engine's headers
// include this one, and need none of OpenSSL's.
struct evp_pkey_st;
struct evp_pkey_ctx_st;

namespace ringtun::crypto {

// A fresh private key, clamped exactly as `wg genkey` writes it.
PrivateKey generate_private_key(Rng& rng) noexcept;

// Clears bits 0–2 and 255, sets bit 254 (RFC 7748 §5).
void clamp_private_key(PrivateKey& key) noexcept;

PublicKey derive_public_key(const PrivateKey& key) noexcept;

// DH(priv, pub). False when the result is all zero (a low-order public key): the caller must
// treat the handshake as failed. Costs two X25519 operations (OpenSSL derives the public key
// of a private key it imports); a key used more than once is an X25519Key.
[[nodiscard]] bool dh(SymmetricKey& out, const PrivateKey& priv, const PublicKey& pub) noexcept;

namespace detail {
// Hands an X25519Public's key to this thread's spares (x25519.cpp) rather than freeing it, or
// frees it once they are gone (the thread's end).
struct SparePublic {
    void operator()(evp_pkey_st* pkey) const noexcept;
};
struct FreePkey {
    void operator()(evp_pkey_st* pkey) const noexcept;
};
struct FreePkeyCtx {
    void operator()(evp_pkey_ctx_st* ctx) const noexcept;
};
}  // namespace detail

// A public key in OpenSSL's form, made once for a key that enters more than one DH: a peer's
// static key (every handshake with it), the other side's ephemeral key (two DHs each side).
// Move-only. An empty one (default-made, or OpenSSL could not make it) fails every DH. Making
// one reuses a key object an earlier one left on this thread when there is one.
class X25519Public {
  public:
    X25519Public() = default;
    explicit X25519Public(const PublicKey& key) noexcept;

    const PublicKey& key() const noexcept { return key_; }
    explicit operator bool() const noexcept { return pkey_ != nullptr; }

  private:
    friend class X25519Key;
    PublicKey key_;
    std::unique_ptr<evp_pkey_st, detail::SparePublic> pkey_;
};

// A private key held in OpenSSL's form, with its public key and a derive context, for several
// Diffie-Hellman operations: the interface's static key (each handshake's DH(static, ·)) and a
// handshake's ephemeral key (two operations each side). Making one costs one X25519 operation
// (its public key) and each dh() one more, with no work done twice: a responder's handshake is
// then the four operations Noise_IKpsk2 needs, where the free dh() would have spent seven.
// Move-only; OpenSSL wipes the private key when it is freed. An empty one (default-made or
// moved from) has an all-zero public key and fails every dh(). dh() is not const: it reuses the
// key's derive context, so a key (and the Identity holding it) serves one thread at a time.
class X25519Key {
  public:
    X25519Key() = default;
    X25519Key(X25519Key&& o) noexcept;
    X25519Key& operator=(X25519Key&& o) noexcept;
    static X25519Key create(const PrivateKey& priv) noexcept;

    const PublicKey& public_key() const noexcept { return public_; }
    explicit operator bool() const noexcept { return pkey_ != nullptr; }

    // DH(this, theirs); false as for dh() above, and for an empty key on either side.
    [[nodiscard]] bool dh(SymmetricKey& out, const X25519Public& theirs) noexcept;
    [[nodiscard]] bool dh(SymmetricKey& out, const PublicKey& theirs) noexcept {
        return dh(out, X25519Public(theirs));
    }

  private:
    std::unique_ptr<evp_pkey_st, detail::FreePkey> pkey_;
    // Derive, initialised with pkey_; the peer set per dh().
    std::unique_ptr<evp_pkey_ctx_st, detail::FreePkeyCtx> ctx_;
    PublicKey public_;
};

}  // namespace ringtun::crypto
