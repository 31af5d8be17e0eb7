// The validated configuration of one ringtun interface: what load() returns.
//
// Keys stay base64 text here; the daemon decodes them with crypto/ (which conf may not use)
// and reports decoding errors through format_error() with the Location and field kept here.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/error.hpp"
#include "conf/secret_text.hpp"

namespace ringtun::conf {

inline constexpr std::string_view default_interface_name = "rt0";
inline constexpr std::uint32_t default_mtu = 1420;

// The largest MTU whose largest data message still fits one datagram on every transport.
// A data message is 32 bytes (16 header, 16 tag) around the packet padded to a multiple of 16;
// crypto/ caps the padding at the MTU, but receive buffers are sized with the full 16 of
// tailroom, so the bound takes the uncapped 32 + round_up16(mtu). The tightest container is
// an IPv4 UDP payload, 65535 - 20 (IP) - 8 (UDP) = 65507 bytes; an IPv6 UDP payload (65527)
// and a TCP frame with its 2-byte length (65535) are larger. 32 + round_up16(65472) = 65504
// fits; 65473 rounds up to 65488 and makes 65520, which does not.
inline constexpr std::uint32_t min_mtu = 576;  // RFC 791: every IPv4 host takes 576 bytes
inline constexpr std::uint32_t max_mtu = 65472;
inline constexpr std::uint32_t max_udp4_payload = 65535 - 20 - 8;
inline constexpr std::uint32_t data_message_overhead = 32;
static_assert(data_message_overhead + (max_mtu + 15) / 16 * 16 <= max_udp4_payload);
static_assert(data_message_overhead + (max_mtu + 1 + 15) / 16 * 16 > max_udp4_payload);

// An IPv4 or IPv6 prefix. AF_INET uses addr[0..3]; the remaining bytes are zero.
struct Prefix {
    int family = AF_INET;
    std::array<std::uint8_t, 16> addr{};
    std::uint8_t length = 0;

    // "10.1.2.0/24", "fd00::1/64".
    std::string to_string() const;
    friend bool operator==(const Prefix&, const Prefix&) = default;
};

// A resolved peer address (sockaddr_in or sockaddr_in6) with its port.
struct Endpoint {
    sockaddr_storage addr{};
    socklen_t len = 0;

    // "10.99.0.2:51820", "[fd00::2]:51820".
    std::string to_string() const;
};

// A private or preshared key as base64 text, either written inline in the config or read
// from a key file (contents with surrounding whitespace trimmed).
struct KeyText {
    SecretText base64;
    Location where;           // the inline key, or the *_file key that names the key file
    std::string field;        // e.g. "interface.private_key_file"
    std::string source_file;  // the key file the text came from; empty when inline
};

struct PublicKeyText {
    std::string base64;
    Location where;
    std::string field;  // e.g. "peer[2].public_key"
};

enum class Transport { udp, tcp };
// [ring] backend: io_uring where the kernel allows it, epoll where it refuses (automatic), or
// the one named.
enum class Backend { automatic, io_uring, epoll };
enum class TunRead { multishot, slots };

std::string_view to_string(Transport t) noexcept;
std::string_view to_string(TunRead t) noexcept;

// [ring]: absent values are left for the daemon to choose for the running kernel.
struct RingTunables {
    Backend backend = Backend::automatic;
    std::optional<std::uint32_t> entries;  // power of two, 8..32768
    std::optional<TunRead> tun_read;
    std::optional<std::uint32_t> tun_rx_slots;  // 1..4096
    std::optional<std::uint32_t> udp_rx_slots;  // 1..4096
    std::optional<std::uint32_t> tx_slots;      // 1..32768
    std::optional<bool> tun_blocking;
    std::uint32_t sqpoll_idle_ms = 0;                  // 0 = no SQPOLL
    std::optional<std::uint32_t> tcp_rx_buffers;       // per TCP connection, 1..1024
    std::optional<std::uint32_t> tcp_max_connections;  // 1..65536
    friend bool operator==(const RingTunables&, const RingTunables&) = default;
};

// [offload]: each offload "auto" (on where this kernel and device offer it), "on" (required:
// the daemon refuses to start without it) or "off".
enum class Offload { automatic, on, off };
std::string_view to_string(Offload o) noexcept;

struct OffloadSettings {
    Offload tun_tso = Offload::automatic;  // TUN super-packets read (TCP segmentation, TSO4/6)
    Offload tun_uso = Offload::automatic;  // TUN UDP super-packets read (USO4/6, Linux 6.2+)
    Offload tun_gro = Offload::automatic;  // decrypted packets coalesced before the TUN write
    Offload udp_gso = Offload::automatic;  // messages to one peer in one UDP_SEGMENT send
    Offload udp_gro = Offload::automatic;  // coalesced datagrams received (UDP_GRO)
    // tun_gro_checksums: "verify" (true, default) checks each opened packet's checksums before
    // merging it, as wireguard-go does; "trust" (false) merges them as the AEAD delivered them,
    // as kernel WireGuard does.
    bool tun_gro_verify = true;
    friend bool operator==(const OffloadSettings&, const OffloadSettings&) = default;
};

// [interface] user: the user the daemon becomes once set up, looked up by the daemon (which
// reports an unknown one at `where`).
struct UserName {
    std::string name;
    Location where;
    std::string field;  // "interface.user"
};

struct Interface {
    std::string name{default_interface_name};
    KeyText private_key;
    std::optional<std::uint16_t> listen_port;      // absent: the kernel picks one
    std::optional<std::uint16_t> listen_tcp_port;  // absent: no TCP listener
    std::vector<Prefix> addresses;                 // host bits kept
    std::uint32_t mtu = default_mtu;
    bool control_socket = true;  // serve `wg` on /var/run/wireguard/NAME.sock
    // Routes for the peers' allowed IPs, as wg-quick's Table=: nullopt = "auto" (the main
    // table; a /0 goes to table 51820 with wg-quick's fwmark rules), 0 = "off", N = table N.
    std::optional<std::uint32_t> table;
    std::optional<UserName> user;  // absent: the daemon stays the user it was started as
};

// [metrics]: the Prometheus endpoint, served by the daemon's loop.
struct MetricsSettings {
    std::optional<Endpoint> listen;  // absent: none
};

struct Peer {
    Location where;    // its [[peer]] header
    std::string name;  // "peer[N]", N counted from 1 in file order
    PublicKeyText public_key;
    std::optional<KeyText> preshared_key;
    std::optional<Endpoint> endpoint;
    std::string endpoint_name;  // "host:port" left unresolved (LoadOptions), endpoint then empty
    std::vector<Prefix> allowed_ips;         // host bits masked off
    std::uint16_t persistent_keepalive = 0;  // seconds; 0 = off
    Transport transport = Transport::udp;
};

struct Config {
    Interface interface;
    RingTunables ring;
    OffloadSettings offload;
    MetricsSettings metrics;
    std::vector<Peer> peers;
};

}  // namespace ringtun::conf
