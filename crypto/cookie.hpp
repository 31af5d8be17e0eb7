// mac1/mac2 and cookie replies (paper §5.4.4, §5.4.7; kernel cookie.c).
//
// CookieChecker is the receiving side, one per interface: it verifies mac1 of every handshake
// message, and under load mac2, and answers with cookie replies. CookieMaker is the sending
// side, one per peer: it adds mac1 (and mac2 while it holds a fresh cookie) to the handshake
// messages we send, and consumes the cookie replies addressed to them.
#pragma once

#include <cstdint>
#include <span>

#include "crypto/blake2s.hpp"
#include "crypto/messages.hpp"
#include "crypto/noise.hpp"
#include "crypto/reject.hpp"
#include "crypto/rng.hpp"

namespace ringtun::crypto {

class CookieChecker {
  public:
    // `local` must outlive the checker.
    explicit CookieChecker(const Identity& local) noexcept : local_(&local) {}

    // `message` is a classified initiation or response.
    bool mac1_valid(std::span<const std::uint8_t> message) const noexcept;

    // `source` identifies the sender (IP address bytes ‖ port); the cookie binds to it.
    bool mac2_valid(std::span<const std::uint8_t> message, Bytes source, Nanos now,
                    Rng& rng) noexcept;

    // The reply to send instead of processing `message` while under load.
    void create_reply(MessageCookieReply& out, std::span<const std::uint8_t> message, Bytes source,
                      Nanos now, Rng& rng) noexcept;

  private:
    Mac16 cookie_for(Bytes source, Nanos now, Rng& rng) noexcept;

    const Identity* local_;
    SymmetricKey secret_;
    std::optional<Nanos> secret_born_;
};

class CookieMaker {
  public:
    explicit CookieMaker(const PublicKey& remote) noexcept;

    // Fills mac1 and mac2 of a classified initiation or response we are about to send.
    void add_macs(std::span<std::uint8_t> message, Nanos now) noexcept;

    // Accepts a cookie reply for the last message we sent (its mac1 is the AEAD's ad).
    [[nodiscard]] Reject consume_reply(const MessageCookieReply& reply, Nanos now) noexcept;

    bool has_fresh_cookie(Nanos now) const noexcept;

  private:
    Hash mac1_key_{};
    SymmetricKey cookie_decryption_key_;
    Secret<16> cookie_;
    std::optional<Nanos> cookie_born_;
    Mac16 last_mac1_{};
    bool have_sent_mac1_ = false;
};

}  // namespace ringtun::crypto
