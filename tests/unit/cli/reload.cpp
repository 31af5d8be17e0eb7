// SIGHUP's reload against a real device pair (tests/unit/engine/device_harness.hpp): the file
// read again and applied with `wg syncconf` semantics. An unchanged peer keeps its session and
// counters, an added peer handshakes, a removed one is gone; a broken file changes nothing;
// what needs a restart is named.
#include "daemon/cli/reload.hpp"

#include <doctest/doctest.h>

#include <string>

#include "crypto/keys.hpp"
#include "crypto/x25519.hpp"
#include "tests/unit/conf/temp_dir.hpp"
#include "tests/unit/engine/device_harness.hpp"

using namespace ringtun;
using namespace ringtun::test;
using ringtun::conf::test::TempDir;
using namespace ringtun::daemon;

namespace {

struct NoSockets final : control::SocketSettings {
    std::uint16_t listen_port() const noexcept override { return 51820; }
    control::UapiError set_listen_port(std::uint16_t) override { return control::UapiError::none; }
    std::uint32_t fwmark() const noexcept override { return 0; }
    control::UapiError set_fwmark(std::uint32_t) override { return control::UapiError::none; }
    void forget_peer(Peer&) noexcept override {}
    bool dials(const Peer&) const noexcept override { return false; }
    control::UapiError redial(const Peer&, const Endpoint&) override {
        return control::UapiError::none;
    }
    std::uint32_t interface_index(std::string_view) const override { return 0; }
};

std::string b64(std::span<const std::uint8_t, 32> key) {
    return crypto::key_to_base64(key);
}

// A's configuration: B as a peer, plus `extra` TOML appended.
std::string a_config(DevicePair& p, const std::string& extra = "") {
    return "[interface]\nname = \"rt0\"\nprivate_key = \"" + b64(p.a.key.span()) +
           "\"\nlisten_port = 51820\n\n[[peer]]\npublic_key = \"" +
           b64(p.b.dev().identity().public_key.span()) +
           "\"\nendpoint = \"10.99.0.2:51820\"\nallowed_ips = [\"10.100.0.2/32\", "
           "\"fd00::2/128\"]\n" +
           extra;
}

struct Fixture {
    TempDir dir;
    DevicePair pair;
    NoSockets sockets;
    control::DeviceConfig config{pair.a.dev(), sockets};
    std::string path = dir.write("rt0.toml", a_config(pair));
    Settings started = load_settings(path).value();
    EndpointNames names;
    Reloader reload{path, started, pair.a.dev(), {.names = &names}};
};

}  // namespace

TEST_CASE("reload: the same file keeps the session; an added peer comes, a removed one goes") {
    Fixture f;
    f.pair.establish();
    const std::uint32_t index = f.pair.a.peer->current->local_index();
    const std::uint64_t rx = f.pair.a.peer->rx_bytes;
    CHECK_FALSE(f.reload(f.config, f.pair.now));  // applied
    REQUIRE(f.pair.a.dev().peers().size() == 1);
    CHECK(f.pair.a.peer->current->local_index() == index);  // the session survived
    CHECK(f.pair.a.peer->rx_bytes == rx);

    TestRng r(3);
    const auto c = crypto::derive_public_key(crypto::generate_private_key(r));
    f.dir.write("rt0.toml", a_config(f.pair, "\n[[peer]]\npublic_key = \"" + b64(c.span()) +
                                                 "\"\nallowed_ips = [\"10.100.0.3/32\"]\n"));
    f.reload(f.config, f.pair.now);
    CHECK(f.pair.a.dev().peers().size() == 2);
    CHECK(f.pair.a.dev().find_peer(c) != nullptr);
    CHECK(f.pair.a.peer->current->local_index() == index);
    CHECK(f.pair.send_tun(f.pair.a, a_to_b(1)));  // B still reached through the old session
    f.pair.deliver_all();
    CHECK_FALSE(f.pair.b.tun.empty());

    f.dir.write("rt0.toml", a_config(f.pair));
    f.reload(f.config, f.pair.now);
    CHECK(f.pair.a.dev().find_peer(c) == nullptr);
    CHECK(f.pair.a.dev().peers().size() == 1);
}

