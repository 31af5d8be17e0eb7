// ChaCha20-Poly1305 (RFC 8439) with the WireGuard nonce (4 zero bytes ‖ LE64 counter), and
// XChaCha20-Poly1305 for cookie replies, built on our own HChaCha20 because OpenSSL has none.
//
// AeadContext is the data-path form: keyed once, then used for every packet in one direction,
// sealing or opening in place without allocating. On CPUs with AVX-512 and IFMA it runs our own
// ChaCha20-Poly1305 (aead_avx512.hpp); elsewhere one OpenSSL cipher context.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "crypto/blake2s.hpp"
#include "crypto/openssl.hpp"

namespace ringtun::crypto {

inline constexpr std::size_t aead_tag_len = 16;
using Nonce12 = std::array<std::uint8_t, 12>;
using Nonce24 = std::array<std::uint8_t, 24>;

Nonce12 wireguard_nonce(std::uint64_t counter) noexcept;

class AeadContext {
  public:
    enum class Direction { seal, open };
    // `best` is the AVX-512 form where the CPU has it; tests ask for each by name.
    enum class Engine { best, openssl, avx512 };

    // nullopt only if OpenSSL cannot allocate or key the context, or `avx512` was asked for on
    // a CPU without it.
    static std::optional<AeadContext> create(const SymmetricKey& key, Direction dir,
                                             Engine engine = Engine::best) noexcept;
    static bool avx512_supported() noexcept;

    // Encrypts `data` in place and writes the tag. Precondition: a seal context.
    bool seal(const Nonce12& nonce, std::span<std::uint8_t> data, std::span<std::uint8_t, 16> tag,
              Bytes ad = {}) noexcept;
    // Decrypts `data` in place if the tag authenticates it; on false the contents of `data` are
    // unspecified and must be discarded. Precondition: an open context.
    bool open(const Nonce12& nonce, std::span<std::uint8_t> data,
              std::span<const std::uint8_t, 16> tag, Bytes ad = {}) noexcept;

  private:
    explicit AeadContext(detail::CipherCtxPtr ctx) noexcept : ctx_(std::move(ctx)) {}
    explicit AeadContext(const SymmetricKey& key) noexcept : key_(key), avx512_(true) {}
    // Sets the nonce, authenticates `ad`, and en/decrypts `data` in place (no tag yet).
    bool process(const Nonce12& nonce, std::span<std::uint8_t> data, Bytes ad) noexcept;
    detail::CipherCtxPtr ctx_;  // the OpenSSL form
    SymmetricKey key_;          // the AVX-512 form's key
    // Which form; explicit, so a moved-from OpenSSL context fails instead of running AVX-512
    // code on a CPU that may lack it.
    bool avx512_ = false;
};

// One-shot forms for handshake fields. `out` must be plaintext.size() + 16 bytes.
void aead_seal(const SymmetricKey& key, std::uint64_t counter, Bytes plaintext, Bytes ad,
               std::span<std::uint8_t> out) noexcept;
// `out` must be ciphertext.size() - 16 bytes. False if it does not authenticate.
[[nodiscard]] bool aead_open(const SymmetricKey& key, std::uint64_t counter, Bytes ciphertext,
                             Bytes ad, std::span<std::uint8_t> out) noexcept;

// HChaCha20 (draft-irtf-cfrg-xchacha §2.2): 20 rounds over (constants, key, nonce), output
// words 0–3 and 12–15 without the feed-forward addition.
void hchacha20(std::span<std::uint8_t, 32> out, std::span<const std::uint8_t, 32> key,
               std::span<const std::uint8_t, 16> nonce) noexcept;

void xaead_seal(const SymmetricKey& key, const Nonce24& nonce, Bytes plaintext, Bytes ad,
                std::span<std::uint8_t> out) noexcept;
[[nodiscard]] bool xaead_open(const SymmetricKey& key, const Nonce24& nonce, Bytes ciphertext,
                              Bytes ad, std::span<std::uint8_t> out) noexcept;

}  // namespace ringtun::crypto
