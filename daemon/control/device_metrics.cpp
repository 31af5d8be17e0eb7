#include "daemon/control/device_metrics.hpp"

#include <vector>

#include "crypto/keys.hpp"

namespace ringtun::daemon::control {

namespace {

using Type = MetricsText::Type;

void write_peers(const Device& device, MetricsText& m) {
    const auto peers = device.peers();
    std::vector<std::string> keys;
    keys.reserve(peers.size());
    for (const auto& p : peers)
        keys.push_back(crypto::key_to_base64(p->public_key().span()));
    const auto each = [&](std::string_view name, Type type, std::string_view help, auto value) {
        m.family(name, type, help);
        for (std::size_t i = 0; i < peers.size(); ++i)
            m.sample(value(*peers[i]), {{"public_key", keys[i]}});
    };
    m.single("ringtun_peers", Type::gauge, "Peers configured.", peers.size());
    each("ringtun_peer_receive_bytes_total", Type::counter,
         "Bytes of WireGuard messages received from the peer (wg show's transfer).",
         [](const Peer& p) { return p.rx_bytes; });
    each("ringtun_peer_transmit_bytes_total", Type::counter,
         "Bytes of WireGuard messages sent to the peer (wg show's transfer).",
         [](const Peer& p) { return p.tx_bytes; });
    each("ringtun_peer_last_handshake_seconds", Type::gauge,
         "Unix time of the last completed handshake with the peer; 0 if none.",
         [](const Peer& p) { return p.last_handshake_unix_ns / 1'000'000'000; });
    each("ringtun_peer_sessions", Type::gauge,
         "Sessions held with the peer: current, previous and next (0 to 3).", [](const Peer& p) {
             return std::uint64_t{p.current.has_value()} + p.previous.has_value() +
                    p.next.has_value();
         });
}

void write_counters(const DeviceCounters& c, MetricsText& m) {
    m.single("ringtun_tun_receive_packets_total", Type::counter,
             "IP packets read from the TUN (to be sent to peers).", c.tun_rx_packets);
    m.single("ringtun_tun_receive_bytes_total", Type::counter,
             "Bytes of IP packets read from the TUN.", c.tun_rx_bytes);
    m.single("ringtun_tun_transmit_packets_total", Type::counter,
             "IP packets received from peers for the TUN.", c.tun_tx_packets);
    m.single("ringtun_tun_transmit_bytes_total", Type::counter,
             "Bytes of IP packets received from peers for the TUN.", c.tun_tx_bytes);
    m.single("ringtun_handshakes_initiated_total", Type::counter, "Handshake initiations sent.",
             c.handshakes_initiated);
    m.single("ringtun_handshakes_completed_total", Type::counter,
             "Handshakes completed, as initiator or responder.", c.handshakes_completed);
    m.single("ringtun_cookie_replies_sent_total", Type::counter,
             "Cookie replies sent to handshakes under load.", c.cookie_replies_sent);
    m.single("ringtun_keepalives_sent_total", Type::counter, "Keepalive messages sent.",
             c.keepalives_sent);
    m.single("ringtun_timer_holds_total", Type::counter,
             "Times the peers' due timers waited for a transmit buffer (at least 1 ms each).",
             c.timer_holds);
    m.family("ringtun_drops_total", Type::counter,
             "Packets dropped, by reason (one reason per drop).");
    for (std::size_t i = 0; i < static_cast<std::size_t>(Drop::count_); ++i) {
        const auto d = static_cast<Drop>(i);
        m.sample(c.drops.get(d), {{"reason", to_string(d)}});
    }
}

}  // namespace

void write_device_metrics(const Device& device, MetricsText& m) {
    write_counters(device.counters(), m);
    write_peers(device, m);
}

}  // namespace ringtun::daemon::control
