#include "daemon/control/device_config.hpp"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "crypto/x25519.hpp"
#include "util/log.hpp"

namespace ringtun::daemon::control {

namespace {

void append_key(std::string& out, const char* name, const std::uint8_t* key) {
    char hex[64];
    key_to_hex(key, hex);
    out += name;
    out += '=';
    out.append(hex, sizeof hex);
    out += '\n';
}

void append_number(std::string& out, const char* name, std::uint64_t value) {
    out += name;
    out += '=';
    out += std::to_string(value);
    out += '\n';
}

// wireguard-go's form: "1.2.3.4:51820", "[fd00::1]:51820" (no "/tcp": the protocol has none).
void append_endpoint(std::string& out, const Endpoint& e) {
    Endpoint plain = e;
    plain.tcp = false;
    out += "endpoint=";
    out += plain.to_string();
    out += '\n';
}

void append_prefix(std::string& out, int family, const std::uint8_t* bytes, std::uint8_t cidr) {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(family, bytes, text, sizeof text);
    out += "allowed_ip=";
    out += text;
    out += '/';
    out += std::to_string(cidr);
    out += '\n';
}

bool is_device_line(const SetCommand& c) noexcept {
    return std::holds_alternative<set::PrivateKey>(c) ||
           std::holds_alternative<set::ListenPort>(c) || std::holds_alternative<set::Fwmark>(c) ||
           std::holds_alternative<set::ReplacePeers>(c);
}

}  // namespace

UapiError DeviceConfig::reload(std::string& out) {
    if (!reload_) return UapiTarget::reload(out);
    const std::optional<std::string> error = reload_(*this);
    if (!error) return UapiError::none;
    out += "error=";
    for (char c : *error)
        out += c == '\n' ? ' ' : c;  // one line
    out += '\n';
    return UapiError::invalid;
}

void DeviceConfig::begin_set() {
    peer_ = nullptr;
    created_ = false;
}

Peer* DeviceConfig::current_peer() {
    // Another session or a reload may have removed peers since this one chose its peer.
    if (peer_ != nullptr && device_.peers_removed() != removals_seen_) {
        peer_ = device_.find_peer(peer_key_);
        if (peer_ == nullptr) created_ = false;
        removals_seen_ = device_.peers_removed();
    }
    return peer_;
}

void DeviceConfig::end_set() {
    peer_ = nullptr;
    created_ = false;
}

UapiError DeviceConfig::apply(const SetCommand& command) {
    if (auto* pk = std::get_if<set::PublicKey>(&command)) {
        select_peer(pk->key);
        return UapiError::none;
    }
    return is_device_line(command) ? apply_device(command) : apply_peer(command);
}

UapiError DeviceConfig::apply_device(const SetCommand& command) {
    if (auto* c = std::get_if<set::PrivateKey>(&command)) {
        if (c->key == device_.identity().private_key) return UapiError::none;
        // The device would drop a peer that has our new public key; detach it first.
        if (Peer* self = device_.find_peer(crypto::derive_public_key(c->key))) remove_peer(*self);
        device_.set_private_key(c->key);
        return UapiError::none;
    }
    if (auto* c = std::get_if<set::ListenPort>(&command)) {
        if (c->port != 0 && c->port == sockets_.listen_port()) return UapiError::none;
        return sockets_.set_listen_port(c->port);
    }
    if (auto* c = std::get_if<set::Fwmark>(&command)) {
        if (c->mark == sockets_.fwmark()) return UapiError::none;
        return sockets_.set_fwmark(c->mark);
    }
    remove_all_peers();  // replace_peers
    return UapiError::none;
}

void DeviceConfig::select_peer(const crypto::PublicKey& key) {
    created_ = false;
    peer_ = nullptr;
    peer_key_ = key;
    removals_seen_ = device_.peers_removed();
    if (key == device_.identity().public_key) return;  // a dummy, as wireguard-go
    peer_ = device_.find_peer(key);
    if (peer_ != nullptr) return;
    peer_ = device_.add_peer(key, crypto::SymmetricKey{}, 0, std::nullopt);
    created_ = peer_ != nullptr;
}

UapiError DeviceConfig::set_endpoint(Peer& peer, Endpoint e, bool keep_transport) {
    if (keep_transport) e.tcp = sockets_.dials(peer);
    if (peer.endpoint && peer.endpoint->same_address(e) && peer.endpoint->tcp == e.tcp)
        return UapiError::none;
    if (const UapiError r = sockets_.redial(peer, e); r != UapiError::none) return r;
    device_.set_endpoint(peer, e);
    return UapiError::none;
}

UapiError DeviceConfig::set_scope(const Peer& peer, Endpoint& e, std::string_view scope) const {
    if (scope.empty()) return UapiError::none;
    const std::uint32_t index = sockets_.interface_index(scope);
    if (index == 0) {
        const std::string name(scope);
        RT_LOG_WARN("%s: endpoint %s: the scope interface \"%s\" does not exist",
                    peer.label().c_str(), e.to_string().c_str(), name.c_str());
        return UapiError::invalid;
    }
    e.addr.in6.sin6_scope_id = index;
    return UapiError::none;
}

void DeviceConfig::remove_peer(Peer& peer) {
    sockets_.forget_peer(peer);
    device_.remove_peer(peer);
}

void DeviceConfig::remove_all_peers() {
    for (const auto& p : device_.peers())
        sockets_.forget_peer(*p);
    device_.remove_all_peers();
}

UapiError DeviceConfig::apply_peer(const SetCommand& command) {
    Peer* selected = current_peer();
    if (selected == nullptr) return UapiError::none;  // a dummy absorbs it
    Peer& peer = *selected;
    if (std::holds_alternative<set::Remove>(command) ||
        (std::holds_alternative<set::UpdateOnly>(command) && created_)) {
        remove_peer(peer);
        peer_ = nullptr;
        return UapiError::none;
    }
    if (auto* psk = std::get_if<set::PresharedKey>(&command)) {
        device_.set_preshared_key(peer, psk->key);
    } else if (auto* ep = std::get_if<set::PeerEndpoint>(&command)) {
        Endpoint e = ep->endpoint;
        if (const UapiError r = set_scope(peer, e, ep->scope); r != UapiError::none) return r;
        return set_endpoint(peer, e, ep->keep_transport);
    } else if (auto* ka = std::get_if<set::Keepalive>(&command)) {
        device_.set_persistent_keepalive(peer, ka->seconds, now_);
    } else if (std::holds_alternative<set::ReplaceAllowedIps>(command)) {
        device_.clear_allowed_ips(peer);
    } else if (auto* ip = std::get_if<set::AllowedIp>(&command)) {
        if (ip->remove) {
            device_.remove_allowed_ip(peer, ip->family, ip->addr, ip->cidr);
        } else if (!device_.add_allowed_ip(peer, ip->family, ip->addr, ip->cidr)) {
            return UapiError::invalid;
        }
    }
    return UapiError::none;  // update_only on an existing peer, protocol_version
}

void DeviceConfig::write_config(std::string& out) {
    const crypto::Identity& id = device_.identity();
    if (!id.private_key.is_zero()) append_key(out, "private_key", id.private_key.data());
    if (sockets_.listen_port() != 0) append_number(out, "listen_port", sockets_.listen_port());
    if (sockets_.fwmark() != 0) append_number(out, "fwmark", sockets_.fwmark());
    for (const auto& p : device_.peers()) {
        append_key(out, "public_key", p->public_key().data());
        append_key(out, "preshared_key", p->handshake.preshared_key().data());
        out += "protocol_version=1\n";
        if (p->endpoint && p->endpoint->valid()) append_endpoint(out, *p->endpoint);
        append_number(out, "last_handshake_time_sec", p->last_handshake_unix_ns / 1'000'000'000);
        append_number(out, "last_handshake_time_nsec", p->last_handshake_unix_ns % 1'000'000'000);
        append_number(out, "tx_bytes", p->tx_bytes);
        append_number(out, "rx_bytes", p->rx_bytes);
        append_number(out, "persistent_keepalive_interval", p->timers.persistent_keepalive());
        device_.for_each_allowed_ip(*p, [&out](int family, const std::uint8_t* b, std::uint8_t c) {
            append_prefix(out, family, b, c);
        });
    }
}

}  // namespace ringtun::daemon::control
