#include "daemon/cli/settings.hpp"

#include <openssl/crypto.h>

#include <unordered_map>
#include <variant>

#include "conf/load.hpp"
#include "crypto/x25519.hpp"
#include "daemon/backend/uring/loop.hpp"

namespace ringtun::daemon {

namespace {

const char* const key_format =
    "is not a WireGuard key (44 base64 characters ending in '=', as written by "
    "'ringtun genkey' or 'wg genkey')";

util::Result<crypto::SymmetricKey> decode_secret(const conf::KeyText& key) {
    auto raw = crypto::key_from_base64(key.base64.view());
    if (!raw) {
        std::string msg = key.source_file.empty()
                              ? std::string("the key ") + key_format
                              : "the contents of " + key.source_file + " " + key_format;
        return util::fail(located(key.where, key.field, msg));
    }
    crypto::SymmetricKey out(*raw);
    OPENSSL_cleanse(raw->data(), raw->size());
    return out;
}

util::Result<PeerSettings> decode_peer(const conf::Peer& p) {
    PeerSettings out;
    out.name = p.name;
    auto pub = crypto::key_from_base64(p.public_key.base64);
    if (!pub)
        return util::fail(
            located(p.public_key.where, p.public_key.field, std::string("the key ") + key_format));
    out.public_key.bytes = *pub;
    if (p.preshared_key) {
        auto psk = decode_secret(*p.preshared_key);
        if (!psk) return util::fail(psk.error());
        out.preshared_key = *psk;
    }
    out.persistent_keepalive = p.persistent_keepalive;
    if (p.endpoint) {
        out.endpoint = Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&p.endpoint->addr),
                                               p.endpoint->len);
        out.endpoint->tcp = p.transport == conf::Transport::tcp;
    }
    out.endpoint_name = p.endpoint_name;
    out.transport = p.transport;
    out.allowed_ips = p.allowed_ips;
    return out;
}

}  // namespace

util::Error located(const conf::Location& where, std::string_view field, std::string_view msg) {
    return util::make_error(conf::format_error(where, field, msg), "");
}

util::Result<Settings> decode(const conf::Config& config) {
    Settings s;
    s.interface_name = config.interface.name;
    auto priv = decode_secret(config.interface.private_key);
    if (!priv) return util::fail(priv.error());
    s.private_key = crypto::PrivateKey(priv->span());
    s.listen_tcp_port = config.interface.listen_tcp_port;
    s.listen_port = config.interface.listen_port;
    s.addresses = config.interface.addresses;
    s.mtu = config.interface.mtu;
    s.ring = config.ring;
    s.offload = config.offload;
    s.control_socket = config.interface.control_socket;
    s.table = config.interface.table;
    s.user = config.interface.user;
    if (!config.interface.private_key.source_file.empty())
        s.key_files.push_back(config.interface.private_key.source_file);
    for (const conf::Peer& p : config.peers)
        if (p.preshared_key && !p.preshared_key->source_file.empty())
            s.key_files.push_back(p.preshared_key->source_file);
    if (const auto& m = config.metrics.listen)
        s.metrics_listen =
            Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&m->addr), m->len);
    const crypto::PublicKey own = crypto::derive_public_key(s.private_key);
    // Each key once: a table, not a scan of the earlier peers (100,000 peers in linear time).
    std::unordered_map<crypto::PublicKey, std::size_t, crypto::PublicKeyHash> seen;
    seen.reserve(config.peers.size());
    s.peers.reserve(config.peers.size());
    for (const conf::Peer& p : config.peers) {
        auto peer = decode_peer(p);
        if (!peer) return util::fail(peer.error());
        if (peer->public_key == own)
            return util::fail(located(p.public_key.where, p.public_key.field,
                                      "is this interface's own public key"));
        if (const auto [at, fresh] = seen.try_emplace(peer->public_key, s.peers.size()); !fresh)
            return util::fail(located(p.public_key.where, p.public_key.field,
                                      "the same key as " + s.peers[at->second].name));
        s.peers.push_back(std::move(*peer));
    }
    return s;
}

util::Result<Settings> load_settings(const std::string& path, conf::LoadOptions options) {
    conf::LoadResult loaded = conf::load(path, options);
    if (auto* err = std::get_if<conf::Error>(&loaded))
        return util::fail(util::make_error(err->to_string(), ""));
    return decode(std::get<conf::Config>(loaded));
}

util::Result<LoopParams> loop_params(const conf::RingTunables& r, std::uint32_t mtu,
                                     const ring::Features& features, bool& tun_blocking) {
    const ring::IoDefaults d = ring::recommended_defaults(features);
    if (!features.recvmsg_multishot || !features.buffer_rings)
        return util::fail(util::make_error(
            "io_uring", "ringtun needs multishot recvmsg with buffer rings (Linux 6.0 or later)"));
    LoopParams p;
    p.mtu = mtu;
    p.entries = r.entries.value_or(1024);
    const bool want_multishot =
        r.tun_read ? *r.tun_read == conf::TunRead::multishot : d.tun_read_multishot;
    if (want_multishot && !features.read_multishot)
        return util::fail(
            util::make_error("[ring] tun_read",
                             "\"multishot\" needs IORING_OP_READ_MULTISHOT (Linux 6.7 or "
                             "later); this kernel lacks it: use tun_read = \"slots\""));
    p.tun_read_multishot = want_multishot;
    // Slot reads run as one hard-linked chain (in order, no thundering herd), so a longer
    // chain only saves round trips.
    p.tun_rx_slots = r.tun_rx_slots.value_or(32);
    p.udp_rx_slots = r.udp_rx_slots.value_or(0);  // the loop chooses: 64 with UDP GRO, else 256
    p.tx_slots = r.tx_slots.value_or(512);
    p.sqpoll_idle_ms = r.sqpoll_idle_ms;
    p.tcp_rx_buffers = r.tcp_rx_buffers.value_or(8);
    p.tcp_max_connections = r.tcp_max_connections.value_or(256);
    tun_blocking = r.tun_blocking.value_or(ring::tun_blocking_default(features.kernel));
    return p;
}

bool uses_tcp(const Settings& s) noexcept {
    if (s.listen_tcp_port) return true;
    for (const PeerSettings& p : s.peers) {
        if (p.endpoint && p.endpoint->tcp) return true;
        if (!p.endpoint_name.empty() && p.transport == conf::Transport::tcp) return true;
    }
    return false;
}

util::Result<LoopParams> ring_params(const Settings& s, const ring::Features& features,
                                     bool* tun_blocking) {
    bool blocking = false;
    auto params = loop_params(s.ring, s.mtu, features, blocking);
    if (!params) return util::fail(params.error());
    if (tun_blocking) *tun_blocking = blocking;
    const conf::OffloadSettings& o = s.offload;
    params->may_offload = o.tun_tso != conf::Offload::off || o.tun_uso != conf::Offload::off ||
                          o.tun_gro != conf::Offload::off || o.udp_gso != conf::Offload::off ||
                          o.udp_gro != conf::Offload::off;
    return Loop::size(*params, uses_tcp(s));
}

}  // namespace ringtun::daemon
