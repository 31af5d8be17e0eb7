// One WireGuard peer: its handshake and cookie state, its three sessions (current, previous,
// next), its endpoint, timers and staged packets. Session rotation follows the kernel's
// noise.c (add_new_keypair, received_with_keypair) and keeps the index table in step: every
// local index a peer owns is in the table, and none it dropped is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "crypto/cookie.hpp"
#include "crypto/noise.hpp"
#include "crypto/session.hpp"
#include "daemon/engine/endpoint.hpp"
#include "daemon/engine/index_table.hpp"
#include "daemon/engine/session_slot.hpp"
#include "daemon/engine/staged.hpp"
#include "daemon/engine/timers.hpp"

namespace ringtun::daemon {

class Peer;
using PeerIndex = IndexTable<Peer*>;

class Peer {
  public:
    // `local` and `staged_pool` must outlive the peer.
    Peer(crypto::Identity& local, const crypto::PublicKey& public_key,
         const crypto::SymmetricKey& preshared_key, StagedPool& staged_pool);
    Peer(const Peer&) = delete;
    Peer& operator=(const Peer&) = delete;

    const crypto::PublicKey& public_key() const noexcept { return handshake.remote_static(); }
    // "peer(AbCd…wXyZ)" for logs.
    const std::string& label() const noexcept { return label_; }

    // The session with local index `index`, if this peer has one.
    crypto::Session* session_by_index(std::uint32_t index) noexcept;

    // Installs fresh session keys (kernel add_new_keypair): as initiator they become current,
    // the old current (or an unconfirmed next) previous; as responder they wait in next until
    // the first data packet under them. Dropped sessions leave the index table. False, with
    // nothing changed, if the session's memory could not be had.
    [[nodiscard]] bool install_session(crypto::Session session, PeerIndex& index) noexcept;

    // Called after data authenticated under `session`: promotes next to current. True when it
    // did (the handshake is then confirmed for the responder).
    bool confirm_if_next(const crypto::Session* session, PeerIndex& index) noexcept;

    // Index bookkeeping for a handshake in progress: replaces the previous one's entry.
    std::uint32_t register_handshake_index(PeerIndex& index, crypto::Rng& rng);
    // The handshake's index now belongs to a session: stop tracking it as a handshake's.
    void handshake_index_became_session() noexcept { handshake_index_ = 0; }

    // Drops every session and the handshake in progress (zero_key_material, removal).
    void wipe_keys(PeerIndex& index) noexcept;

    // The session to send with: current, if not expired and not exhausted.
    crypto::Session* sending_session(crypto::Nanos now) noexcept;

    crypto::Handshake handshake;
    crypto::CookieMaker cookies;
    SessionSlot current, previous, next;
    std::optional<Endpoint> endpoint;
    Timers timers;
    StagedPackets staged;

    std::optional<crypto::Nanos> last_initiation_sent;
    bool sent_lastminute_handshake = false;
    std::uint64_t rx_bytes = 0;
    std::uint64_t tx_bytes = 0;
    std::uint64_t last_handshake_unix_ns = 0;
    // Liveness, for the log: when the first initiation still unanswered went out (0: none),
    // and whether "not answering" was logged for it (once, until a handshake completes).
    std::uint64_t unanswered_since_unix_ns = 0;
    bool reported_silent = false;

    // The device's bookkeeping: this peer's index, and its entry in the deadline heap.
    std::uint32_t id = 0;
    Nanos scheduled = no_deadline;

  private:
    void drop_session(SessionSlot& slot, PeerIndex& index) noexcept;

    std::string label_;
    std::uint32_t handshake_index_ = 0;
};

}  // namespace ringtun::daemon