TEST_CASE("reload: a broken file changes nothing") {
    Fixture f;
    f.pair.establish();
    f.dir.write("rt0.toml", "[interface]\nprivate_key = \"short\"\n");
    auto error = f.reload(f.config, f.pair.now);
    REQUIRE(error);
    CHECK(error->starts_with(f.path + ":2:15: interface.private_key: "));
    f.dir.write("rt0.toml", "not toml at all [");
    error = f.reload(f.config, f.pair.now);
    REQUIRE(error);
    CHECK(error->starts_with(f.path + ":1:"));
    REQUIRE(f.pair.a.dev().peers().size() == 1);
    CHECK(f.pair.a.peer->current);
    CHECK(f.pair.a.dev().identity().private_key == f.pair.a.key);
}

TEST_CASE("reload: what needs a restart is named; peers and the listen port are not") {
    Fixture f;
    Settings fresh = f.started;
    CHECK(restart_only_changes(f.started, fresh).empty());
    fresh.listen_port = 7;
    fresh.peers.clear();
    CHECK(restart_only_changes(f.started, fresh).empty());
    fresh.mtu = 1280;
    fresh.interface_name = "rt1";
    fresh.ring.tx_slots = 64;
    fresh.listen_tcp_port = 443;
    const auto changes = restart_only_changes(f.started, fresh);
    CHECK(changes == std::vector<std::string>{"interface.name", "interface.mtu",
                                              "interface.listen_tcp_port", "peer.transport (TCP)",
                                              "[ring]"});
}

TEST_CASE("reload: a TCP peer's endpoint waits for a restart where no TCP transport runs") {
    Fixture f;
    Settings s = f.started;
    s.peers[0].endpoint->tcp = true;
    CHECK_FALSE(wanted_device(s, false).peers[0].endpoint);
    REQUIRE(wanted_device(s, true).peers[0].endpoint);
    CHECK(wanted_device(s, true).peers[0].endpoint->tcp);
    CHECK(wanted_device(s, true).listen_port == 51820);
}

TEST_CASE("reload: an endpoint named by host name is not looked up; the running one stays") {
    Fixture f;
    f.pair.establish();
    const Endpoint before = *f.pair.a.peer->endpoint;
    // A name no resolver knows: looking it up would fail the reload (and block the loop
    // meanwhile); a reload does not look it up at all.
    std::string text = a_config(f.pair);
    const std::string numeric = "endpoint = \"10.99.0.2:51820\"";
    text.replace(text.find(numeric), numeric.size(), "endpoint = \"peer.invalid:51820\"");
    f.dir.write("rt0.toml", text);
    CHECK_FALSE(f.reload(f.config, f.pair.now));  // applied
    REQUIRE(f.pair.a.peer->endpoint);
    CHECK(f.pair.a.peer->endpoint->same_address(before));
    CHECK(f.pair.a.peer->current);  // the session kept
    // The name is looked up off the loop, at once: a changed name for a running peer.
    const auto due = f.names.due(f.pair.a.dev(), f.pair.now);
    REQUIRE(due.size() == 1);
    CHECK(due[0].peer == f.pair.a.peer->public_key());
    CHECK(due[0].name == "peer.invalid:51820");
    // Back to an address: the name is forgotten once its lookup is answered.
    f.dir.write("rt0.toml", a_config(f.pair));
    CHECK_FALSE(f.reload(f.config, f.pair.now));
    const NameAnswer late{due[0].peer, due[0].name, Resolved{std::nullopt, "no such name"}};
    CHECK_FALSE(f.names.answered(f.pair.a.dev(), late, f.pair.now));
    CHECK(f.names.size() == 0);
}
