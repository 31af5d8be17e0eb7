// The data path's one frame layout. Every message the daemon sends is built in a frame:
//
//   [ prefix (2) | data header (16) | inner packet (<= mtu) | padding (< 16) | tag (16) ]
//   ^ frame       ^ message          ^ packet
//
// The prefix is room for the TCP transport's 2-byte big-endian length, so one buffer serves
// both transports: a TUN packet is read at `packet`, sealed where it lies (crypto/transport)
// and sent from `message` over UDP or from `frame` over TCP. Handshake messages and cookie
// replies are built at `message` too. Receive buffers are sized for the largest message any
// peer may send, which is not bounded by our own MTU: peers choose theirs (up to jumbo 9000).
#pragma once

#include <algorithm>
#include <cstddef>

#include "crypto/messages.hpp"

namespace ringtun::daemon::layout {

inline constexpr std::size_t prefix = 2;                   // the TCP frame's length
inline constexpr std::size_t max_framed_message = 0xffff;  // what the prefix can express
inline constexpr std::size_t headroom = prefix + crypto::data_header_len;  // frame -> packet
inline constexpr std::size_t tailroom = crypto::padding_multiple + crypto::data_tag_len;
inline constexpr std::size_t largest_peer_mtu = 9000;

// The largest message sealing a packet of up to `mtu` bytes can produce (padding included).
constexpr std::size_t message_capacity(std::size_t mtu) noexcept {
    return crypto::data_header_len + mtu + tailroom;
}

// A whole frame for packets of up to `mtu` bytes.
constexpr std::size_t frame_size(std::size_t mtu) noexcept {
    return prefix + message_capacity(mtu);
}

// The largest message we accept from a peer, whatever its MTU.
constexpr std::size_t largest_peer_message(std::size_t mtu) noexcept {
    return message_capacity(std::max(mtu, largest_peer_mtu));
}

// Writes the TCP length prefix of a message of `length` bytes that starts at `message`.
// Precondition: length <= max_framed_message (the configuration bounds the MTU so that every
// message fits; see conf's mtu range).
inline void write_prefix(unsigned char* message, std::size_t length) noexcept {
    message[-2] = static_cast<unsigned char>(length >> 8);
    message[-1] = static_cast<unsigned char>(length);
}

}  // namespace ringtun::daemon::layout
