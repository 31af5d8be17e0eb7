// conf::load error messages, exactly as the user sees them: one numbered case per problem.
// "CONF" in an expected message stands for the config file's path.
#include <doctest/doctest.h>
#include <unistd.h>

#include "conf/load.hpp"
#include "temp_dir.hpp"

namespace ringtun::conf {
namespace {

std::string error_of(const std::string& path) {
    auto result = load(path);
    if (const auto* e = std::get_if<Error>(&result)) return e->to_string();
    return "(loaded without error)";
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
        s.replace(at, from.size(), to);
    }
    return s;
}

struct Case {
    int id;
    std::string_view toml;
    std::string_view expected;
};

// Lines that make a config valid up to the point a case breaks it.
#define IFACE "[interface]\nprivate_key = \"a2V5\"\n"
#define PEER "[[peer]]\npublic_key = \"cHVi\"\n"

const Case cases[] = {
    // Syntax errors carry toml++'s own description and position.
    {1, "[interface\nname = 1\n",
     "CONF:1:11: Error while parsing table header: expected ']', saw '\\n'"},
    {2, "a = 1\na = 2\n",
     "CONF:2:5: Error while parsing key-value pair: cannot redefine existing integer 'a'"},
    // Unknown tables and keys, at every level.
    {10, "mtu = 1420\n", "CONF:1:1: mtu: unknown key"},
    {11, "[interfaces]\n", "CONF:1:2: interfaces: unknown table"},
    {12, IFACE "mtuu = 1420\n", "CONF:3:1: interface.mtuu: unknown key"},
    {13, IFACE "[interface.extra]\n", "CONF:3:12: interface.extra: unknown table"},
    {14, IFACE "[ring]\nentrys = 8\n", "CONF:4:1: ring.entrys: unknown key"},
    {15, IFACE PEER PEER "endpiont = \"1.2.3.4:5\"\n", "CONF:7:1: peer[2].endpiont: unknown key"},
    // Wrong types.
    {20, IFACE "mtu = \"1420\"\n", "CONF:3:7: interface.mtu: expected an integer"},
    {21, IFACE "mtu = 1420.0\n", "CONF:3:7: interface.mtu: expected an integer"},
    {22, IFACE "name = 7\n", "CONF:3:8: interface.name: expected a string"},
    {23, IFACE "address = \"10.0.0.1/24\"\n",
     "CONF:3:11: interface.address: expected an array of strings"},
    {24, IFACE "address = [\"10.0.0.1/24\", 5]\n",
     "CONF:3:27: interface.address[1]: expected a string"},
    {25, IFACE "[ring]\ntun_blocking = 1\n", "CONF:4:16: ring.tun_blocking: expected a boolean"},
    {26, "interface = 1\n", "CONF:1:13: interface: expected a table ([interface])"},
    {27, "ring = []\n" IFACE, "CONF:1:8: ring: expected a table ([ring])"},
    {28, IFACE "[peer]\npublic_key = \"cHVi\"\n", "CONF:3:1: peer: expected [[peer]] tables"},
    {29, "peer = [1]\n" IFACE, "CONF:1:8: peer: expected [[peer]] tables"},
    {30, IFACE "private_key_file = 5\n",
     "CONF:3:20: interface.private_key_file: expected a string"},
    // Out of range.
    {40, IFACE "mtu = 575\n", "CONF:3:7: interface.mtu: 575 is out of range (576..65472)"},
    {41, IFACE "mtu = 65536\n", "CONF:3:7: interface.mtu: 65536 is out of range (576..65472)"},
    {42, IFACE "listen_port = 0\n",
     "CONF:3:15: interface.listen_port: 0 is out of range (1..65535)"},
    {43, IFACE "listen_tcp_port = 65536\n",
     "CONF:3:19: interface.listen_tcp_port: 65536 is out of range (1..65535)"},
    {44, IFACE "[ring]\nentries = 4\n", "CONF:4:11: ring.entries: 4 is out of range (8..32768)"},
    {45, IFACE "[ring]\ntun_rx_slots = 4097\n",
     "CONF:4:16: ring.tun_rx_slots: 4097 is out of range (1..4096)"},
    {46, IFACE "[ring]\nudp_rx_slots = 0\n",
     "CONF:4:16: ring.udp_rx_slots: 0 is out of range (1..4096)"},
    {47, IFACE "[ring]\ntx_slots = 32769\n",
     "CONF:4:12: ring.tx_slots: 32769 is out of range (1..32768)"},
    {48, IFACE "[ring]\nsqpoll_idle_ms = 60001\n",
     "CONF:4:18: ring.sqpoll_idle_ms: 60001 is out of range (0..60000)"},
    {49, IFACE "[ring]\ntcp_rx_buffers = 1025\n",
     "CONF:4:18: ring.tcp_rx_buffers: 1025 is out of range (1..1024)"},
    {50, IFACE "[ring]\ntcp_max_connections = 65537\n",
     "CONF:4:23: ring.tcp_max_connections: 65537 is out of range (1..65536)"},
    {51, IFACE PEER "persistent_keepalive = -1\n",
     "CONF:5:24: peer[1].persistent_keepalive: -1 is out of range (0..65535)"},
    {52, IFACE "[ring]\nentries = 1000\n",
     "CONF:4:11: ring.entries: 1000 is not a power of two (8, 16, ..., 32768)"},
    // Required keys and pairs.
    {60, "", "CONF: interface: one of private_key or private_key_file is required"},
    {61, "\n[interface]\nname = \"rt1\"\n",
     "CONF:2:1: interface: one of private_key or private_key_file is required"},
    {62, IFACE "private_key_file = \"rt0.key\"\n",
     "CONF:3:20: interface.private_key_file: give either private_key or private_key_file, not "
     "both"},
    {63, IFACE "[[peer]]\nendpoint = \"1.2.3.4:5\"\n", "CONF:3:1: peer[1].public_key: required"},
    {64, IFACE PEER "preshared_key = \"cHNr\"\npreshared_key_file = \"psk\"\n",
     "CONF:6:22: peer[1].preshared_key_file: give either preshared_key or preshared_key_file, "
     "not both"},
    {65, IFACE PEER "[[peer]]\npublic_key = \"\"\n",
     "CONF:6:14: peer[2].public_key: the key is empty"},
    {66, "[interface]\nprivate_key = \"\"\n", "CONF:2:15: interface.private_key: the key is empty"},
    // Names, prefixes and addresses.
    {70, IFACE "name = \"abcdefghijklmnop\"\n",
     "CONF:3:8: interface.name: \"abcdefghijklmnop\" is not a valid interface name: 16 bytes "
     "long; at most 15 fit"},
    {69, IFACE "name = \"rt%d\"\n",
     "CONF:3:8: interface.name: \"rt%d\" is not a valid interface name: '%' is not allowed (the "
     "kernel would read the name as a template, as \"rt%d\" for the first free rt0, rt1, ...; "
     "write the exact name)"},
    {71, IFACE "address = [\"10.0.0/24\"]\n",
     "CONF:3:12: interface.address[0]: \"10.0.0\" is not an IPv4 or IPv6 address"},
    {72, IFACE "address = [\"10.0.0.1/33\"]\n",
     "CONF:3:12: interface.address[0]: prefix length 33 is out of range for IPv4 (0..32)"},
    {73, IFACE "address = [\"fd00::1/129\"]\n",
     "CONF:3:12: interface.address[0]: prefix length 129 is out of range for IPv6 (0..128)"},
    {74, IFACE "address = [\"10.0.0.1/\"]\n",
     "CONF:3:12: interface.address[0]: prefix length \"\" is not a number"},
    {75, IFACE PEER "allowed_ips = [\"10.0.0.0/8\", \"10.0.0.0/-8\"]\n",
     "CONF:5:30: peer[1].allowed_ips[1]: prefix length \"-8\" is not a number"},
    {76, IFACE PEER "allowed_ips = [\"10.0.0.256/32\"]\n",
     "CONF:5:16: peer[1].allowed_ips[0]: \"10.0.0.256\" is not an IPv4 or IPv6 address"},
    {77, IFACE "address = [\"10.0.0.1/24\", \"fd00::1/64\"]\nmtu = 1279\n",
     "CONF:4:7: interface.mtu: 1279 is below 1280, the minimum for IPv6 (interface.address[1] "
     "is IPv6)"},
    // Endpoints.
    {80, IFACE PEER "endpoint = \"10.99.0.2\"\n",
     "CONF:5:12: peer[1].endpoint: \"10.99.0.2\" has no port (expected HOST:PORT)"},
    {81, IFACE PEER "endpoint = \"10.99.0.2:0\"\n",
     "CONF:5:12: peer[1].endpoint: port 0 is out of range (1..65535)"},
    {82, IFACE PEER "endpoint = \"10.99.0.2:65536\"\n",
     "CONF:5:12: peer[1].endpoint: port 65536 is out of range (1..65535)"},
    {83, IFACE PEER "endpoint = \"10.99.0.2:http\"\n",
     "CONF:5:12: peer[1].endpoint: port \"http\" is not a number"},
    {84, IFACE PEER "endpoint = \"fd00::2:51820\"\n",
     "CONF:5:12: peer[1].endpoint: \"fd00::2:51820\": write an IPv6 endpoint in brackets, as "
     "\"[ADDRESS]:PORT\""},
    {85, IFACE PEER "endpoint = \"[fd00::2]\"\n",
     "CONF:5:12: peer[1].endpoint: \"[fd00::2]\" has no port (expected HOST:PORT)"},
    {86, IFACE PEER "endpoint = \"[fd00::2:51820\"\n",
     "CONF:5:12: peer[1].endpoint: \"[fd00::2:51820\" is missing the closing ']'"},
    {87, IFACE PEER "endpoint = \":51820\"\n",
     "CONF:5:12: peer[1].endpoint: \":51820\" has no host (expected HOST:PORT)"},
    {88, IFACE PEER "endpoint = \"10.0.300.1:51820\"\n",
     "CONF:5:12: peer[1].endpoint: \"10.0.300.1\" is not an IPv4 address"},
    {89, IFACE PEER "endpoint = \"[10.0.0.1]:51820\"\n",
     "CONF:5:12: peer[1].endpoint: \"[10.0.0.1]:51820\": only IPv6 addresses go in brackets, as "
     "\"[ADDRESS]:PORT\""},
    {90, IFACE PEER "endpoint = \"[example.com]:51820\"\n",
     "CONF:5:12: peer[1].endpoint: \"example.com\" is not an IPv6 address"},
    // An empty label makes glibc fail before any DNS query, so this needs no network.
    {91, IFACE PEER "endpoint = \"nonexistent..invalid:51820\"\n",
     "CONF:5:12: peer[1].endpoint: cannot resolve \"nonexistent..invalid\": Name or service not "
     "known"},
    // Choices.
    {100, IFACE "[ring]\ntun_read = \"multi\"\n",
     "CONF:4:12: ring.tun_read: expected \"multishot\" or \"slots\""},
    {101, IFACE "[ring]\ntun_read = 1\n",
     "CONF:4:12: ring.tun_read: expected \"multishot\" or \"slots\""},
    {102, IFACE PEER "transport = \"quic\"\n",
     "CONF:5:13: peer[1].transport: expected \"udp\" or \"tcp\""},
    {103, IFACE "[offload]\ntun_tso = \"yes\"\n",
     "CONF:4:11: offload.tun_tso: expected \"auto\", \"on\" or \"off\""},
    {104, IFACE "[offload]\nudp_gro = false\n",
     "CONF:4:11: offload.udp_gro: expected \"auto\", \"on\" or \"off\""},
    {105, IFACE "[offload]\ntso = \"off\"\n", "CONF:4:1: offload.tso: unknown key"},
    {106, "offload = \"off\"\n" IFACE, "CONF:1:11: offload: expected a table ([offload])"},
    {107, IFACE "[offload]\ntun_gro_checksums = \"check\"\n",
     "CONF:4:21: offload.tun_gro_checksums: expected \"trust\" or \"verify\""},
    {108, IFACE "[offload]\ntun_gro = \"off\"\ntun_gro_checksums = \"verify\"\n",
     "CONF:5:21: offload.tun_gro_checksums: has no effect with tun_gro = \"off\"; remove one of "
     "them"},
    // Duplicates point at the second occurrence.
    {110, IFACE PEER "[[peer]]\npublic_key = \"b3RoZXI=\"\n" PEER,
     "CONF:8:14: peer[3].public_key: the same public key as peer[1] (line 4)"},
    {109, IFACE "[ring]\nbackend = \"kqueue\"\n",
     "CONF:4:11: ring.backend: expected \"auto\", \"io_uring\" or \"epoll\""},
    // [metrics]: an address to bind, never a name.
    {120, IFACE "[metrics]\n",
     "CONF:3:1: metrics: needs listen = \"ADDRESS:PORT\" (e.g. "
     "\"127.0.0.1:9586\")"},
    {121, IFACE "[metrics]\nlisten = \"localhost:9586\"\n",
     "CONF:4:10: metrics.listen: expected an address (\"127.0.0.1:9586\", \"[::1]:9586\"), not a "
     "host name"},
    {122, IFACE "[metrics]\nlisten = \"127.0.0.1\"\n",
     "CONF:4:10: metrics.listen: \"127.0.0.1\" has no port (expected HOST:PORT)"},
    {123, IFACE "[metrics]\nport = 9586\n", "CONF:4:1: metrics.port: unknown key"},
    {124, "metrics = 1\n" IFACE, "CONF:1:11: metrics: expected a table ([metrics])"},
    // user: a name (looked up by the daemon), not a number or anything with a separator.
    {130, IFACE "user = 998\n", "CONF:3:8: interface.user: expected a string"},
    {131, IFACE "user = \"\"\n",
     "CONF:3:8: interface.user: expected a user name, e.g. \"ringtun\""},
    {132, IFACE "user = \"998\"\n",
     "CONF:3:8: interface.user: expected a user name, e.g. \"ringtun\""},
    {133, IFACE "user = \"ring tun\"\n",
     "CONF:3:8: interface.user: expected a user name, e.g. \"ringtun\""},
};
#undef IFACE
#undef PEER

TEST_CASE("conf: each problem has its exact message") {
    test::TempDir dir;
    for (const Case& c : cases) {
        CAPTURE(c.id);
        const std::string path = dir.write("rt" + std::to_string(c.id) + ".toml", c.toml);
        CHECK(error_of(path) == replace_all(std::string(c.expected), "CONF", path));
    }
}

// The largest data message, 32 bytes of header and tag around the MTU rounded up to 16, must
// fit one IPv4 UDP datagram (65507 bytes) and so also a TCP frame's 2-byte length.
TEST_CASE("conf: mtu is at most 65472, so a full-size data message fits a UDP datagram") {
    test::TempDir dir;
    const std::string iface = "[interface]\nprivate_key = \"a2V5\"\n";
    const std::string ok = dir.write("max.toml", iface + "mtu = 65472\n");
    CHECK(error_of(ok) == "(loaded without error)");
    const std::string over = dir.write("over.toml", iface + "mtu = 65473\n");
    CHECK(error_of(over) == over + ":3:7: interface.mtu: 65473 is out of range (576..65472)");
}

TEST_CASE("conf: a config file that cannot be read") {
    test::TempDir dir;
    const std::string missing = dir.file("missing.toml");
    CHECK(error_of(missing) == missing + ": cannot open: No such file or directory");
    CHECK(error_of(dir.path()) == dir.path() + ": not a regular file");
    const std::string huge = dir.write("huge.toml", std::string((64 << 20) + 1, '#'));
    CHECK(error_of(huge) ==
          huge + ": larger than ringtun's limit of 64 MiB for a configuration file");
    if (geteuid() != 0) {  // root reads mode-000 files anyway
        const std::string locked = dir.write("locked.toml", "[interface]\n", 0000);
        CHECK(error_of(locked) == locked + ": cannot open: Permission denied");
    }
}

TEST_CASE("conf: table is \"auto\", \"off\" or a table number") {
    test::TempDir dir;
    const std::string key = "private_key = \"yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\"\n";
    auto table_of = [&](const std::string& value) -> std::optional<std::uint32_t> {
        const std::string path =
            dir.write("t.toml", "[interface]\n" + key + "table = " + value + "\n");
        auto result = load(path);
        REQUIRE(std::holds_alternative<Config>(result));
        return std::get<Config>(result).interface.table;
    };
    CHECK(table_of("\"auto\"") == std::nullopt);
    CHECK(table_of("\"off\"") == 0u);
    CHECK(table_of("1234") == 1234u);
    const std::string bad = dir.write("bad.toml", "[interface]\n" + key + "table = \"main\"\n");
    CHECK(error_of(bad) == bad +
                               ":3:9: interface.table: expected \"auto\", \"off\" or a routing "
                               "table number 1..4294967295");
    const std::string zero = dir.write("zero.toml", "[interface]\n" + key + "table = 0\n");
    CHECK(error_of(zero).find("interface.table") != std::string::npos);
}

TEST_CASE("conf: a wg-quick file is recognised and the way to run it named") {
    test::TempDir dir;
    const std::string ini = dir.write("wg0.conf",
                                      "# from wg-quick\n\n  [Interface]\nPrivateKey = "
                                      "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n"
                                      "Address = 10.0.0.1/24\n");
    CHECK(error_of(ini) ==
          ini +
              ":3:1: this is a wg-quick configuration (INI), not ringtun's TOML; "
              "run it with `WG_QUICK_USERSPACE_IMPLEMENTATION=ringtun wg-quick up " +
              ini + "`, or write its TOML equivalent (README: Configuration)");
    // A TOML file that merely mentions it in a comment or a string is TOML.
    const std::string toml = dir.write("rt0.toml", "# not [Interface]\n[interface]\n");
    CHECK(error_of(toml).find("wg-quick") == std::string::npos);
}

}  // namespace
}  // namespace ringtun::conf
