#include "daemon/engine/drops.hpp"

namespace ringtun::daemon {

const char* to_string(Drop d) noexcept {
    switch (d) {
        case Drop::malformed:
            return "malformed";
        case Drop::invalid_mac1:
            return "invalid_mac1";
        case Drop::decrypt_failed:
            return "decrypt_failed";
        case Drop::unknown_peer:
            return "unknown_peer";
        case Drop::invalid_public_key:
            return "invalid_public_key";
        case Drop::replayed_timestamp:
            return "replayed_timestamp";
        case Drop::initiation_flood:
            return "initiation_flood";
        case Drop::unexpected_message:
            return "unexpected_message";
        case Drop::replayed_counter:
            return "replayed_counter";
        case Drop::counter_exhausted:
            return "counter_exhausted";
        case Drop::malformed_inner:
            return "malformed_inner";
        case Drop::unknown_index:
            return "unknown_index";
        case Drop::session_expired:
            return "session_expired";
        case Drop::source_mismatch:
            return "source_mismatch";
        case Drop::under_load_cookie:
            return "under_load_cookie";
        case Drop::rate_limited:
            return "rate_limited";
        case Drop::no_private_key:
            return "no_private_key";
        case Drop::tun_malformed:
            return "tun_malformed";
        case Drop::tun_oversized:
            return "tun_oversized";
        case Drop::no_route:
            return "no_route";
        case Drop::no_endpoint:
            return "no_endpoint";
        case Drop::staged_overflow:
            return "staged_overflow";
        case Drop::staged_pool_empty:
            return "staged_pool_empty";
        case Drop::staged_given_up:
            return "staged_given_up";
        case Drop::no_tx_buffer:
            return "no_tx_buffer";
        case Drop::internal_error:
            return "internal_error";
        case Drop::count_:
            break;
    }
    return "?";
}

Drop drop_from(crypto::Reject r) noexcept {
    using crypto::Reject;
    switch (r) {
        case Reject::malformed:
            return Drop::malformed;
        case Reject::invalid_mac1:
            return Drop::invalid_mac1;
        case Reject::decrypt_failed:
            return Drop::decrypt_failed;
        case Reject::unknown_peer:
            return Drop::unknown_peer;
        case Reject::invalid_public_key:
            return Drop::invalid_public_key;
        case Reject::replayed_timestamp:
            return Drop::replayed_timestamp;
        case Reject::initiation_flood:
            return Drop::initiation_flood;
        case Reject::unexpected_message:
            return Drop::unexpected_message;
        case Reject::replayed_counter:
            return Drop::replayed_counter;
        case Reject::counter_exhausted:
            return Drop::counter_exhausted;
        case Reject::malformed_inner:
            return Drop::malformed_inner;
        case Reject::none:
        case Reject::buffer_too_small:
        case Reject::internal_error:
        case Reject::count_:
            break;
    }
    return Drop::internal_error;
}

std::uint64_t DropCounters::total() const noexcept {
    std::uint64_t t = 0;
    for (auto c : counts_)
        t += c;
    return t;
}

}  // namespace ringtun::daemon
