// The UAPI applied to a real device pair (tests/unit/engine/device_harness.hpp): requests as
// `wg` sends them, through the session, against A's device. What `wg syncconf` relies on: an
// unchanged peer keeps its session; and what `wg show` needs back.
#include "daemon/control/device_config.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/control/sync.hpp"
#include "tests/unit/engine/device_harness.hpp"

using namespace ringtun;
using namespace ringtun::test;
using namespace ringtun::daemon::control;

namespace {

struct FakeSockets : SocketSettings {
    std::uint16_t port = 51820;
    std::uint32_t mark = 0;
    std::vector<std::uint16_t> port_requests;
    UapiError port_result = UapiError::none;
    std::vector<daemon::Peer*> forgotten;

    std::uint16_t listen_port() const noexcept override { return port; }
    UapiError set_listen_port(std::uint16_t p) override {
        port_requests.push_back(p);
        if (port_result == UapiError::none) port = p;
        return port_result;
    }
    std::uint32_t fwmark() const noexcept override { return mark; }
    UapiError set_fwmark(std::uint32_t m) override {
        mark = m;
        return UapiError::none;
    }
    void forget_peer(daemon::Peer& p) noexcept override { forgotten.push_back(&p); }
    std::map<daemon::Peer*, daemon::Endpoint> dialed;  // what the TCP transport dials
    bool tcp_transport = true;
    bool dials(const daemon::Peer& p) const noexcept override {
        return dialed.contains(const_cast<daemon::Peer*>(&p));
    }
    // The host's interfaces: only "eth7" (index 7) and index 3.
    std::uint32_t interface_index(std::string_view scope) const override {
        return scope == "eth7" ? 7 : scope == "3" ? 3 : 0;
    }
    UapiError redial(const daemon::Peer& p, const daemon::Endpoint& now) override {
        if (now.tcp && !tcp_transport) return UapiError::invalid;
        dialed.erase(const_cast<daemon::Peer*>(&p));
        if (now.tcp) dialed[const_cast<daemon::Peer*>(&p)] = now;
        return UapiError::none;
    }
};

std::string hex(const std::uint8_t* key) {
    char h[64];
    key_to_hex(key, h);
    return std::string(h, 64);
}

struct Fixture {
    DevicePair pair;
    FakeSockets sockets;
    DeviceConfig config{pair.a.dev(), sockets};

