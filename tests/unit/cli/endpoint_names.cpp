// When endpoint names are looked up, and what an answer changes, on a real device (A of a
// DevicePair, whose peer is B) and a clock the test moves: no thread, no lookup.
#include "daemon/cli/endpoint_names.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>

#include "tests/unit/engine/device_harness.hpp"

using namespace ringtun;
using namespace ringtun::test;
using namespace ringtun::daemon;

namespace {

constexpr const char* kName = "peer-b.ringtun.test:51820";

Endpoint v4(const char* address, std::uint16_t port) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    inet_pton(AF_INET, address, &sin.sin_addr);
    return Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&sin), sizeof sin);
}

struct Fixture {
    DevicePair pair;
    EndpointNames names;
    Peer& b = *pair.a.peer;

    explicit Fixture(const std::string& name = kName, bool tcp = false, bool tcp_running = false) {
        configure(name, tcp, tcp_running);
    }
    void configure(const std::string& name, bool tcp = false, bool tcp_running = false) {
        PeerSettings p;
        p.public_key = b.public_key();
        p.endpoint_name = name;
        p.transport = tcp ? conf::Transport::tcp : conf::Transport::udp;
        names.configure({p}, tcp_running);
    }
    void advance(Nanos by) {
        pair.now.boot += by;
        pair.now.unix_ns += by;
    }
    std::vector<NameLookup> due() { return names.due(pair.a.dev(), pair.now); }
    std::optional<Endpoint> answer(const std::string& name, std::optional<Endpoint> found) {
        const NameAnswer a{b.public_key(), name,
                           Resolved{found, found ? "" : "Name or service not known"}};
        return names.answered(pair.a.dev(), a, pair.now);
    }
    // Asks and fails once; true if a lookup was due.
    bool ask_and_fail() {
        if (due().size() != 1) return false;
        CHECK_FALSE(answer(kName, std::nullopt));
        return true;
    }
};

}  // namespace

TEST_CASE("endpoint names: a new name is asked at once, never twice in flight") {
    Fixture f;
    const auto asked = f.due();
    REQUIRE(asked.size() == 1);
    CHECK(asked[0].peer == f.b.public_key());
    CHECK(asked[0].name == kName);
    CHECK(f.due().empty());  // in flight
    f.advance(seconds_ns(600));
    CHECK(f.due().empty());  // still in flight, however long it takes
}

TEST_CASE("endpoint names: a peer without endpoint asks every 5 s six times, then every 30 s") {
    Fixture f;
    f.b.endpoint.reset();
    REQUIRE(f.ask_and_fail());  // the first: a new name
    for (unsigned i = 1; i <= EndpointNames::first_retries; ++i) {
        CAPTURE(i);
        f.advance(seconds_ns(5) - 1);
        CHECK(f.due().empty());
        f.advance(1);
        REQUIRE(f.ask_and_fail());
    }
    f.advance(seconds_ns(29));
    CHECK(f.due().empty());
    f.advance(seconds_ns(1));
    REQUIRE(f.ask_and_fail());
    f.advance(seconds_ns(30));
    REQUIRE(f.due().size() == 1);
    // It resolves: the endpoint to set, and the peer then waits no more.
    const auto to = f.answer(kName, v4("10.99.1.2", 51820));
    REQUIRE(to);
    CHECK(to->to_string() == "10.99.1.2:51820");
    f.b.endpoint = *to;
    f.advance(seconds_ns(600));
    CHECK(f.due().empty());  // answering, nothing to ask
}

TEST_CASE("endpoint names: an answer equal to the endpoint changes nothing") {
    Fixture f;
    REQUIRE(f.b.endpoint);
    const Endpoint before = *f.b.endpoint;
    REQUIRE(f.due().size() == 1);
    CHECK_FALSE(f.answer(kName, before));
    REQUIRE(f.due().empty());
    // A different port is a different endpoint.
    f.configure("peer-b.ringtun.test:51821");
    REQUIRE(f.due().size() == 1);  // a changed name is asked at once, endpoint or not
    Endpoint other = before;
    other.addr.in4.sin_port = htons(51821);
    CHECK(f.answer("peer-b.ringtun.test:51821", other));
}

