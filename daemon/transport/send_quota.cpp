#include "daemon/transport/send_quota.hpp"

namespace ringtun::daemon {

SendQuota::SendQuota(std::uint32_t connections, const SendQuotaParams& p)
    : p_(p), held_(connections) {}

bool SendQuota::admits(std::uint32_t conn, TxClass c, std::size_t bytes,
                       bool draining) const noexcept {
    const Held& h = held_[conn];
    if (!h.authenticated)
        return h.frames < p_.unauthenticated_frames && unauthenticated_ < p_.unauthenticated_total;
    // Control frames have an allowance of their own: data over its bound never uses it up.
    if (c == TxClass::control) return h.frames - h.data < p_.control_extra;
    if (draining) return true;
    return data_ < p_.total_data_frames && h.data < p_.frames && h.data_bytes + bytes <= p_.bytes;
}

bool SendQuota::over(std::uint32_t conn) const noexcept {
    const Held& h = held_[conn];
    return h.data > p_.frames || h.data_bytes > p_.bytes;
}

void SendQuota::take(std::uint32_t conn, TxClass c, std::size_t bytes) noexcept {
    Held& h = held_[conn];
    ++h.frames;
    if (!h.authenticated) ++unauthenticated_;
    if (c != TxClass::data) return;
    ++h.data;
    h.data_bytes += bytes;
    ++data_;
}

void SendQuota::give_back(std::uint32_t conn, TxClass c, std::size_t bytes) noexcept {
    Held& h = held_[conn];
    if (h.frames == 0) return;
    --h.frames;
    if (!h.authenticated && unauthenticated_ > 0) --unauthenticated_;
    if (c != TxClass::data || h.data == 0) return;
    --h.data;
    h.data_bytes -= bytes <= h.data_bytes ? bytes : h.data_bytes;
    if (data_ > 0) --data_;
}

void SendQuota::reset(std::uint32_t conn) noexcept {
    Held& h = held_[conn];
    if (!h.authenticated)
        unauthenticated_ -= h.frames <= unauthenticated_ ? h.frames : unauthenticated_;
    data_ -= h.data <= data_ ? h.data : data_;
    h = Held{};
}

void SendQuota::set_authenticated(std::uint32_t conn, bool yes) noexcept {
    Held& h = held_[conn];
    if (h.authenticated == yes) return;
    h.authenticated = yes;
    if (yes)
        unauthenticated_ -= h.frames <= unauthenticated_ ? h.frames : unauthenticated_;
    else
        unauthenticated_ += h.frames;
}

}  // namespace ringtun::daemon
