#include "crypto/x25519.hpp"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include <cstdlib>
#include <utility>

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

// This thread's context for importing X25519 keys, made once: EVP_PKEY_new_raw_*_key make one
// per call and look the key type up by name in it, a tenth of a DH's cost.
EVP_PKEY_CTX* import_context() noexcept {
    thread_local const detail::PkeyCtxPtr ctx = [] {
        detail::PkeyCtxPtr c(EVP_PKEY_CTX_new_from_name(nullptr, "X25519", nullptr));
        if (c && EVP_PKEY_fromdata_init(c.get()) != 1) c.reset();
        return c;
    }();
    return ctx.get();
}

// Imports the halves given (either may be null). Null if OpenSSL refuses.
detail::PkeyPtr import(const std::uint8_t* priv, const std::uint8_t* pub) noexcept {
    EVP_PKEY_CTX* ctx = import_context();
    if (ctx == nullptr) return nullptr;
    OSSL_PARAM params[3];
    int n = 0;
    if (priv != nullptr)
        params[n++] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY,
                                                        const_cast<std::uint8_t*>(priv), key_len);
    if (pub != nullptr)
        params[n++] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                        const_cast<std::uint8_t*>(pub), key_len);
    params[n] = OSSL_PARAM_construct_end();
    EVP_PKEY* raw = nullptr;
    const int selection = priv != nullptr ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
    if (EVP_PKEY_fromdata(ctx, &raw, selection, params) != 1) return nullptr;
    return detail::PkeyPtr(raw);
}

detail::PkeyPtr public_pkey(const PublicKey& key) noexcept {
    return import(nullptr, key.data());
}

// Public-key objects of this thread that an X25519Public left, for the next one to overwrite
// in place (0.03 µs) instead of importing a new one (1.5 µs, most of it EVP_PKEY_fromdata
// finding the key type's methods by name): a responder takes in one ephemeral key per
// handshake. A derive context keeps a reference to its last peer, so a spare may still be
// referenced there; derive() sets the peer before every use, so no context reads a spare's new
// bytes as its old peer.
//
// Trivially destructible, so that its storage stays usable to the thread's end: the keys are
// freed by a SparesReaper, which marks the spares closed, and an X25519Public destroyed later
// (a thread_local made before the spares) frees its key instead of leaving it there.
struct Spares {
    static constexpr int capacity = 4;
    EVP_PKEY* keys[capacity] = {};
    int count = 0;
    bool closed = false;
};

thread_local Spares spares;

struct SparesReaper {
    ~SparesReaper() {
        spares.closed = true;
        while (spares.count > 0)
            EVP_PKEY_free(spares.keys[--spares.count]);
    }
};

// The spares, for keeping a key: their reaper registered on the thread's first use (a
// function's thread_local is made, and its destruction scheduled, when first reached).
Spares& spares_to_keep() noexcept {
    thread_local SparesReaper reaper;
    (void)reaper;
    return spares;
}

// `key` in OpenSSL's form: a spare with its bytes replaced, else a new import. Null if OpenSSL
// refuses.
EVP_PKEY* public_pkey_reusing(const PublicKey& key) noexcept {
    while (spares.count > 0) {
        EVP_PKEY* pkey = spares.keys[--spares.count];
        if (EVP_PKEY_set1_encoded_public_key(pkey, key.data(), key.bytes.size()) == 1) return pkey;
        EVP_PKEY_free(pkey);
    }
    return public_pkey(key).release();
}

// The base point, u = 9 (RFC 7748 §4.1).
const EVP_PKEY* base_point() noexcept {
    static const detail::PkeyPtr base = [] {
        PublicKey nine;
        nine.bytes[0] = 9;
        return public_pkey(nine);
    }();
    if (!base) std::abort();
    return base.get();
}

// A derive context for `mine`; null if OpenSSL cannot make one.
detail::PkeyCtxPtr derive_context(EVP_PKEY* mine) noexcept {
    detail::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, mine, nullptr));
    if (ctx && EVP_PKEY_derive_init(ctx.get()) != 1) ctx.reset();
    return ctx;
}

