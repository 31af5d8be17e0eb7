// conf::load on valid configs: every value of the documented example, and the defaults.
#include <arpa/inet.h>
#include <doctest/doctest.h>

#include "conf/load.hpp"
#include "temp_dir.hpp"

namespace ringtun::conf {
namespace {

constexpr std::string_view full_example = R"(# the documented example
[interface]
name = "wg-test1"
private_key = "cHJpdmF0ZS1rZXktZm9yLXVuaXQtdGVzdHMtb25seSE="
listen_port = 51820
listen_tcp_port = 51821
address = ["10.100.0.1/24", "fd00::1/64"]
mtu = 1420

[ring]
backend = "epoll"
entries = 1024
tun_read = "multishot"
tun_rx_slots = 8
udp_rx_slots = 32
tx_slots = 512
tun_blocking = false
sqpoll_idle_ms = 0
tcp_rx_buffers = 16
tcp_max_connections = 256

[metrics]
listen = "[::1]:9586"

[[peer]]
public_key = "cGVlci1vbmUtcHVibGljLWtleS1mb3ItdGVzdHMtMzI="
endpoint = "10.99.0.2:51820"
allowed_ips = ["10.100.0.2/32", "10.1.2.3/24", "fd00::abcd:1/100"]
persistent_keepalive = 25
transport = "udp"

[[peer]]
public_key = "cGVlci10d28tcHVibGljLWtleS1mb3ItdGVzdHMtMzI="
preshared_key = "cHJlc2hhcmVkLWtleS1mb3ItdW5pdC10ZXN0cy0xMjM="
endpoint = "[fd00::2]:443"
transport = "tcp"
)";

Config load_ok(const std::string& path) {
    auto result = load(path);
    if (const auto* e = std::get_if<Error>(&result)) FAIL("unexpected error: " << e->to_string());
    return std::move(std::get<Config>(result));
}

std::string prefixes(const std::vector<Prefix>& list) {
    std::string out;
    for (const auto& p : list) {
        if (!out.empty()) out += ' ';
        out += p.to_string();
    }
    return out;
}

TEST_CASE("conf: the documented example loads with every value") {
    test::TempDir dir;
    const std::string path = dir.write("rt.toml", full_example);
    const Config c = load_ok(path);

    CHECK(c.interface.name == "wg-test1");
    CHECK(c.interface.private_key.base64.view() == "cHJpdmF0ZS1rZXktZm9yLXVuaXQtdGVzdHMtb25seSE=");
    CHECK(c.interface.private_key.source_file.empty());
    CHECK(c.interface.private_key.field == "interface.private_key");
    CHECK(c.interface.private_key.where.file == path);
    CHECK(c.interface.private_key.where.line == 4);
    CHECK(c.interface.private_key.where.column == 15);
    CHECK(c.interface.listen_port == std::optional<std::uint16_t>(51820));
    CHECK(c.interface.listen_tcp_port == std::optional<std::uint16_t>(51821));
    CHECK(prefixes(c.interface.addresses) == "10.100.0.1/24 fd00::1/64");  // host bits kept
    CHECK(c.interface.mtu == 1420);

    CHECK(c.ring.backend == Backend::epoll);
    CHECK(c.ring.entries == std::optional<std::uint32_t>(1024));
    CHECK(c.ring.tun_read == std::optional<TunRead>(TunRead::multishot));
    CHECK(c.ring.tun_rx_slots == std::optional<std::uint32_t>(8));
    CHECK(c.ring.udp_rx_slots == std::optional<std::uint32_t>(32));
    CHECK(c.ring.tx_slots == std::optional<std::uint32_t>(512));
    CHECK(c.ring.tun_blocking == std::optional<bool>(false));
    CHECK(c.ring.sqpoll_idle_ms == 0);
    CHECK(c.ring.tcp_rx_buffers == std::optional<std::uint32_t>(16));
    CHECK(c.ring.tcp_max_connections == std::optional<std::uint32_t>(256));

    REQUIRE(c.peers.size() == 2);
    const Peer& p1 = c.peers[0];
    CHECK(p1.name == "peer[1]");
    CHECK(p1.where.line == 25);
    CHECK(p1.public_key.base64 == "cGVlci1vbmUtcHVibGljLWtleS1mb3ItdGVzdHMtMzI=");
    CHECK(p1.public_key.field == "peer[1].public_key");
    CHECK(p1.public_key.where.line == 26);
    CHECK_FALSE(p1.preshared_key.has_value());
    REQUIRE(p1.endpoint.has_value());
    CHECK(p1.endpoint->to_string() == "10.99.0.2:51820");
    CHECK(p1.endpoint->len == sizeof(sockaddr_in));
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&p1.endpoint->addr);
    CHECK(sin->sin_family == AF_INET);
    CHECK(ntohs(sin->sin_port) == 51820);
    CHECK(ntohl(sin->sin_addr.s_addr) == 0x0a630002u);
    CHECK(prefixes(p1.allowed_ips) == "10.100.0.2/32 10.1.2.0/24 fd00::a000:0/100");
    CHECK(p1.persistent_keepalive == 25);
    CHECK(p1.transport == Transport::udp);

