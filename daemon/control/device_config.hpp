// The UAPI applied to a running device: UapiTarget over the engine's Device, plus the socket
// settings only the backend can change (listen port, fwmark) behind a small port. Semantics
// are wireguard-go's (device/uapi.go), with the kernel's where wireguard-go is needlessly
// disruptive:
//   - public_key selects the peer, creating it if absent; our own public key selects a dummy
//     that absorbs the peer's lines. update_only removes a peer this request created.
//   - remove removes the peer at once; its later lines go to a dummy.
//   - replace_peers removes every peer; replace_allowed_ips every prefix of the peer.
//   - private_key: the same key is a no-op; a new one resets every session (Device).
//   - listen_port: the same port is a no-op (wireguard-go rebinds even then); a new one is
//     bound before the old socket closes, and a failure keeps the old one (-EADDRINUSE).
//   - A peer we dial over TCP stays on TCP when wg sets its endpoint (the protocol has no
//     transport); a reload's endpoint names the transport, and the dialers follow.
// Sessions and counters of a peer survive every change but a new private key and removal, so
// `wg syncconf` with an unchanged peer keeps its tunnel up.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/control/uapi_session.hpp"
#include "daemon/engine/device.hpp"

namespace ringtun::daemon::control {

// What the backend owns that a set request may change.
class SocketSettings {
  public:
    virtual ~SocketSettings() = default;
    virtual std::uint16_t listen_port() const noexcept = 0;
    // Binds `port` (0: any) before the current socket goes; on failure nothing changes.
    virtual UapiError set_listen_port(std::uint16_t port) = 0;
    virtual std::uint32_t fwmark() const noexcept = 0;
    virtual UapiError set_fwmark(std::uint32_t mark) = 0;
    // `peer` is about to be removed from the device: drop every reference to it.
    virtual void forget_peer(Peer& peer) noexcept = 0;
    // Whether the TCP transport dials for `peer` (configured with transport = "tcp").
    virtual bool dials(const Peer& peer) const noexcept = 0;
    // `peer`'s endpoint is about to become `now`: a TCP one is dialed (a dialer of the peer's
    // moves there), a UDP one ends the peer's dialer. An error if `now` is a TCP endpoint and
    // this daemon runs no TCP transport.
    virtual UapiError redial(const Peer& peer, const Endpoint& now) = 0;
    // The index of the network interface an IPv6 scope names ("eth0", or an index as "2", as
    // getaddrinfo reads it for `ringtun check`), or 0 when no such interface exists.
    virtual std::uint32_t interface_index(std::string_view scope) const = 0;
};

// One per session (a UAPI connection, a reload): what a set request selected is its own, so
// requests arriving interleaved on several connections do not mix.
class DeviceConfig final : public UapiTarget {
  public:
    DeviceConfig(Device& device, SocketSettings& sockets) : device_(device), sockets_(sockets) {}

    // The time set requests act at (a keepalive sent when one is turned on).
    void set_now(const Now& now) noexcept { now_ = now; }
    // What `reload=1` runs: applies the configuration file through the DeviceConfig it is
    // given; returns the error text, or nullopt once it was applied.
    using ReloadFn = std::function<std::optional<std::string>(DeviceConfig&)>;
    void set_reload(ReloadFn fn) { reload_ = std::move(fn); }

    void begin_set() override;
    UapiError apply(const SetCommand& command) override;
    void end_set() override;
    void write_config(std::string& out) override;
    UapiError reload(std::string& out) override;

  private:
    UapiError apply_device(const SetCommand& command);
    UapiError apply_peer(const SetCommand& command);
    void select_peer(const crypto::PublicKey& key);
    UapiError set_endpoint(Peer& peer, Endpoint e, bool keep_transport);
    // The scope a set request wrote looked up into `e` (as `ringtun check` refuses a scope
    // interface that does not exist, so does this: logged, and -EINVAL).
    UapiError set_scope(const Peer& peer, Endpoint& e, std::string_view scope) const;
    // Detached from the sockets first, then gone from the device.
    void remove_peer(Peer& peer);
    void remove_all_peers();

    Device& device_;
    SocketSettings& sockets_;
    ReloadFn reload_;
    Now now_{};
    // The peer this request's lines apply to (null: a dummy), re-found by key whenever peers
    // were removed since (by this request, another connection's or a reload).
    Peer* current_peer();

    Peer* peer_ = nullptr;
    crypto::PublicKey peer_key_;
    std::uint64_t removals_seen_ = 0;
    bool created_ = false;  // peer_ was created by this request
};

}  // namespace ringtun::daemon::control