// DH with the context's key and `theirs`.
bool derive(SymmetricKey& out, EVP_PKEY_CTX* ctx, const EVP_PKEY* theirs) noexcept {
    size_t len = out.size();
    // The peer key needs no check: every 32-byte string is an X25519 public key (RFC 7748 §5),
    // and a low-order one shows as the all-zero result below. OpenSSL's X25519 derive fails on
    // an all-zero shared secret; check again regardless.
    if (ctx == nullptr || theirs == nullptr ||
        EVP_PKEY_derive_set_peer_ex(ctx, const_cast<EVP_PKEY*>(theirs), 0) != 1 ||
        EVP_PKEY_derive(ctx, out.data(), &len) != 1 || len != out.size() || out.is_zero()) {
        out.clear();
        return false;
    }
    return true;
}

// `priv` imported with a stand-in public half. OpenSSL 3.0 computes the public key of a
// private key imported alone, through a slower path than its DH (50 µs against 38 here);
// X25519Key::create computes it with a DH against the base point instead, which gives the
// same bytes. The stand-in never leaves the key object: only derive() uses it, and derive
// reads the private half. Null if OpenSSL refuses the import.
detail::PkeyPtr private_pkey_unchecked(const PrivateKey& priv) noexcept {
    const std::uint8_t stand_in[key_len] = {9};
    return import(priv.data(), stand_in);
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
    detail::PkeyPtr theirs = public_pkey(pub);
    if (!mine || !theirs) {
        out.clear();
        return false;
    }
    return derive(out, derive_context(mine.get()).get(), theirs.get());
}

X25519Public::X25519Public(const PublicKey& key) noexcept
    : key_(key), pkey_(public_pkey_reusing(key)) {}

void detail::SparePublic::operator()(EVP_PKEY* pkey) const noexcept {
    if (spares.closed || spares.count == Spares::capacity) {
        EVP_PKEY_free(pkey);
        return;
    }
    Spares& s = spares_to_keep();
    s.keys[s.count++] = pkey;
}

void detail::FreePkey::operator()(EVP_PKEY* pkey) const noexcept {
    EVP_PKEY_free(pkey);
}

void detail::FreePkeyCtx::operator()(EVP_PKEY_CTX* ctx) const noexcept {
    EVP_PKEY_CTX_free(ctx);
}

X25519Key::X25519Key(X25519Key&& o) noexcept
    : pkey_(std::move(o.pkey_)), ctx_(std::move(o.ctx_)), public_(std::exchange(o.public_, {})) {}

X25519Key& X25519Key::operator=(X25519Key&& o) noexcept {
    if (this != &o) {
        ctx_ = std::move(o.ctx_);  // before the key it refers to
        pkey_ = std::move(o.pkey_);
        public_ = std::exchange(o.public_, {});
    }
    return *this;
}

X25519Key X25519Key::create(const PrivateKey& priv) noexcept {
    X25519Key k;
    k.pkey_.reset(private_pkey_unchecked(priv).release());
    if (k.pkey_) k.ctx_.reset(derive_context(k.pkey_.get()).release());
    SymmetricKey pub;
    if (k.ctx_ && derive(pub, k.ctx_.get(), base_point())) {
        std::copy(pub.data(), pub.data() + pub.size(), k.public_.bytes.begin());
        return k;
    }
    // An OpenSSL that checks the halves against each other: import it the ordinary way.
    k.public_ = derive_public_key(priv);
    k.ctx_.reset();
    k.pkey_.reset(private_pkey(priv).release());
    if (k.pkey_) k.ctx_.reset(derive_context(k.pkey_.get()).release());
    if (!k.ctx_) std::abort();  // as derive_public_key: no safe way to go on without keys
    return k;
}

bool X25519Key::dh(SymmetricKey& out, const X25519Public& theirs) noexcept {
    return derive(out, ctx_.get(), theirs.pkey_.get());
}

}  // namespace ringtun::crypto