    const Peer& p2 = c.peers[1];
    CHECK(p2.name == "peer[2]");
    REQUIRE(p2.preshared_key.has_value());
    CHECK(p2.preshared_key->base64.view() == "cHJlc2hhcmVkLWtleS1mb3ItdW5pdC10ZXN0cy0xMjM=");
    CHECK(p2.preshared_key->field == "peer[2].preshared_key");
    REQUIRE(p2.endpoint.has_value());
    CHECK(p2.endpoint->to_string() == "[fd00::2]:443");
    CHECK(p2.endpoint->len == sizeof(sockaddr_in6));
    CHECK(p2.endpoint->addr.ss_family == AF_INET6);
    CHECK(p2.allowed_ips.empty());
    CHECK(p2.persistent_keepalive == 0);
    CHECK(p2.transport == Transport::tcp);

    REQUIRE(c.metrics.listen.has_value());
    CHECK(c.metrics.listen->to_string() == "[::1]:9586");
}

TEST_CASE("conf: absent keys take their defaults") {
    test::TempDir dir;
    const Config c = load_ok(dir.write("rt.toml", R"(
[interface]
private_key = "a2V5"

[[peer]]
public_key = "cHVi"
)"));
    CHECK(c.interface.name == "rt0");
    CHECK(c.interface.mtu == 1420);
    CHECK_FALSE(c.interface.listen_port.has_value());
    CHECK_FALSE(c.interface.listen_tcp_port.has_value());
    CHECK(c.interface.addresses.empty());
    CHECK_FALSE(c.interface.user.has_value());

    CHECK_FALSE(c.ring.entries.has_value());
    CHECK_FALSE(c.ring.tun_read.has_value());
    CHECK_FALSE(c.ring.tun_rx_slots.has_value());
    CHECK_FALSE(c.ring.udp_rx_slots.has_value());
    CHECK_FALSE(c.ring.tx_slots.has_value());
    CHECK_FALSE(c.ring.tun_blocking.has_value());
    CHECK(c.ring.sqpoll_idle_ms == 0);
    CHECK_FALSE(c.ring.tcp_rx_buffers.has_value());
    CHECK_FALSE(c.ring.tcp_max_connections.has_value());
    CHECK(c.offload.tun_tso == Offload::automatic);
    CHECK(c.offload.tun_uso == Offload::automatic);
    CHECK(c.offload.tun_gro == Offload::automatic);
    CHECK(c.offload.udp_gso == Offload::automatic);
    CHECK(c.offload.udp_gro == Offload::automatic);
    CHECK(c.offload.tun_gro_verify);  // as wireguard-go
    CHECK_FALSE(c.metrics.listen.has_value());
    CHECK(c.ring.backend == Backend::automatic);

    REQUIRE(c.peers.size() == 1);
    CHECK_FALSE(c.peers[0].endpoint.has_value());
    CHECK_FALSE(c.peers[0].preshared_key.has_value());
    CHECK(c.peers[0].allowed_ips.empty());
    CHECK(c.peers[0].persistent_keepalive == 0);
    CHECK(c.peers[0].transport == Transport::udp);
}

TEST_CASE("conf: a config with no peers and the other ring choices") {
    test::TempDir dir;
    const Config c = load_ok(dir.write("rt.toml", R"(
interface.private_key = "a2V5"
interface.mtu = 576
interface.user = "ringtun"
ring = { tun_read = "slots", tun_blocking = true, sqpoll_idle_ms = 60000, entries = 8 }
offload = { tun_tso = "off", tun_uso = "on", tun_gro = "auto", udp_gso = "off", udp_gro = "on", tun_gro_checksums = "trust" }
)"));
    CHECK_FALSE(c.offload.tun_gro_verify);
    CHECK(c.offload.tun_tso == Offload::off);
    CHECK(c.offload.tun_uso == Offload::on);
    CHECK(c.offload.tun_gro == Offload::automatic);
    CHECK(c.offload.udp_gso == Offload::off);
    CHECK(c.offload.udp_gro == Offload::on);
    CHECK(c.peers.empty());
    CHECK(c.interface.mtu == 576);  // allowed without IPv6 addresses
    REQUIRE(c.interface.user.has_value());
    CHECK(c.interface.user->name == "ringtun");  // looked up by the daemon, not here
    CHECK(c.interface.user->field == "interface.user");
    CHECK(c.interface.user->where.line == 4);
    CHECK(c.ring.tun_read == std::optional<TunRead>(TunRead::slots));
    CHECK(c.ring.tun_blocking == std::optional<bool>(true));
    CHECK(c.ring.sqpoll_idle_ms == 60000);
    CHECK(c.ring.entries == std::optional<std::uint32_t>(8));
}

TEST_CASE("conf: format_error leaves out what is unknown") {
    CHECK(format_error({"a.toml", 3, 7}, "interface.mtu", "bad") ==
          "a.toml:3:7: interface.mtu: bad");
    CHECK(format_error({"a.toml", 3, 0}, "x", "bad") == "a.toml:3: x: bad");
    CHECK(format_error({"a.toml"}, "", "cannot open: No such file or directory") ==
          "a.toml: cannot open: No such file or directory");
    Error error;
    error.where = Location{"k.toml", 1, 2};
    error.field = "peer[1].public_key";
    error.message = "required";
    CHECK(error.to_string() == "k.toml:1:2: peer[1].public_key: required");
}

}  // namespace
}  // namespace ringtun::conf
