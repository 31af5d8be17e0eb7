// `wg syncconf` semantics applied to a device pair with a session up: an unchanged wanted
// configuration keeps the session and counters and sends nothing; a changed one adds, removes
// and re-routes exactly what changed.
#include "daemon/control/sync.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>

#include "crypto/x25519.hpp"
#include "daemon/control/device_config.hpp"
#include "tests/unit/engine/device_harness.hpp"

using namespace ringtun;
using namespace ringtun::test;
using namespace ringtun::daemon::control;

namespace {

struct NoSockets : SocketSettings {
    std::vector<daemon::Peer*> forgotten;
    std::uint16_t listen_port() const noexcept override { return 51820; }
    UapiError set_listen_port(std::uint16_t) override { return UapiError::address_in_use; }
    std::uint32_t fwmark() const noexcept override { return 0; }
    UapiError set_fwmark(std::uint32_t) override { return UapiError::none; }
    void forget_peer(daemon::Peer& p) noexcept override { forgotten.push_back(&p); }
    bool dials(const daemon::Peer&) const noexcept override { return false; }
    UapiError redial(const daemon::Peer&, const daemon::Endpoint& now) override {
        return now.tcp ? UapiError::invalid : UapiError::none;
    }
    std::uint32_t interface_index(std::string_view) const override { return 0; }
};

set::AllowedIp prefix(const char* text, std::uint8_t cidr) {
    set::AllowedIp ip{};
    ip.family = std::string_view(text).find(':') == std::string_view::npos ? AF_INET : AF_INET6;
    REQUIRE(inet_pton(ip.family, text, ip.addr) == 1);
    ip.cidr = cidr;
    return ip;
}

// A's configuration as DevicePair sets it up.
WantedDevice as_configured(DevicePair& p) {
    WantedDevice w;
    w.private_key = p.a.key;
    WantedPeer b;
    b.public_key = p.b.dev().identity().public_key;
    b.endpoint = p.b.addr;
    b.allowed_ips = {prefix("10.100.0.2", 32), prefix("fd00::2", 128)};
    w.peers.push_back(b);
    return w;
}

struct Fixture {
    DevicePair pair;
    NoSockets sockets;
    DeviceConfig config{pair.a.dev(), sockets};

    UapiError sync(const WantedDevice& w) {
        config.set_now(pair.now);
        return apply_commands(config, sync_commands(pair.a.dev(), w));
    }
};

}  // namespace

TEST_CASE("sync: the same configuration keeps the session, the counters, and sends nothing") {
    Fixture f;
    f.pair.establish();
    const std::uint32_t index = f.pair.a.peer->current->local_index();
    const std::uint64_t tx = f.pair.a.peer->tx_bytes;
    const std::uint64_t handshake = f.pair.a.peer->last_handshake_unix_ns;
    CHECK(f.sync(as_configured(f.pair)) == UapiError::none);
    REQUIRE(f.pair.a.dev().peers().size() == 1);
    CHECK(f.pair.a.peer->current->local_index() == index);
    CHECK(f.pair.a.peer->tx_bytes == tx);
    CHECK(f.pair.a.peer->last_handshake_unix_ns == handshake);
    CHECK(f.pair.a.tx.log.empty());
    CHECK(f.sockets.forgotten.empty());
    CHECK(f.pair.send_tun(f.pair.a, a_to_b(1)));
    f.pair.deliver_all();
    CHECK(f.pair.b.tun.size() == 1);
}

TEST_CASE("sync: a peer added, a prefix moved, a peer removed") {
    Fixture f;
    f.pair.establish();
    const std::uint32_t index = f.pair.a.peer->current->local_index();
    TestRng r(3);
    WantedDevice w = as_configured(f.pair);
    WantedPeer c;
    c.public_key = crypto::derive_public_key(crypto::generate_private_key(r));
    c.allowed_ips = {prefix("10.200.0.0", 16)};
    w.peers.push_back(c);
    w.peers[0].allowed_ips.push_back(prefix("10.100.1.0", 24));
    CHECK(f.sync(w) == UapiError::none);
    CHECK(f.pair.a.dev().peers().size() == 2);
    CHECK(f.pair.a.peer->current->local_index() == index);  // B's session kept
    CHECK(f.pair.send_tun(f.pair.a, ipv4("10.100.0.1", "10.100.1.7", 2)));

    // Now without B: B goes, through forget_peer; C stays.
    w.peers.erase(w.peers.begin());
    daemon::Peer* b = f.pair.a.peer;
    CHECK(f.sync(w) == UapiError::none);
    REQUIRE(f.pair.a.dev().peers().size() == 1);
    CHECK(f.pair.a.dev().peers()[0]->public_key() == c.public_key);
    CHECK(f.sockets.forgotten == std::vector<daemon::Peer*>{b});
    f.pair.a.peer = nullptr;
    CHECK_FALSE(f.pair.send_tun(f.pair.a, a_to_b(3)));
}

TEST_CASE("sync: a listen port the socket cannot take stops the request with its error") {
    Fixture f;
    WantedDevice w = as_configured(f.pair);
    w.listen_port = 1;
    CHECK(f.sync(w) == UapiError::address_in_use);
}
