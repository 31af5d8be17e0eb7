#include "daemon/datapath/udp_batch.hpp"

#include <cerrno>
#include <cstring>

namespace ringtun::daemon {

namespace {

bool same_route(const Endpoint& a, const Endpoint& b) noexcept {
    return a.same_address(b) && a.has_local == b.has_local &&
           std::memcmp(&a.local, &b.local, sizeof a.local) == 0;
}

}  // namespace

UdpVerdict udp_send_verdict(int res, unsigned count, bool had_source,
                            std::uint8_t retries) noexcept {
    if (res >= 0 || res == -ECANCELED) return {};
    const bool source_gone =
        res == -EADDRNOTAVAIL || res == -ENETUNREACH || (res == -EINVAL && count == 1);
    if (had_source && source_gone && !(retries & udp_retry_no_source))
        return {UdpRetry::without_source, false};
    if (count > 1 && !(retries & udp_retry_split)) {
        // EINVAL with a sticky source may be the source gone (roaming), not the segmentation:
        // the single sends tell, and GSO stays on.
        if (res == -EINVAL && had_source) return {UdpRetry::one_by_one, false};
        if (res == -EIO || res == -EMSGSIZE || res == -EINVAL) return {UdpRetry::one_by_one, true};
    }
    return {};
}

bool UdpBatch::joins(const TxSlots& slots, std::uint32_t index, const Endpoint& to) const noexcept {
    const std::size_t length = slots[index].iov.iov_len;
    return count_ > 0 && gso_ && count_ < max_gso_segments && length <= segment_ &&
           bytes_ + length <= max_gso_bytes &&
           same_route(slots[static_cast<std::uint32_t>(head_)].batch_to, to);
}

}  // namespace ringtun::daemon
