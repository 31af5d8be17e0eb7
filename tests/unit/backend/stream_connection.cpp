// StreamConnection, the backend-neutral part of a served stream connection: what comes next
// after each receive and send, the input bound, the lingering end (FIN sent, input dropped
// until the client closes), and the deadlines — over a real socket pair.
#include "daemon/backend/stream_connection.hpp"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

using namespace ringtun;
using namespace ringtun::daemon;
using Next = StreamConnection::Next;

namespace {

// Echoes each line back; done after "quit".
struct LineEcho final : control::StreamSession {
    bool finished = false;
    std::size_t feed(std::string_view in, std::string& out, const Now&) override {
        const auto nl = in.find('\n');
        if (nl == std::string_view::npos) return in.size();  // (lines fit one receive here)
        const std::string_view line = in.substr(0, nl);
        if (line == "quit")
            finished = true;
        else
            out.append(line).append("\n");
        return nl + 1;
    }
    void end_of_input(std::string& out, const Now&) override {
        out += "bye\n";
        finished = true;
    }
    bool done() const noexcept override { return finished; }
};

constexpr StreamLimits limits{.max_connections = 4,
                              .idle_timeout = 5'000'000'000,
                              .lifetime = 20'000'000'000,
                              .max_input = 64,
                              .backlog = 4};

struct Pair {
    int peer = -1;
    StreamConnection conn;
    static Pair make() {
        int fds[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
        return Pair{fds[1], StreamConnection(7, util::UniqueFd(fds[0]),
                                             std::make_unique<LineEcho>(), 1'000)};
    }
    ~Pair() { ::close(peer); }
    // What the client "sent": copied into the receive room, as a recv would.
    Next receive(std::string_view text, Nanos at = 2'000) {
        std::memcpy(conn.receive_room().data(), text.data(), text.size());
        return conn.on_received(text.size(), Now{at, 0}, limits);
    }
};

}  // namespace

TEST_CASE("stream connection: one reply at a time, then more input is fed") {
    Pair p = Pair::make();
    REQUIRE(p.receive("a\nb\n") == Next::send);
    CHECK(std::string_view(p.conn.to_send().data(), p.conn.to_send().size()) == "a\n");
    CHECK(p.conn.on_sent(1, {}) == Next::send);  // a partial send leaves the rest
    CHECK(p.conn.to_send().size() == 1);
    REQUIRE(p.conn.on_sent(1, {}) == Next::send);  // the pipelined second line's reply
    CHECK(std::string_view(p.conn.to_send().data(), p.conn.to_send().size()) == "b\n");
    CHECK(p.conn.on_sent(2, {}) == Next::receive);
}

TEST_CASE("stream connection: end of input gets the session's last word, then closes") {
    Pair p = Pair::make();
    REQUIRE(p.receive("") == Next::send);
    CHECK(std::string_view(p.conn.to_send().data(), p.conn.to_send().size()) == "bye\n");
    CHECK(p.conn.on_sent(4, {}) == Next::close);
    CHECK(p.conn.why() == nullptr);
}

TEST_CASE("stream connection: a done session lingers: FIN sent, input dropped until EOF") {
    Pair p = Pair::make();
    REQUIRE(p.receive("quit\nmore\n", 3'000) == Next::receive);
    char c;
    CHECK(::recv(p.peer, &c, 1, MSG_DONTWAIT) == 0);  // the server's side is shut
    CHECK(p.receive("ignored\n") == Next::receive);   // dropped, not fed
    CHECK(p.conn.deadline(limits, false) == 3'000 + StreamConnection::linger_time);
    CHECK(p.conn.expired(3'000 + StreamConnection::linger_time, limits, false) != nullptr);
    CHECK(p.receive("") == Next::close);
}

TEST_CASE("stream connection: more input than the bound closes it, with the reason") {
    Pair p = Pair::make();
    REQUIRE(p.receive(std::string(60, 'x')) == Next::receive);
    CHECK(p.receive(std::string(10, 'x')) == Next::close);
    CHECK(std::string(p.conn.why()) == "sent more than ringtun's limit of 64 bytes per connection");
}

TEST_CASE("stream connection: idle and lifetime limits; a send in flight is not idle") {
    Pair p = Pair::make();
    CHECK(p.conn.deadline(limits, false) == 1'000 + limits.idle_timeout);
    CHECK(p.conn.deadline(limits, true) == 1'000 + limits.lifetime);
    CHECK(p.conn.expired(1'000 + limits.idle_timeout, limits, true) == nullptr);
    CHECK(std::string(p.conn.expired(1'000 + limits.idle_timeout, limits, false)) ==
          "idle longer than ringtun's limit of 5 s");
    CHECK(std::string(p.conn.expired(1'000 + limits.lifetime, limits, true)) ==
          "open longer than ringtun's limit of 20 s");
    // The servers' sweeps that call it are noexcept: so is it (no string is built).
    CHECK(noexcept(p.conn.expired(0, limits, false)));
}
