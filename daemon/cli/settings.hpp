// What the daemon runs from: the configuration with keys decoded (errors reported at the
// key's file, line and column) and the [ring] tunables resolved for the running kernel.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "conf/config.hpp"
#include "conf/load.hpp"
#include "crypto/keys.hpp"
#include "daemon/backend/uring/loop.hpp"
#include "daemon/engine/endpoint.hpp"
#include "ring/features.hpp"
#include "util/result.hpp"

namespace ringtun::daemon {

struct PeerSettings {
    std::string name;  // "peer[N]" as in the configuration
    crypto::PublicKey public_key;
    crypto::SymmetricKey preshared_key;
    std::uint16_t persistent_keepalive = 0;
    std::optional<Endpoint> endpoint;  // tcp set for transport = "tcp": we dial it
    std::string endpoint_name;         // "host:port" not looked up by load_settings, which
                                       // leaves `endpoint` empty (cli/endpoint_names)
    conf::Transport transport = conf::Transport::udp;
    std::vector<conf::Prefix> allowed_ips;
};

struct Settings {
    std::string interface_name;
    crypto::PrivateKey private_key;
    std::optional<std::uint16_t> listen_port;
    std::optional<std::uint16_t> listen_tcp_port;
    std::vector<conf::Prefix> addresses;
    std::uint32_t mtu = 1420;
    std::vector<PeerSettings> peers;
    conf::RingTunables ring;
    conf::OffloadSettings offload;
    bool control_socket = true;              // serve `wg` on /var/run/wireguard/NAME.sock
    std::optional<std::uint32_t> table;      // routes: nullopt "auto", 0 "off", N (cli/routes)
    std::optional<Endpoint> metrics_listen;  // [metrics] listen: the Prometheus endpoint
    // [interface] user: whom run becomes after set-up. Looked up by run and check only
    // (privilege_drop), never on a reload: the loop must not wait for the user database.
    std::optional<conf::UserName> user;
    std::vector<std::string> key_files;  // the key files read (a reload reads them again)
};

// An error about `field` written at `where`: "FILE:LINE:COLUMN: FIELD: MESSAGE".
util::Error located(const conf::Location& where, std::string_view field, std::string_view msg);

// Decodes keys and checks what conf cannot (duplicate keys after decoding, our own key as a
// peer, features not available yet). The error text is "FILE:LINE:COLUMN: FIELD: MESSAGE".
util::Result<Settings> decode(const conf::Config& config);

// Loads and decodes a configuration file; `options.resolve_names` false looks up no endpoint
// host name (what `run` and a reload use: the daemon looks names up off its loop, and one
// that does not resolve never stops it).
util::Result<Settings> load_settings(const std::string& path, conf::LoadOptions options = {});

// The [ring] section with every absent key set for this kernel; an error if a requested mode
// is unavailable here.
util::Result<LoopParams> loop_params(const conf::RingTunables& ring, std::uint32_t mtu,
                                     const ring::Features& features, bool& tun_blocking);

// Whether the TCP transport runs: a TCP listener, or a peer dialed over TCP (by address or
// by name).
bool uses_tcp(const Settings& s) noexcept;

// The [ring] section resolved for this kernel and sized for the loop: what check and run both
// refuse. `tun_blocking`, if given, receives the TUN mode for this kernel.
util::Result<LoopParams> ring_params(const Settings& s, const ring::Features& features,
                                     bool* tun_blocking = nullptr);

}  // namespace ringtun::daemon
