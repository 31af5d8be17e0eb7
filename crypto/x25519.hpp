// X25519 (RFC 7748) key generation, public-key derivation and Diffie-Hellman.
#pragma once

#include "crypto/keys.hpp"
#include "crypto/rng.hpp"

namespace ringtun::crypto {

// A fresh private key, clamped exactly as `wg genkey` writes it.
PrivateKey generate_private_key(Rng& rng) noexcept;

// Clears bits 0–2 and 255, sets bit 254 (RFC 7748 §5).
void clamp_private_key(PrivateKey& key) noexcept;

PublicKey derive_public_key(const PrivateKey& key) noexcept;

// DH(priv, pub). False when the result is all zero (a low-order public key): the caller must
// treat the handshake as failed.
[[nodiscard]] bool dh(SymmetricKey& out, const PrivateKey& priv, const PublicKey& pub) noexcept;

}  // namespace ringtun::crypto
