#include "daemon/engine/peer.hpp"

#include "util/log.hpp"

namespace ringtun::daemon {

Peer::Peer(crypto::Identity& local, const crypto::PublicKey& public_key,
           const crypto::SymmetricKey& preshared_key, StagedPool& staged_pool)
    : handshake(local, public_key, preshared_key),
      cookies(public_key),
      staged(staged_pool),
      label_("peer(" + crypto::short_key(public_key) + ")") {}

crypto::Session* Peer::session_by_index(std::uint32_t index) noexcept {
    for (auto* slot : {&current, &next, &previous})
        if (*slot && (*slot)->local_index() == index) return &**slot;
    return nullptr;
}

void Peer::drop_session(SessionSlot& slot, PeerIndex& index) noexcept {
    if (!slot) return;
    index.remove(slot->local_index());
    RT_LOG_DEBUG("%s: session %u destroyed", label_.c_str(), slot->local_index());
    slot.reset();
}

bool Peer::install_session(crypto::Session session, PeerIndex& index) noexcept {
    SessionSlot fresh = SessionSlot::holding(std::move(session));
    if (!fresh) return false;
    RT_LOG_DEBUG("%s: session %u created", label_.c_str(), fresh->local_index());
    if (fresh->initiator()) {
        // An unconfirmed next is newer than current: keep it as previous instead.
        if (next) {
            drop_session(previous, index);
            previous = std::move(next);
            next.reset();
            drop_session(current, index);
        } else {
            drop_session(previous, index);
            previous = std::move(current);
        }
        current = std::move(fresh);
    } else {
        drop_session(next, index);
        next = std::move(fresh);
        drop_session(previous, index);
    }
    return true;
}

bool Peer::confirm_if_next(const crypto::Session* session, PeerIndex& index) noexcept {
    if (!next || &*next != session) return false;
    drop_session(previous, index);
    previous = std::move(current);
    current = std::move(next);
    next.reset();
    return true;
}

std::uint32_t Peer::register_handshake_index(PeerIndex& index, crypto::Rng& rng) {
    if (handshake_index_ != 0) index.remove(handshake_index_);
    handshake_index_ =
        index.insert(this, [&rng] { return crypto::random_value<std::uint32_t>(rng); });
    return handshake_index_;
}

void Peer::wipe_keys(PeerIndex& index) noexcept {
    drop_session(current, index);
    drop_session(previous, index);
    drop_session(next, index);
    if (handshake_index_ != 0) index.remove(handshake_index_);
    handshake_index_ = 0;
    handshake.clear();
    sent_lastminute_handshake = false;
}

crypto::Session* Peer::sending_session(crypto::Nanos now) noexcept {
    if (!current || current->expired(now) || !current->can_send()) return nullptr;
    return &*current;
}

}  // namespace ringtun::daemon
