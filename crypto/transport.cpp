#include "crypto/transport.hpp"

#include <cstring>

namespace ringtun::crypto {

namespace {

// Length of the IP packet at the start of `plain`, or 0 if it is not a consistent IPv4/IPv6
// packet that fits.
std::size_t inner_packet_length(std::span<const std::uint8_t> plain) noexcept {
    if (plain.empty()) return 0;
    std::size_t len = 0;
    switch (plain[0] >> 4) {
        case 4:
            if (plain.size() < 20) return 0;
            len = (std::size_t{plain[2]} << 8) | plain[3];
            if (len < 20) return 0;
            break;
        case 6:
            if (plain.size() < 40) return 0;
            len = 40 + ((std::size_t{plain[4]} << 8) | plain[5]);
            break;
        default:
            return 0;
    }
    return len <= plain.size() ? len : 0;
}

}  // namespace

SealResult seal_data(Session& session, std::span<std::uint8_t> buffer, std::size_t packet_len,
                     std::size_t mtu) noexcept {
    const std::size_t padded = padded_length(packet_len, mtu);
    if (buffer.size() < data_overhead + padded) return {Reject::buffer_too_small, 0};
    auto counter = session.next_send_counter();
    if (!counter) return {Reject::counter_exhausted, 0};

    std::uint8_t* body = buffer.data() + data_header_len;
    std::memset(body + packet_len, 0, padded - packet_len);
    const MessageDataHeader header{static_cast<std::uint32_t>(MessageType::data),
                                   session.remote_index(), *counter};
    std::memcpy(buffer.data(), &header, sizeof header);
    auto tag = buffer.subspan(data_header_len + padded).first<data_tag_len>();
    if (!session.sealer().seal(wireguard_nonce(*counter), {body, padded}, tag))
        return {Reject::internal_error, 0};
    return {Reject::none, data_overhead + padded};
}

std::uint32_t data_receiver(std::span<const std::uint8_t> message) noexcept {
    std::uint32_t receiver;
    std::memcpy(&receiver, message.data() + offsetof(MessageDataHeader, receiver), 4);
    return receiver;
}

OpenResult open_data(Session& session, std::span<std::uint8_t> message) noexcept {
    if (message.size() < data_overhead) return {Reject::malformed, {}, 0};
    std::uint64_t counter;
    std::memcpy(&counter, message.data() + offsetof(MessageDataHeader, counter), 8);
    if (counter >= reject_after_messages) return {Reject::counter_exhausted, {}, counter};
    if (!session.replay().check(counter)) return {Reject::replayed_counter, {}, counter};

    auto body = message.subspan(data_header_len, message.size() - data_overhead);
    auto tag = message.last<data_tag_len>();
    if (!session.opener().open(wireguard_nonce(counter), body, tag))
        return {Reject::decrypt_failed, {}, counter};
    // Only now, authenticated, may the window move.
    if (!session.replay().accept(counter)) return {Reject::replayed_counter, {}, counter};
    if (body.empty()) return {Reject::none, body, counter};
    const std::size_t len = inner_packet_length(body);
    if (len == 0) return {Reject::malformed_inner, {}, counter};
    return {Reject::none, body.first(len), counter};
}

}  // namespace ringtun::crypto
