// One `key=value` line of a WireGuard UAPI `set=1` request (https://www.wireguard.com/xplatform/),
// parsed into a typed command with wireguard-go's rules: the line splits at its first '=', no
// trimming; keys are 64 lowercase-or-uppercase hex digits; numbers are plain decimal in range;
// booleans accept only "true". A line without '=' is EPROTO, anything else wrong EINVAL.
//
// Device keys are valid before the first public_key line, peer keys after it (a device key in
// a peer section is EINVAL, as in wireguard-go, except that none exists there).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "crypto/keys.hpp"
#include "daemon/engine/endpoint.hpp"

namespace ringtun::daemon::control {

// What a request answers with: `errno=-N` on the wire (wireguard-go's ipc error codes).
enum class UapiError : int {
    none = 0,
    io = 5,               // EIO
    invalid = 22,         // EINVAL: a bad value, an unknown key, a trailing byte after get=1
    protocol = 71,        // EPROTO: a line without '='
    address_in_use = 98,  // EADDRINUSE: listen_port cannot be bound, fwmark cannot be set
};

namespace set {
struct PrivateKey {
    crypto::PrivateKey key;  // all zero: no key
};
struct ListenPort {
    std::uint16_t port;  // 0: any
};
struct Fwmark {
    std::uint32_t mark;  // 0: none
};
struct ReplacePeers {};
struct PublicKey {
    crypto::PublicKey key;
};
struct Remove {};
struct UpdateOnly {};
struct PresharedKey {
    crypto::SymmetricKey key;  // all zero: none
};
struct PeerEndpoint {
    Endpoint endpoint;
    // wg's endpoint names no transport: a peer we dial over TCP stays on TCP. A reload names
    // it (endpoint.tcp is the file's transport).
    bool keep_transport = true;
    // An IPv6 address's scope as written ("eth0", or an index, "2"): the interface, which
    // must exist, is looked up where the request is applied (SocketSettings). Empty: none.
    std::string scope;
};
struct Keepalive {
    std::uint16_t seconds;  // 0: off
};
struct ReplaceAllowedIps {};
struct AllowedIp {
    int family;  // AF_INET or AF_INET6
    std::uint8_t addr[16];
    std::uint8_t cidr;
    bool remove;  // "-prefix": take it away from this peer (wireguard-tools ≥ 1.0.20250521)
};
struct ProtocolVersion {};
}  // namespace set

using SetCommand =
    std::variant<set::PrivateKey, set::ListenPort, set::Fwmark, set::ReplacePeers, set::PublicKey,
                 set::Remove, set::UpdateOnly, set::PresharedKey, set::PeerEndpoint, set::Keepalive,
                 set::ReplaceAllowedIps, set::AllowedIp, set::ProtocolVersion>;

struct ParsedLine {
    UapiError error = UapiError::none;  // none: `command` holds the line
    SetCommand command;
};

// `line` excludes its '\n'. `in_peer`: a public_key line came earlier in this request.
ParsedLine parse_set_line(std::string_view line, bool in_peer);

// 64 hex digits → 32 bytes; false on anything else.
bool hex_to_key(std::string_view hex, std::uint8_t out[32]) noexcept;
// 32 bytes → 64 lowercase hex digits into out[64].
void key_to_hex(const std::uint8_t key[32], char out[64]) noexcept;

}  // namespace ringtun::daemon::control
