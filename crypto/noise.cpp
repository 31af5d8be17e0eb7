#include "crypto/noise.hpp"

#include <openssl/crypto.h>

#include <cstring>
#include <string_view>

#include "crypto/aead.hpp"
#include "crypto/x25519.hpp"

namespace ringtun::crypto {

namespace {

constexpr std::string_view construction = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
constexpr std::string_view identifier = "WireGuard v1 zx2c4 Jason@zx2c4.com";
constexpr std::string_view label_mac1 = "mac1----";
constexpr std::string_view label_cookie = "cookie--";

Bytes text(std::string_view s) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Ci = HASH(CONSTRUCTION), Hi = HASH(Ci ‖ IDENTIFIER): the same for every handshake.
struct InitialState {
    Hash chaining_key;
    Hash hash;
};
const InitialState& initial_state() noexcept {
    static const InitialState s = [] {
        InitialState st;
        st.chaining_key = hash({text(construction)});
        st.hash = hash({st.chaining_key, text(identifier)});
        return st;
    }();
    return s;
}

void mix_hash(Hash& h, Bytes data) noexcept {
    h = hash({h, data});
}

void mix_key(SymmetricKey& ck, Bytes input) noexcept {
    SymmetricKey next;
    kdf1(next, ck.span(), input);
    ck = next;
}

// (C, k) = KDF2(C, DH(mine, theirs)); false if the DH is zero.
bool mix_dh(SymmetricKey& ck, SymmetricKey* key, X25519Key& mine,
            const X25519Public& theirs) noexcept {
    SymmetricKey shared;
    if (!mine.dh(shared, theirs)) return false;
    SymmetricKey next;
    if (key)
        kdf2(next, *key, ck.span(), shared.span());
    else
        kdf1(next, ck.span(), shared.span());
    ck = next;
    return true;
}

// (C, k) = KDF2(C, precomputed shared secret).
void mix_precomputed(SymmetricKey& ck, SymmetricKey& key, const SymmetricKey& shared) noexcept {
    SymmetricKey next;
    kdf2(next, key, ck.span(), shared.span());
    ck = next;
}

// (C, τ, k) = KDF3(C, Q); H = HASH(H ‖ τ).
void mix_psk(SymmetricKey& ck, Hash& h, SymmetricKey& key, const SymmetricKey& psk) noexcept {
    SymmetricKey next, tau;
    kdf3(next, tau, key, ck.span(), psk.span());
    ck = next;
    mix_hash(h, tau.span());
}

void wipe(Hash& h) noexcept {
    OPENSSL_cleanse(h.data(), h.size());
}

}  // namespace

Identity Identity::create(const PrivateKey& private_key) noexcept {
    Identity id;
    id.private_key = private_key;
    id.static_key = X25519Key::create(private_key);
    id.public_key = id.static_key.public_key();
    id.mac1_key = hash({text(label_mac1), id.public_key.span()});
    id.cookie_key = hash({text(label_cookie), id.public_key.span()});
    id.initial_hash = hash({initial_state().hash, id.public_key.span()});
    return id;
}

const char* to_string(HandshakeState s) noexcept {
    switch (s) {
        case HandshakeState::zeroed:
            return "zeroed";
        case HandshakeState::created_initiation:
            return "created_initiation";
        case HandshakeState::consumed_initiation:
            return "consumed_initiation";
        case HandshakeState::created_response:
            return "created_response";
        case HandshakeState::consumed_response:
            return "consumed_response";
    }
    return "?";
}

InitiationStage::~InitiationStage() {
    wipe(hash);
    OPENSSL_cleanse(encrypted_timestamp, sizeof encrypted_timestamp);
}

Reject open_initiation(Identity& local, const MessageInitiation& msg,
                       InitiationStage& out) noexcept {
    SymmetricKey ck(initial_state().chaining_key);
    Hash h = local.initial_hash;
    PublicKey e_pub;
    std::memcpy(e_pub.bytes.data(), msg.ephemeral, 32);
    out.remote_ephemeral = X25519Public(e_pub);
    // C = KDF1(C, E_i.pub); H = HASH(H ‖ E_i.pub)
    mix_key(ck, e_pub.span());
    mix_hash(h, e_pub.span());
    // (C, k) = KDF2(C, DH(S_r.priv, E_i.pub)); S_i.pub = AEAD-open(k, 0, msg.static, H)
    SymmetricKey key;
    if (!mix_dh(ck, &key, local.static_key, out.remote_ephemeral))
        return Reject::invalid_public_key;
    if (!aead_open(key, 0, msg.encrypted_static, h, out.remote_static.bytes))
        return Reject::decrypt_failed;
    mix_hash(h, msg.encrypted_static);
    out.chaining_key = ck;
    out.hash = h;
    out.sender = msg.sender;
    std::memcpy(out.encrypted_timestamp, msg.encrypted_timestamp, sizeof out.encrypted_timestamp);
    return Reject::none;
}

Handshake::Handshake(Identity& local, const PublicKey& remote_static,
                     const SymmetricKey& preshared_key) noexcept
    : local_(&local), remote_static_(remote_static), psk_(preshared_key) {
    initial_hash_ = hash({initial_state().hash, remote_static.span()});
}

Handshake::~Handshake() {
    clear();
}

bool Handshake::static_static() noexcept {
    if (static_static_state_ == Precomputed::not_yet) {
        if (!remote_static_key_) remote_static_key_ = X25519Public(remote_static_);
        static_static_state_ = local_->static_key.dh(static_static_, remote_static_key_)
                                   ? Precomputed::usable
                                   : Precomputed::zero;
    }
    return static_static_state_ == Precomputed::usable;
}

void Handshake::local_key_changed() noexcept {
    clear();
    static_static_.clear();
    static_static_state_ = Precomputed::not_yet;
}

void Handshake::clear() noexcept {
    state_ = HandshakeState::zeroed;
    chaining_key_.clear();
    wipe(hash_);
    ephemeral_ = X25519Key();
    remote_ephemeral_ = X25519Public();
    local_index_ = 0;
    remote_index_ = 0;
}

Reject Handshake::create_initiation(MessageInitiation& out, const PrivateKey& ephemeral,
                                    std::uint32_t local_index, const Tai64n& now) noexcept {
    if (!static_static()) return Reject::invalid_public_key;
    clear();
    SymmetricKey ck(initial_state().chaining_key);
    Hash h = initial_hash_;
    std::memset(&out, 0, sizeof out);
    out.type = static_cast<std::uint32_t>(MessageType::initiation);
    out.sender = local_index;
    // E_i: C = KDF1(C, E_i.pub); H = HASH(H ‖ E_i.pub)
    X25519Key e = X25519Key::create(ephemeral);
    const PublicKey& e_pub = e.public_key();
    std::memcpy(out.ephemeral, e_pub.data(), 32);
    mix_key(ck, e_pub.span());
    mix_hash(h, e_pub.span());
    // es: (C, k) = KDF2(C, DH(E_i.priv, S_r.pub)); static = AEAD(k, 0, S_i.pub, H)
    SymmetricKey key;
    if (!mix_dh(ck, &key, e, remote_static_key_)) return Reject::invalid_public_key;
    aead_seal(key, 0, local_->public_key.span(), h, out.encrypted_static);
    mix_hash(h, out.encrypted_static);
    // ss: (C, k) = KDF2(C, DH(S_i.priv, S_r.pub)); timestamp = AEAD(k, 0, TAI64N, H)
    mix_precomputed(ck, key, static_static_);
    aead_seal(key, 0, now, h, out.encrypted_timestamp);
    mix_hash(h, out.encrypted_timestamp);

    chaining_key_ = ck;
    hash_ = h;
    ephemeral_ = std::move(e);
    local_index_ = local_index;
    state_ = HandshakeState::created_initiation;
    return Reject::none;
}

Reject Handshake::consume_initiation(InitiationStage& stage, Nanos now) noexcept {
    if (!(stage.remote_static == remote_static_)) return Reject::unknown_peer;
    if (!static_static()) return Reject::invalid_public_key;
    SymmetricKey ck = stage.chaining_key;
    Hash h = stage.hash;
    // ss: (C, k) = KDF2(C, DH(S_r.priv, S_i.pub)); TAI64N = AEAD-open(k, 0, timestamp, H)
    SymmetricKey key;
    mix_precomputed(ck, key, static_static_);
    Tai64n timestamp;
    if (!aead_open(key, 0, stage.encrypted_timestamp, h, timestamp)) return Reject::decrypt_failed;
    mix_hash(h, stage.encrypted_timestamp);
    if (!tai64n_after(timestamp, latest_timestamp_)) return Reject::replayed_timestamp;
    if (last_initiation_consumed_ && now - *last_initiation_consumed_ < initiation_flood_interval)
        return Reject::initiation_flood;

    clear();
    latest_timestamp_ = timestamp;
    last_initiation_consumed_ = now;
    chaining_key_ = ck;
    hash_ = h;
    remote_ephemeral_ = std::move(stage.remote_ephemeral);
    remote_index_ = stage.sender;
    state_ = HandshakeState::consumed_initiation;
    return Reject::none;
}

Reject Handshake::create_response(MessageResponse& out, const PrivateKey& ephemeral,
                                  std::uint32_t local_index) noexcept {
    if (state_ != HandshakeState::consumed_initiation) return Reject::unexpected_message;
    SymmetricKey ck = chaining_key_;
    Hash h = hash_;
    std::memset(&out, 0, sizeof out);
    out.type = static_cast<std::uint32_t>(MessageType::response);
    out.sender = local_index;
    out.receiver = remote_index_;
    // E_r: C = KDF1(C, E_r.pub); H = HASH(H ‖ E_r.pub)
    X25519Key e = X25519Key::create(ephemeral);
    const PublicKey& e_pub = e.public_key();
    std::memcpy(out.ephemeral, e_pub.data(), 32);
    mix_key(ck, e_pub.span());
    mix_hash(h, e_pub.span());
    // ee, se: C = KDF1(C, DH(E_r.priv, E_i.pub)); C = KDF1(C, DH(E_r.priv, S_i.pub))
    if (!mix_dh(ck, nullptr, e, remote_ephemeral_)) return Reject::invalid_public_key;
    if (!mix_dh(ck, nullptr, e, remote_static_key_)) return Reject::invalid_public_key;
    // psk: (C, τ, k) = KDF3(C, Q); H = HASH(H ‖ τ); empty = AEAD(k, 0, "", H)
    SymmetricKey key;
    mix_psk(ck, h, key, psk_);
    aead_seal(key, 0, {}, h, out.encrypted_nothing);
    mix_hash(h, out.encrypted_nothing);

    // The responder's ephemeral key is done with: it goes (wiped) with `e`.
    chaining_key_ = ck;
    hash_ = h;
    local_index_ = local_index;
    state_ = HandshakeState::created_response;
    return Reject::none;
}

Reject Handshake::consume_response(const MessageResponse& msg) noexcept {
    if (state_ != HandshakeState::created_initiation || msg.receiver != local_index_)
        return Reject::unexpected_message;
    SymmetricKey ck = chaining_key_;
    Hash h = hash_;
    PublicKey e_pub;
    std::memcpy(e_pub.bytes.data(), msg.ephemeral, 32);
    X25519Public e_remote(e_pub);
    mix_key(ck, e_pub.span());
    mix_hash(h, e_pub.span());
    // ee, se: C = KDF1(C, DH(E_i.priv, E_r.pub)); C = KDF1(C, DH(S_i.priv, E_r.pub))
    if (!mix_dh(ck, nullptr, ephemeral_, e_remote)) return Reject::invalid_public_key;
    if (!mix_dh(ck, nullptr, local_->static_key, e_remote)) return Reject::invalid_public_key;
    SymmetricKey key;
    mix_psk(ck, h, key, psk_);
    if (!aead_open(key, 0, msg.encrypted_nothing, h, {})) return Reject::decrypt_failed;
    mix_hash(h, msg.encrypted_nothing);

    chaining_key_ = ck;
    hash_ = h;
    remote_ephemeral_ = std::move(e_remote);
    remote_index_ = msg.sender;
    state_ = HandshakeState::consumed_response;
    return Reject::none;
}

std::optional<SessionKeys> Handshake::derive_session_keys() noexcept {
    const bool initiator = state_ == HandshakeState::consumed_response;
    if (!initiator && state_ != HandshakeState::created_response) return std::nullopt;
    SessionKeys keys;
    SymmetricKey t1, t2;
    kdf2(t1, t2, chaining_key_.span(), {});
    keys.send = initiator ? t1 : t2;
    keys.receive = initiator ? t2 : t1;
    keys.local_index = local_index_;
    keys.remote_index = remote_index_;
    keys.initiator = initiator;
    clear();
    return keys;
}

}  // namespace ringtun::crypto
