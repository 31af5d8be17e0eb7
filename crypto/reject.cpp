#include "crypto/reject.hpp"

namespace ringtun::crypto {

const char* to_string(Reject r) noexcept {
    switch (r) {
        case Reject::none:
            return "none";
        case Reject::malformed:
            return "malformed";
        case Reject::invalid_mac1:
            return "invalid_mac1";
        case Reject::decrypt_failed:
            return "decrypt_failed";
        case Reject::unknown_peer:
            return "unknown_peer";
        case Reject::invalid_public_key:
            return "invalid_public_key";
        case Reject::replayed_timestamp:
            return "replayed_timestamp";
        case Reject::initiation_flood:
            return "initiation_flood";
        case Reject::unexpected_message:
            return "unexpected_message";
        case Reject::replayed_counter:
            return "replayed_counter";
        case Reject::counter_exhausted:
            return "counter_exhausted";
        case Reject::malformed_inner:
            return "malformed_inner";
        case Reject::buffer_too_small:
            return "buffer_too_small";
        case Reject::internal_error:
            return "internal_error";
        case Reject::count_:
            break;
    }
    return "?";
}

}  // namespace ringtun::crypto
