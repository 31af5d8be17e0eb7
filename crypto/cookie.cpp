#include "crypto/cookie.hpp"

#include <openssl/crypto.h>

#include <cstring>
#include <string_view>

#include "crypto/aead.hpp"

namespace ringtun::crypto {

namespace {

MessageType handshake_type(std::span<const std::uint8_t> message) noexcept {
    return message[0] == 1 ? MessageType::initiation : MessageType::response;
}

Mac16 compute_mac1(const Hash& key, std::span<const std::uint8_t> message) noexcept {
    return mac(key, message.first(mac1_offset(handshake_type(message))));
}

bool equal16(const std::uint8_t* a, const std::uint8_t* b) noexcept {
    return CRYPTO_memcmp(a, b, 16) == 0;
}

Bytes text(std::string_view s) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

bool CookieChecker::mac1_valid(std::span<const std::uint8_t> message) const noexcept {
    const Mac16 expected = compute_mac1(local_->mac1_key, message);
    return equal16(expected.data(), message.data() + mac1_offset(handshake_type(message)));
}

Mac16 CookieChecker::cookie_for(Bytes source, Nanos now, Rng& rng) noexcept {
    // The secret R is replaced every two minutes, so a cookie lives at most that long.
    if (!secret_born_ || now - *secret_born_ >= cookie_secret_max_age) {
        rng.fill(secret_.span());
        secret_born_ = now;
    }
    return mac(secret_.span(), source);
}

bool CookieChecker::mac2_valid(std::span<const std::uint8_t> message, Bytes source, Nanos now,
                               Rng& rng) noexcept {
    const Mac16 cookie = cookie_for(source, now, rng);
    const std::size_t offset = mac2_offset(handshake_type(message));
    const Mac16 expected = mac(cookie, message.first(offset));
    return equal16(expected.data(), message.data() + offset);
}

void CookieChecker::create_reply(MessageCookieReply& out, std::span<const std::uint8_t> message,
                                 Bytes source, Nanos now, Rng& rng) noexcept {
    std::memset(&out, 0, sizeof out);
    out.type = static_cast<std::uint32_t>(MessageType::cookie_reply);
    std::memcpy(&out.receiver, message.data() + 4, 4);  // the message's sender index
    Nonce24 nonce;
    rng.fill(nonce);
    std::memcpy(out.nonce, nonce.data(), nonce.size());
    const Mac16 cookie = cookie_for(source, now, rng);
    const SymmetricKey key(local_->cookie_key);
    const Bytes mac1 = message.subspan(mac1_offset(handshake_type(message)), 16);
    xaead_seal(key, nonce, cookie, mac1, out.encrypted_cookie);
}

CookieMaker::CookieMaker(const PublicKey& remote) noexcept
    : mac1_key_(hash({text("mac1----"), remote.span()})),
      cookie_decryption_key_(hash({text("cookie--"), remote.span()})) {}

bool CookieMaker::has_fresh_cookie(Nanos now) const noexcept {
    return cookie_born_ && now - *cookie_born_ < cookie_secret_max_age - cookie_secret_latency;
}

void CookieMaker::add_macs(std::span<std::uint8_t> message, Nanos now) noexcept {
    const MessageType type = handshake_type(message);
    last_mac1_ = compute_mac1(mac1_key_, message);
    std::memcpy(message.data() + mac1_offset(type), last_mac1_.data(), 16);
    have_sent_mac1_ = true;
    Mac16 mac2{};
    if (has_fresh_cookie(now)) mac2 = mac(cookie_.span(), message.first(mac2_offset(type)));
    std::memcpy(message.data() + mac2_offset(type), mac2.data(), 16);
}

Reject CookieMaker::consume_reply(const MessageCookieReply& reply, Nanos now) noexcept {
    if (!have_sent_mac1_) return Reject::unexpected_message;
    Nonce24 nonce;
    std::memcpy(nonce.data(), reply.nonce, nonce.size());
    Secret<16> cookie;
    if (!xaead_open(cookie_decryption_key_, nonce, reply.encrypted_cookie, last_mac1_,
                    cookie.span()))
        return Reject::decrypt_failed;
    cookie_ = cookie;
    cookie_born_ = now;
    have_sent_mac1_ = false;  // one reply per message sent
    return Reject::none;
}

}  // namespace ringtun::crypto
