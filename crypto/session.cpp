#include "crypto/session.hpp"

namespace ringtun::crypto {

std::optional<Session> Session::create(const SessionKeys& keys, Nanos now) noexcept {
    auto sealer = AeadContext::create(keys.send, AeadContext::Direction::seal);
    auto opener = AeadContext::create(keys.receive, AeadContext::Direction::open);
    if (!sealer || !opener) return std::nullopt;
    Session s(std::move(*sealer), std::move(*opener));
    s.created_ = now;
    s.local_index_ = keys.local_index;
    s.remote_index_ = keys.remote_index;
    s.initiator_ = keys.initiator;
    return s;
}

}  // namespace ringtun::crypto
