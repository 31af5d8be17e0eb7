// A transport session ("keypair" in the kernel): the two directions' AEAD contexts, the send
// counter and the receive replay window, for one pair of indices.
#pragma once

#include <cstdint>
#include <optional>

#include "crypto/aead.hpp"
#include "crypto/messages.hpp"
#include "crypto/noise.hpp"
#include "crypto/replay.hpp"

namespace ringtun::crypto {

class Session {
  public:
    // Keys the two cipher contexts (the only allocation of a session's life). nullopt only if
    // OpenSSL cannot allocate.
    static std::optional<Session> create(const SessionKeys& keys, Nanos now) noexcept;

    std::uint32_t local_index() const noexcept { return local_index_; }
    std::uint32_t remote_index() const noexcept { return remote_index_; }
    bool initiator() const noexcept { return initiator_; }
    Nanos created() const noexcept { return created_; }
    std::uint64_t send_counter() const noexcept { return send_counter_; }

    // REJECT_AFTER_TIME: an expired session neither sends nor receives.
    bool expired(Nanos now) const noexcept { return now - created_ >= reject_after_time; }
    // Whether the send counter still has room (below REJECT_AFTER_MESSAGES).
    bool can_send() const noexcept { return send_counter_ < reject_after_messages; }

    // Takes the next send counter; nullopt when exhausted.
    std::optional<std::uint64_t> next_send_counter() noexcept {
        if (!can_send()) return std::nullopt;
        return send_counter_++;
    }
    // For tests that exercise the counter limit without sending 2^64 packets.
    void set_send_counter(std::uint64_t c) noexcept { send_counter_ = c; }

    AeadContext& sealer() noexcept { return sealer_; }
    AeadContext& opener() noexcept { return opener_; }
    ReplayWindow& replay() noexcept { return replay_; }

  private:
    Session(AeadContext sealer, AeadContext opener) noexcept
        : sealer_(std::move(sealer)), opener_(std::move(opener)) {}

    AeadContext sealer_;
    AeadContext opener_;
    ReplayWindow replay_;
    std::uint64_t send_counter_ = 0;
    Nanos created_ = 0;
    std::uint32_t local_index_ = 0;
    std::uint32_t remote_index_ = 0;
    bool initiator_ = false;
};

}  // namespace ringtun::crypto
