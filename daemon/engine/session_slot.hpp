// SessionSlot: where a peer keeps one of its three sessions (current, previous, next), spelled
// like the std::optional it replaces but holding the session out of line.
//
// A session is 1.2 KB, most of it the 8,192-bit replay window (as the kernel's); three inline
// made every peer 4.2 KB whether or not it had ever completed a handshake. Out of line, a
// configured peer without sessions costs a pointer per slot, and the session's memory comes
// when a handshake makes one: on the handshake path, which allocates its cipher contexts
// anyway, never per data packet. Moving a session between slots moves the pointer.
#pragma once

#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "crypto/session.hpp"

namespace ringtun::daemon {

class SessionSlot {
  public:
    SessionSlot() = default;
    SessionSlot(SessionSlot&&) noexcept = default;
    SessionSlot& operator=(SessionSlot&&) noexcept = default;

    // A slot holding `session`; empty if its memory could not be had (the caller counts
    // that as a drop, as a session OpenSSL could not key). Called on the handshake path, where
    // an exception must not escape.
    static SessionSlot holding(crypto::Session&& session) noexcept {
        static_assert(std::is_nothrow_move_constructible_v<crypto::Session>);
        SessionSlot s;
        s.session_.reset(new (std::nothrow) crypto::Session(std::move(session)));
        return s;
    }

    bool has_value() const noexcept { return session_ != nullptr; }
    explicit operator bool() const noexcept { return has_value(); }
    crypto::Session& operator*() const noexcept { return *session_; }
    crypto::Session* operator->() const noexcept { return session_.get(); }
    void reset() noexcept { session_.reset(); }

  private:
    std::unique_ptr<crypto::Session> session_;
};

}  // namespace ringtun::daemon
