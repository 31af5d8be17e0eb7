// The UAPI set-line parser, line by line: every key of the protocol in its valid forms, and
// the values wireguard-go refuses (with the errno it answers).
#include <doctest/doctest.h>

#include <arpa/inet.h>

#include <string>

#include "daemon/control/uapi_line.hpp"

using namespace ringtun::daemon::control;

namespace {

const std::string key_hex(64, 'a');  // 0xaa × 32

UapiError error_of(std::string_view line, bool in_peer) {
    return parse_set_line(line, in_peer).error;
}

template <typename T>
T command_of(std::string_view line, bool in_peer) {
    ParsedLine p = parse_set_line(line, in_peer);
    REQUIRE(p.error == UapiError::none);
    REQUIRE(std::holds_alternative<T>(p.command));
    return std::get<T>(p.command);
}

}  // namespace

TEST_CASE("device keys") {
    auto pk = command_of<set::PrivateKey>("private_key=" + key_hex, false);
    CHECK(pk.key.data()[0] == 0xaa);
    CHECK(pk.key.data()[31] == 0xaa);
    CHECK(command_of<set::PrivateKey>("private_key=" + std::string(64, '0'), false).key.is_zero());
    CHECK(command_of<set::ListenPort>("listen_port=51820", false).port == 51820);
    CHECK(command_of<set::ListenPort>("listen_port=0", false).port == 0);
    CHECK(command_of<set::Fwmark>("fwmark=4294967295", false).mark == 0xffffffffu);
    command_of<set::ReplacePeers>("replace_peers=true", false);

    CHECK(error_of("listen_port=65536", false) == UapiError::invalid);
    CHECK(error_of("listen_port=-1", false) == UapiError::invalid);
    CHECK(error_of("listen_port= 1", false) == UapiError::invalid);
    CHECK(error_of("listen_port=", false) == UapiError::invalid);
    CHECK(error_of("fwmark=0x10", false) == UapiError::invalid);  // decimal only, as observed
    CHECK(error_of("fwmark=4294967296", false) == UapiError::invalid);
    CHECK(error_of("replace_peers=false", false) == UapiError::invalid);
    CHECK(error_of("private_key=" + key_hex.substr(1), false) == UapiError::invalid);
    CHECK(error_of("private_key=" + key_hex + "a", false) == UapiError::invalid);
    CHECK(error_of("private_key=" + std::string(63, 'a') + "g", false) == UapiError::invalid);
    // protocol_version belongs to a peer; in the device section it is unknown.
    CHECK(error_of("protocol_version=1", false) == UapiError::invalid);
    CHECK(error_of("endpoint=1.2.3.4:5", false) == UapiError::invalid);
    CHECK(error_of("bogus=1", false) == UapiError::invalid);
    CHECK(error_of("noequals", false) == UapiError::protocol);
    CHECK(error_of("", false) == UapiError::protocol);
}

TEST_CASE("public_key starts a peer in either section; upper-case hex is accepted") {
    auto a = command_of<set::PublicKey>("public_key=" + key_hex, false);
    auto b = command_of<set::PublicKey>("public_key=" + std::string(64, 'A'), true);
    CHECK(a.key == b.key);
    CHECK(error_of("public_key=", true) == UapiError::invalid);
}

TEST_CASE("peer keys") {
    command_of<set::Remove>("remove=true", true);
    command_of<set::UpdateOnly>("update_only=true", true);
    command_of<set::ReplaceAllowedIps>("replace_allowed_ips=true", true);
    command_of<set::ProtocolVersion>("protocol_version=1", true);
    CHECK(command_of<set::PresharedKey>("preshared_key=" + key_hex, true).key.data()[5] == 0xaa);
    CHECK(command_of<set::Keepalive>("persistent_keepalive_interval=25", true).seconds == 25);
    CHECK(command_of<set::Keepalive>("persistent_keepalive_interval=0", true).seconds == 0);

    CHECK(error_of("remove=false", true) == UapiError::invalid);
    CHECK(error_of("update_only=1", true) == UapiError::invalid);
    CHECK(error_of("protocol_version=2", true) == UapiError::invalid);
    CHECK(error_of("persistent_keepalive_interval=65536", true) == UapiError::invalid);
    CHECK(error_of("listen_port=1", true) == UapiError::invalid);  // a device key in a peer
    CHECK(error_of("private_key=" + key_hex, true) == UapiError::invalid);
    CHECK(error_of("x", true) == UapiError::protocol);
}

