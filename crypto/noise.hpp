// Noise_IKpsk2 as WireGuard uses it (paper §5.4.2–5.4.4; kernel noise.c). Sans-IO: messages
// are written into caller-owned structs, time and randomness come in as parameters, and a
// rejected message leaves every stored state untouched.
//
// Responder flow: open_initiation() decrypts the initiator's static key with our identity; the
// caller finds the peer by that key and hands the stage to that peer's Handshake, which checks
// the timestamp and flood limit and only then commits. mac1/mac2 are checked before this, by
// CookieChecker; they are added after create_*, by CookieMaker.
#pragma once

#include <cstdint>
#include <optional>

#include "crypto/blake2s.hpp"
#include "crypto/keys.hpp"
#include "crypto/messages.hpp"
#include "crypto/reject.hpp"
#include "crypto/tai64n.hpp"
#include "crypto/x25519.hpp"

namespace ringtun::crypto {

// Our static key pair and what is derived from its public half. Move-only (static_key). Used
// by one thread at a time: a DH with static_key reuses its derive context.
struct Identity {
    PrivateKey private_key;
    PublicKey public_key;
    X25519Key static_key;  // private_key ready for DH(static, ·): each initiation we answer
    Hash mac1_key{};       // HASH("mac1----" ‖ public_key): verifies mac1 of messages to us
    Hash cookie_key{};     // HASH("cookie--" ‖ public_key): encrypts our cookie replies
    Hash initial_hash{};   // HASH(Hi ‖ public_key): first H when we are the responder

    static Identity create(const PrivateKey& private_key) noexcept;
};

enum class HandshakeState : std::uint8_t {
    zeroed,
    created_initiation,
    consumed_initiation,
    created_response,
    consumed_response,
};
const char* to_string(HandshakeState s) noexcept;

// What open_initiation() learned, before the peer is known. Holds secrets; wiped on destruction.
struct InitiationStage {
    PublicKey remote_static;
    X25519Public remote_ephemeral;  // enters the response's DH too: made once
    SymmetricKey chaining_key;
    Hash hash{};
    std::uint32_t sender = 0;
    std::uint8_t encrypted_timestamp[12 + 16]{};

    ~InitiationStage();
};

// Phase 1 of consuming an initiation (message 1). On Reject::none `out` is filled. `local` is
// not const: its static key's DH reuses a context (X25519Key).
[[nodiscard]] Reject open_initiation(Identity& local, const MessageInitiation& msg,
                                     InitiationStage& out) noexcept;

// Keys and indices of a new session, from derive_session_keys().
struct SessionKeys {
    SymmetricKey send;
    SymmetricKey receive;
    std::uint32_t local_index = 0;
    std::uint32_t remote_index = 0;
    bool initiator = false;
};

// The handshake state with one peer. `local` must outlive it (rebuild handshakes when the
// interface's private key changes).
class Handshake {
  public:
    Handshake(Identity& local, const PublicKey& remote_static,
              const SymmetricKey& preshared_key) noexcept;
    ~Handshake();
    Handshake(const Handshake&) = delete;
    Handshake& operator=(const Handshake&) = delete;

    const PublicKey& remote_static() const noexcept { return remote_static_; }
    HandshakeState state() const noexcept { return state_; }
    std::uint32_t local_index() const noexcept { return local_index_; }
    std::uint32_t remote_index() const noexcept { return remote_index_; }
    // False when DH(our static, their static) is zero: no handshake with this key can work.
    bool usable() noexcept { return static_static(); }
    void set_preshared_key(const SymmetricKey& psk) noexcept { psk_ = psk; }
    const SymmetricKey& preshared_key() const noexcept { return psk_; }
    // The interface's private key changed (the Identity passed at construction now holds the
    // new one): DH(our static, their static) is computed again, and any handshake in progress
    // is forgotten.
    void local_key_changed() noexcept;

    // Initiator, message 1. `ephemeral` is a fresh private key (generate_private_key). mac1/mac2
    // are left zero. Replaces any handshake in progress.
    [[nodiscard]] Reject create_initiation(MessageInitiation& out, const PrivateKey& ephemeral,
                                           std::uint32_t local_index, const Tai64n& now) noexcept;

    // Responder, phase 2 of message 1: `stage.remote_static` must equal remote_static().
    // `now` is monotonic time for the 20 ms flood limit. On Reject::none the stage's ephemeral
    // key has moved into the handshake.
    [[nodiscard]] Reject consume_initiation(InitiationStage& stage, Nanos now) noexcept;

    // Responder, message 2. Precondition: state() == consumed_initiation, else unexpected_message.
    [[nodiscard]] Reject create_response(MessageResponse& out, const PrivateKey& ephemeral,
                                         std::uint32_t local_index) noexcept;

    // Initiator: consumes message 2 addressed to local_index(). Only created_initiation accepts it.
    [[nodiscard]] Reject consume_response(const MessageResponse& msg) noexcept;

    // Both roles, once the handshake is complete (created_response / consumed_response):
    // derives the transport keys (T1, T2) = KDF2(C, ""), wipes the handshake and returns to
    // zeroed. nullopt in any other state.
    std::optional<SessionKeys> derive_session_keys() noexcept;

    // Forgets a handshake in progress (timestamps and flood state are kept).
    void clear() noexcept;

  private:
    // DH(our static, their static), computed at the first handshake that needs it and kept
    // (the kernel computes it when the peer is added): an interface with 10,000 peers then
    // starts without 10,000 X25519 operations, and each is paid once, by its first handshake.
    // False when it is zero.
    bool static_static() noexcept;

    enum class Precomputed : std::uint8_t { not_yet, usable, zero };

    Identity* local_;  // its static key's DHs change its derive context
    PublicKey remote_static_;
    X25519Public remote_static_key_;  // made with static_static(), for the DHs with it
    SymmetricKey psk_;
    SymmetricKey static_static_;
    Precomputed static_static_state_ = Precomputed::not_yet;
    Hash initial_hash_{};  // HASH(Hi ‖ remote_static): first H when we initiate

    HandshakeState state_ = HandshakeState::zeroed;
    SymmetricKey chaining_key_;
    Hash hash_{};
    X25519Key ephemeral_;  // ours, while our initiation waits for its response
    X25519Public remote_ephemeral_;
    std::uint32_t local_index_ = 0;
    std::uint32_t remote_index_ = 0;

    Tai64n latest_timestamp_{};
    std::optional<Nanos> last_initiation_consumed_;
};

}  // namespace ringtun::crypto
