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
#include <optional>
#include <string>

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
    // Whether the TCP transport dials `to` (a peer configured with transport = "tcp").
    virtual bool dials(const Endpoint& to) const noexcept = 0;
    // A peer's endpoint changed from `before` to `now`: a dialer follows a TCP endpoint. An
    // error if `now` is a TCP endpoint and this daemon runs no TCP transport.
    virtual UapiError redial(const std::optional<Endpoint>& before, const Endpoint& now) = 0;
};

class DeviceConfig final : public UapiTarget {
  public:
    DeviceConfig(Device& device, SocketSettings& sockets) : device_(device), sockets_(sockets) {}

    // The time set requests act at (a keepalive sent when one is turned on).
    void set_now(const Now& now) noexcept { now_ = now; }

    void begin_set() override;
    UapiError apply(const SetCommand& command) override;
    void end_set() override;
    void write_config(std::string& out) override;

  private:
    UapiError apply_device(const SetCommand& command);
    UapiError apply_peer(const SetCommand& command);
    void select_peer(const crypto::PublicKey& key);
    UapiError set_endpoint(Peer& peer, Endpoint e, bool keep_transport);
    // Detached from the sockets first, then gone from the device.
    void remove_peer(Peer& peer);
    void remove_all_peers();

    Device& device_;
    SocketSettings& sockets_;
    Now now_{};
    Peer* peer_ = nullptr;  // the peer this request's lines apply to; null: a dummy
    bool created_ = false;  // peer_ was created by this request
};

}  // namespace ringtun::daemon::control