TEST_CASE("endpoint: numeric IPv4, bracketed IPv6, nothing else") {
    auto v4 = command_of<set::PeerEndpoint>("endpoint=192.0.2.1:51820", true).endpoint;
    CHECK(v4.family() == AF_INET);
    CHECK(ntohs(v4.addr.in4.sin_port) == 51820);
    CHECK(v4.to_string() == "192.0.2.1:51820");
    auto v6 = command_of<set::PeerEndpoint>("endpoint=[fd00::1]:1", true).endpoint;
    CHECK(v6.family() == AF_INET6);
    CHECK(v6.to_string() == "[fd00::1]:1");
    for (const char* bad : {"endpoint=fd00::1:1", "endpoint=[192.0.2.1]:1", "endpoint=192.0.2.1",
                            "endpoint=example.com:1", "endpoint=192.0.2.1:65536",
                            "endpoint=192.0.2.1:", "endpoint=[fe80::1%]:1", "endpoint=:1",
                            "endpoint=[]:1", "endpoint=10.1:1", "endpoint=[10.0.0.1%eth0]:1",
                            "endpoint=[fe80::1%abcdefghijklmnop]:1", "endpoint=fe80::1%eth0:1"})
        CHECK_MESSAGE(error_of(bad, true) == UapiError::invalid, bad);
}

TEST_CASE("endpoint: an IPv6 scope, as wg writes a link-local endpoint, is kept to look up") {
    auto e = command_of<set::PeerEndpoint>("endpoint=[fe80::1%eth0]:51820", true);
    CHECK(e.endpoint.to_string() == "[fe80::1]:51820");
    CHECK(e.scope == "eth0");
    CHECK(command_of<set::PeerEndpoint>("endpoint=[fe80::1%2]:1", true).scope == "2");
    CHECK(command_of<set::PeerEndpoint>("endpoint=[fd00::1]:1", true).scope.empty());
}

TEST_CASE("allowed_ip: prefixes of both families, the removal form, and bad prefixes") {
    auto a = command_of<set::AllowedIp>("allowed_ip=10.0.0.0/8", true);
    CHECK(a.family == AF_INET);
    CHECK(a.cidr == 8);
    CHECK(a.addr[0] == 10);
    CHECK_FALSE(a.remove);
    auto b = command_of<set::AllowedIp>("allowed_ip=-fd00::/64", true);
    CHECK(b.family == AF_INET6);
    CHECK(b.cidr == 64);
    CHECK(b.remove);
    CHECK(command_of<set::AllowedIp>("allowed_ip=0.0.0.0/0", true).cidr == 0);
    CHECK(command_of<set::AllowedIp>("allowed_ip=::/0", true).family == AF_INET6);
    CHECK(command_of<set::AllowedIp>("allowed_ip=::1/128", true).cidr == 128);
    for (const char* bad :
         {"allowed_ip=10.0.0.0/33", "allowed_ip=10.0.0.0", "allowed_ip=/8", "allowed_ip=fd00::/129",
          "allowed_ip=10.0.0.0/", "allowed_ip=--10.0.0.0/8", "allowed_ip=10.0.0.0/+8",
          "allowed_ip=10.0.0.0/8 "})
        CHECK_MESSAGE(error_of(bad, true) == UapiError::invalid, bad);
}

TEST_CASE("hex keys round-trip") {
    std::uint8_t key[32];
    for (int i = 0; i < 32; ++i)
        key[i] = static_cast<std::uint8_t>(i * 37);
    char hex[64];
    key_to_hex(key, hex);
    std::uint8_t back[32];
    REQUIRE(hex_to_key(std::string_view(hex, 64), back));
    CHECK(std::equal(key, key + 32, back));
    CHECK(std::string_view(hex, 4) == "0025");
}