    // One request on a fresh connection; returns the reply.
    std::string request(const std::string& text) {
        UapiSession session;
        std::string out;
        config.set_now(pair.now);
        std::string_view rest = text;
        while (!rest.empty() && !session.done())
            rest.remove_prefix(session.feed(rest, config, out));
        return out;
    }
    std::string b_key() { return hex(pair.b.dev().identity().public_key.data()); }
};

bool has_line(const std::string& reply, const std::string& line) {
    return reply.find(line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("uapi get: what wg show needs, in wireguard-go's order") {
    Fixture f;
    f.pair.establish();
    const std::string r = f.request("get=1\n\n");
    CHECK(r.rfind("private_key=" + hex(f.pair.a.dev().identity().private_key.data()) + "\n", 0) ==
          0);
    CHECK(has_line(r, "listen_port=51820"));
    CHECK(has_line(r, "public_key=" + f.b_key()));
    CHECK(has_line(r, "preshared_key=" + std::string(64, '0')));
    CHECK(has_line(r, "protocol_version=1"));
    CHECK(has_line(r, "endpoint=10.99.0.2:51820"));
    CHECK(has_line(r, "allowed_ip=10.100.0.2/32"));
    CHECK(has_line(r, "allowed_ip=fd00::2/128"));
    CHECK(has_line(r, "persistent_keepalive_interval=0"));
    CHECK(r.find("last_handshake_time_sec=0\n") == std::string::npos);  // a handshake happened
    CHECK(r.find("tx_bytes=0\n") == std::string::npos);                 // A sent data
    CHECK(r.size() > 9);
    CHECK(r.substr(r.size() - 9) == "errno=0\n\n");
    CHECK(r.find("fwmark") == std::string::npos);  // 0 is left out
}

TEST_CASE("uapi set: a syncconf of the same peer keeps its session; a new peer is added") {
    Fixture f;
    f.pair.establish();
    REQUIRE(f.pair.a.peer->current);
    const std::uint32_t index = f.pair.a.peer->current->local_index();
    const std::string other(64, 'c');
    const std::string r = f.request(
        "set=1\nprivate_key=" + hex(f.pair.a.dev().identity().private_key.data()) +
        "\nlisten_port=51820\nfwmark=0\npublic_key=" + f.b_key() +
        "\nendpoint=10.99.0.2:51820\npersistent_keepalive_interval=0\nreplace_allowed_ips=true\n"
        "allowed_ip=10.100.0.2/32\nallowed_ip=fd00::2/128\npublic_key=" +
        other + "\nallowed_ip=10.200.0.0/16\n\n");
    CHECK(r == "errno=0\n\n");
    CHECK(f.sockets.port_requests.empty());  // the same port is no change
    REQUIRE(f.pair.a.peer->current);
    CHECK(f.pair.a.peer->current->local_index() == index);
    CHECK(f.pair.a.dev().peers().size() == 2);
    CHECK(f.pair.send_tun(f.pair.a, a_to_b(1)));
    f.pair.deliver_all();
    CHECK(f.pair.b.tun.size() == 1);
}

TEST_CASE("uapi set: remove, update_only, our own key, replace_peers") {
    Fixture f;
    const std::string other(64, 'c');
    // update_only does not create.
    CHECK(f.request("set=1\npublic_key=" + other +
                    "\nupdate_only=true\nallowed_ip=1.0.0.0/8\n\n") == "errno=0\n\n");
    CHECK(f.pair.a.dev().peers().size() == 1);
    // Our own key: a dummy absorbs the lines.
    CHECK(f.request("set=1\npublic_key=" + hex(f.pair.a.dev().identity().public_key.data()) +
                    "\nallowed_ip=2.0.0.0/8\n\n") == "errno=0\n\n");
    CHECK(f.pair.a.dev().peers().size() == 1);
    // remove, and its later lines go nowhere.
    daemon::Peer* b = f.pair.a.peer;
    CHECK(f.request("set=1\npublic_key=" + f.b_key() + "\nremove=true\nallowed_ip=3.0.0.0/8\n\n") ==
          "errno=0\n\n");
    CHECK(f.pair.a.dev().peers().empty());
    // The peer update_only created and dropped again, then B.
    REQUIRE(f.sockets.forgotten.size() == 2);
    CHECK(f.sockets.forgotten.back() == b);
    f.pair.a.peer = nullptr;
    // replace_peers removes every one.
    CHECK(f.request("set=1\npublic_key=" + other + "\n\n") == "errno=0\n\n");
    CHECK(f.pair.a.dev().peers().size() == 1);
    CHECK(f.request("set=1\nreplace_peers=true\n\n") == "errno=0\n\n");
    CHECK(f.pair.a.dev().peers().empty());
}

TEST_CASE("uapi set: allowed IPs removed by prefix, keepalive, psk and endpoint") {
    Fixture f;
    f.pair.establish();
    CHECK(f.request("set=1\npublic_key=" + f.b_key() + "\nallowed_ip=-10.100.0.2/32\n\n") ==
          "errno=0\n\n");
    CHECK_FALSE(f.pair.send_tun(f.pair.a, a_to_b(1)));
    f.pair.clear_records();
    CHECK(f.request("set=1\npublic_key=" + f.b_key() + "\npersistent_keepalive_interval=25\n" +
                    "preshared_key=" + std::string(64, '1') + "\nendpoint=[fd99::2]:9\n\n") ==
          "errno=0\n\n");
    CHECK(f.pair.a.tx.log.empty());  // due now: the loop's next turn sends it
    f.pair.a.dev().on_timers(f.pair.now);
    CHECK(count_keepalives(f.pair.a.tx.log) == 1);
    CHECK(f.pair.a.peer->endpoint->to_string() == "[fd99::2]:9");
    const std::string r = f.request("get=1\n\n");
    CHECK(has_line(r, "persistent_keepalive_interval=25"));
    CHECK(has_line(r, "preshared_key=" + std::string(64, '1')));
    CHECK(has_line(r, "endpoint=[fd99::2]:9"));
    CHECK_FALSE(has_line(r, "allowed_ip=10.100.0.2/32"));
}

TEST_CASE("uapi set: a private key equal to a peer's removes that peer through forget_peer") {
    Fixture f;
    daemon::Peer* b = f.pair.a.peer;
    CHECK(f.request("set=1\nprivate_key=" + hex(f.pair.b.key.data()) + "\n\n") == "errno=0\n\n");
    CHECK(f.pair.a.dev().peers().empty());
    CHECK(f.sockets.forgotten == std::vector<daemon::Peer*>{b});
    CHECK(f.pair.a.dev().identity().public_key == f.pair.b.dev().identity().public_key);
}

TEST_CASE("uapi set: a new listen port that cannot be bound is -98 and changes nothing") {
    Fixture f;
    f.sockets.port_result = UapiError::address_in_use;
    CHECK(f.request("set=1\nlisten_port=7\n\n") == "errno=-98\n\n");
    CHECK(f.sockets.port_requests == std::vector<std::uint16_t>{7});
    CHECK(f.sockets.port == 51820);
    f.sockets.port_result = UapiError::none;
    CHECK(f.request("set=1\nlisten_port=7\nfwmark=51820\n\n") == "errno=0\n\n");
    const std::string r = f.request("get=1\n\n");
    CHECK(has_line(r, "listen_port=7"));
    CHECK(has_line(r, "fwmark=51820"));
}

TEST_CASE("uapi set: a peer we dial over TCP stays on TCP, and its dialer follows the address") {
    Fixture f;
    Endpoint tcp = f.pair.b.addr;
    tcp.tcp = true;
    f.pair.a.dev().set_endpoint(*f.pair.a.peer, tcp);
    f.sockets.dialed[f.pair.a.peer] = tcp;
    CHECK(f.request("set=1\npublic_key=" + f.b_key() + "\nendpoint=10.99.0.3:1\n\n") ==
          "errno=0\n\n");
    CHECK(f.pair.a.peer->endpoint->tcp);
    REQUIRE(f.sockets.dialed.size() == 1);  // the dialer moved to the new address
    CHECK(f.sockets.dialed[f.pair.a.peer].to_string() == "10.99.0.3:1/tcp");
    CHECK(has_line(f.request("get=1\n\n"), "endpoint=10.99.0.3:1"));
}

TEST_CASE("uapi set: a peer that reached us over an accepted TCP connection goes back to UDP") {
    Fixture f;
    Endpoint roamed = f.pair.b.addr;
    roamed.tcp = true;  // its last packet came over a connection it opened; nothing dials it
    roamed.tcp_connection = 7;
    f.pair.a.dev().set_endpoint(*f.pair.a.peer, roamed);
    CHECK(f.request("set=1\npublic_key=" + f.b_key() + "\nendpoint=10.99.0.3:1\n\n") ==
          "errno=0\n\n");
    CHECK_FALSE(f.pair.a.peer->endpoint->tcp);
    CHECK(f.sockets.dialed.empty());
}

TEST_CASE("reload: a TCP endpoint moves a peer to TCP, refused where no TCP transport runs") {
    Fixture f;
    Endpoint tcp = f.pair.b.addr;
    tcp.tcp = true;
    const std::vector<SetCommand> commands = {
        set::PublicKey{f.pair.b.dev().identity().public_key},
        set::PeerEndpoint{.endpoint = tcp, .keep_transport = false, .scope = {}}};
    f.sockets.tcp_transport = false;
    CHECK(apply_commands(f.config, commands) == UapiError::invalid);
    CHECK_FALSE(f.pair.a.peer->endpoint->tcp);  // unchanged
    f.sockets.tcp_transport = true;
    CHECK(apply_commands(f.config, commands) == UapiError::none);
    CHECK(f.pair.a.peer->endpoint->tcp);
    CHECK(f.sockets.dialed.size() == 1);
    Endpoint udp = tcp;
    udp.tcp = false;  // the file moved it back to UDP
    CHECK(apply_commands(f.config, {commands[0],
                                    set::PeerEndpoint{
                                        .endpoint = udp, .keep_transport = false, .scope = {}}}) ==
          UapiError::none);
    CHECK_FALSE(f.pair.a.peer->endpoint->tcp);
    CHECK(f.sockets.dialed.empty());
}

TEST_CASE("uapi set: requests interleaved on two connections keep their own peer") {
    Fixture f;
    DeviceConfig second{f.pair.a.dev(), f.sockets};  // each connection has its own
    UapiSession s1, s2;
    std::string out1, out2;
    auto feed = [](UapiSession& s, DeviceConfig& config, std::string& out, std::string in) {
        std::string_view rest = in;
        while (!rest.empty() && !s.done())
            rest.remove_prefix(s.feed(rest, config, out));
    };
    const std::string c(64, 'c');
    feed(s1, f.config, out1, "set=1\npublic_key=" + f.b_key() + "\n");
    feed(s2, second, out2, "set=1\npublic_key=" + c + "\n");
    feed(s1, f.config, out1, "allowed_ip=10.50.0.0/16\n");
    feed(s2, second, out2, "\n");  // the second request ends in the middle of the first
    feed(s1, f.config, out1, "allowed_ip=10.51.0.0/16\n\n");
    CHECK(out1 == "errno=0\n\n");
    CHECK(out2 == "errno=0\n\n");
    auto count = [&](const daemon::Peer& p) {
        std::size_t n = 0;
        f.pair.a.dev().for_each_allowed_ip(p, [&](int, const std::uint8_t*, std::uint8_t) { ++n; });
        return n;
    };
    CHECK(count(*f.pair.a.peer) == 4);  // its two and both new ones
    crypto::PublicKey ck;
    REQUIRE(hex_to_key(c, ck.bytes.data()));
    REQUIRE(f.pair.a.dev().find_peer(ck));
    CHECK(count(*f.pair.a.dev().find_peer(ck)) == 0);

    // The peer one request chose is removed by another: its later lines go nowhere (under
    // ASan a use of the freed peer would show here).
    out1.clear();
    out2.clear();
    feed(s1, f.config, out1, "set=1\npublic_key=" + c + "\n");
    feed(s2, second, out2, "set=1\nreplace_peers=true\n\n");
    feed(s1, f.config, out1, "allowed_ip=10.52.0.0/16\npersistent_keepalive_interval=5\n\n");
    CHECK(out1 == "errno=0\n\n");
    CHECK(f.pair.a.dev().peers().empty());
}

TEST_CASE("uapi set: a scoped endpoint names an interface that exists, as ringtun check wants") {
    // Issue 12: `wg set` writes a link-local endpoint with its scope ("%eth7"); it was refused
    // whatever the scope, where `ringtun check` accepts an existing interface.
    Fixture f;
    const std::string peer = "set=1\npublic_key=" + f.b_key() + "\nendpoint=";
    CHECK(f.request(peer + "[fe80::1%eth7]:51820\n\n") == "errno=0\n\n");
    REQUIRE(f.pair.a.peer->endpoint);
    CHECK(f.pair.a.peer->endpoint->addr.in6.sin6_scope_id == 7);
    // The get reply keeps the scope (by index, which wg reads back and shows by name): without
    // it wg show printed an address no one can reach.
    CHECK(has_line(f.request("get=1\n\n"), "endpoint=[fe80::1%7]:51820"));
    CHECK(f.request(peer + "[fe80::1%3]:51820\n\n") == "errno=0\n\n");
    CHECK(f.pair.a.peer->endpoint->addr.in6.sin6_scope_id == 3);
    // One that does not exist is refused (and logged), and the endpoint stays.
    CHECK(f.request(peer + "[fe80::2%nosuchif]:51820\n\n") == "errno=-22\n\n");
    CHECK(f.pair.a.peer->endpoint->to_string() == "[fe80::1%3]:51820");
}