TEST_CASE("endpoint names: unanswered for 15 s, asked; then every 30 s while it lasts") {
    Fixture f;
    REQUIRE(f.due().size() == 1);
    CHECK_FALSE(f.answer(kName, *f.b.endpoint));
    f.advance(seconds_ns(300));
    CHECK(f.due().empty());  // the peer answers: nothing to ask
    f.b.unanswered_since_unix_ns = f.pair.now.unix_ns;
    f.advance(seconds_ns(15) - 1);
    CHECK(f.due().empty());
    f.advance(1);
    REQUIRE(f.due().size() == 1);
    CHECK_FALSE(f.answer(kName, *f.b.endpoint));  // the same address
    f.advance(seconds_ns(30) - 1);
    CHECK(f.due().empty());
    f.advance(1);
    REQUIRE(f.due().size() == 1);
    // A failure keeps the endpoint and the 30 s pace.
    CHECK_FALSE(f.answer(kName, std::nullopt));
    CHECK(f.b.endpoint);
    f.advance(seconds_ns(30));
    REQUIRE(f.due().size() == 1);
    CHECK_FALSE(f.answer(kName, *f.b.endpoint));
    // It answers again; a later stretch is asked for 15 s into it, not 30 s after the last.
    f.b.unanswered_since_unix_ns = 0;
    f.advance(seconds_ns(10));
    CHECK(f.due().empty());
    f.b.unanswered_since_unix_ns = f.pair.now.unix_ns;
    f.advance(seconds_ns(15));
    REQUIRE(f.due().size() == 1);
    const auto to = f.answer(kName, v4("10.99.1.2", 51820));
    REQUIRE(to);
    CHECK(to->to_string() == "10.99.1.2:51820");
}

TEST_CASE("endpoint names: an answer for an old name is dropped; the new one waits for it") {
    Fixture f;
    REQUIRE(f.due().size() == 1);
    f.configure("peer-b2.ringtun.test:51820");
    CHECK(f.due().empty());  // the old name's lookup is still in flight
    CHECK_FALSE(f.answer(kName, v4("10.99.1.2", 51820)));
    const auto asked = f.due();
    REQUIRE(asked.size() == 1);
    CHECK(asked[0].name == "peer-b2.ringtun.test:51820");
}

TEST_CASE("endpoint names: a forgotten name, or a peer gone, changes nothing") {
    Fixture f;
    REQUIRE(f.due().size() == 1);
    f.names.configure({}, false);
    CHECK(f.names.size() == 1);  // kept while its lookup runs
    CHECK_FALSE(f.answer(kName, v4("10.99.1.2", 51820)));
    CHECK(f.names.size() == 0);
    CHECK(f.due().empty());

    f.configure(kName);
    const crypto::PublicKey key = f.b.public_key();
    f.pair.a.dev().remove_peer(f.b);
    CHECK(f.due().empty());  // not in the device: nothing to ask
    const NameAnswer late{key, kName, Resolved{v4("10.99.1.2", 51820), ""}};
    CHECK_FALSE(f.names.answered(f.pair.a.dev(), late, f.pair.now));
}

TEST_CASE("endpoint names: a lookup that could not be queued is asked at the next turn") {
    Fixture f;
    const auto asked = f.due();
    REQUIRE(asked.size() == 1);
    f.names.not_asked(asked[0].peer);
    CHECK(f.due().size() == 1);
}

TEST_CASE("endpoint names: a TCP peer's endpoint is dialed; without the transport, not asked") {
    Fixture off(kName, true, false);
    CHECK(off.names.size() == 0);
    Fixture on(kName, true, true);
    REQUIRE(on.due().size() == 1);
    const auto to = on.answer(kName, v4("10.99.1.2", 51820));
    REQUIRE(to);
    CHECK(to->tcp);
}
