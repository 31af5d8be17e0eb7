// The UAPI framing, against a target that records what it was asked to do: requests in one
// piece and byte by byte, several per connection, errors that end the connection, unknown
// operations, end of input in the middle of a set, and the bound on a line.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "daemon/control/uapi_session.hpp"

using namespace ringtun::daemon::control;

namespace {

struct RecordingTarget : UapiTarget {
    std::vector<std::string> calls;
    UapiError fail_on_listen_port = UapiError::none;

    void begin_set() override { calls.push_back("begin"); }
    UapiError apply(const SetCommand& c) override {
        if (auto* p = std::get_if<set::ListenPort>(&c)) {
            calls.push_back("listen_port " + std::to_string(p->port));
            return fail_on_listen_port;
        }
        if (std::holds_alternative<set::PublicKey>(c))
            calls.push_back("public_key");
        else if (std::holds_alternative<set::AllowedIp>(c))
            calls.push_back("allowed_ip");
        else
            calls.push_back("other");
        return UapiError::none;
    }
    void end_set() override { calls.push_back("end"); }
    void write_config(std::string& out) override { out += "listen_port=1\n"; }
};

struct Run {
    RecordingTarget target;
    UapiSession session;
    std::string out;

    unsigned calls = 0;  // feed() calls it took

    // Feeds all of `in` (or until done) the way the loop does: again from what was not
    // consumed, each time a reply came out.
    void feed(std::string_view in, bool bytewise = false) {
        while (!in.empty() && !session.done()) {
            const std::size_t n = session.feed(in.substr(0, bytewise ? 1 : in.size()), target, out);
            REQUIRE(n > 0);
            in.remove_prefix(n);
            ++calls;
        }
    }
};

const std::string pub = "public_key=" + std::string(64, '1') + "\n";

}  // namespace

TEST_CASE("reload=1: the target's answer, error lines then errno; a stray byte is -22") {
    Run r;
    r.feed("reload=1\n\nget=1\n\n");
    CHECK(r.out == "error=nothing to reload\nerrno=-22\n\nlisten_port=1\nerrno=0\n\n");
    CHECK_FALSE(r.session.done());
    Run stray;
    stray.feed("reload=1\nX");
    CHECK(stray.out == "errno=-22\n\n");
    CHECK(stray.session.done());
}

TEST_CASE("pipelined requests: feed stops at each reply, so one reply waits at a time") {
    Run r;
    const std::string in = "get=1\n\nget=1\n\nset=1\nlisten_port=7\n\n";
    std::string_view rest = in;
    std::size_t n = r.session.feed(rest, r.target, r.out);
    CHECK(n == 7);  // the first get and its terminator, nothing more
    CHECK(r.out == "listen_port=1\nerrno=0\n\n");
    rest.remove_prefix(n);
    r.out.clear();
    n = r.session.feed(rest, r.target, r.out);
    CHECK(n == 7);
    rest.remove_prefix(n);
    r.out.clear();
    CHECK(r.session.feed(rest, r.target, r.out) == rest.size());
    CHECK(r.out == "errno=0\n\n");
}

TEST_CASE("get: the target's lines, errno=0, and the connection stays open") {
    for (bool bytewise : {false, true}) {
        Run r;
        r.feed("get=1\n\nget=1\n\n", bytewise);
        CHECK(r.out == "listen_port=1\nerrno=0\n\nlisten_port=1\nerrno=0\n\n");
        CHECK_FALSE(r.session.done());
    }
}

TEST_CASE("get followed by anything but an empty line is EINVAL and ends the connection") {
    Run r;
    r.feed("get=1\nX");
    CHECK(r.out == "errno=-22\n\n");
    CHECK(r.session.done());
}

TEST_CASE("set: lines applied in order, then errno=0; a second request on the same connection") {
    for (bool bytewise : {false, true}) {
        Run r;
        r.feed("set=1\nlisten_port=7\n" + pub + "allowed_ip=10.0.0.0/8\n\nget=1\n\n", bytewise);
        CHECK(r.target.calls == std::vector<std::string>{"begin", "listen_port 7", "public_key",
                                                         "allowed_ip", "end"});
        CHECK(r.out == "errno=0\n\nlisten_port=1\nerrno=0\n\n");
    }
}

TEST_CASE("set: a parse error stops the request, earlier lines stay applied, the connection ends") {
    Run r;
    r.feed("set=1\nlisten_port=7\nfwmark=0x1\nlisten_port=8\n\n");
    CHECK(r.target.calls == std::vector<std::string>{"begin", "listen_port 7", "end"});
    CHECK(r.out == "errno=-22\n\n");
    CHECK(r.session.done());
    Run p;
    p.feed("set=1\nnoequals\n\n");
    CHECK(p.out == "errno=-71\n\n");
}

TEST_CASE("set: the target's error is the reply (listen_port in use: -98)") {
    Run r;
    r.target.fail_on_listen_port = UapiError::address_in_use;
    r.feed("set=1\nlisten_port=7\n\n");
    CHECK(r.out == "errno=-98\n\n");
    CHECK(r.session.done());
}

TEST_CASE("peer keys only after public_key") {
    Run r;
    r.feed("set=1\nallowed_ip=10.0.0.0/8\n\n");
    CHECK(r.out == "errno=-22\n\n");
    Run s;
    s.feed("set=1\n" + pub + "listen_port=1\n\n");
    CHECK(s.out == "errno=-22\n\n");  // a device key inside a peer
}

TEST_CASE("an unknown operation ends the connection without a reply") {
    Run r;
    r.feed("hello\nget=1\n\n");
    CHECK(r.out.empty());
    CHECK(r.session.done());
    CHECK(r.target.calls.empty());
}

TEST_CASE("end of input inside a set applies what was read, the last line too, and answers 0") {
    Run r;
    r.feed("set=1\nlisten_port=7\nlisten_port=9");
    r.session.end_of_input(r.target, r.out);
    CHECK(r.target.calls ==
          std::vector<std::string>{"begin", "listen_port 7", "listen_port 9", "end"});
    CHECK(r.out == "errno=0\n\n");
    CHECK(r.session.done());
    Run idle;
    idle.session.end_of_input(idle.target, idle.out);
    CHECK(idle.out.empty());
}

TEST_CASE("a line longer than max_line is refused without buffering it") {
    Run r;
    r.feed("set=1\n" + pub + "allowed_ip=" + std::string(UapiSession::max_line, '1'));
    CHECK(r.out == "errno=-22\n\n");
    CHECK(r.session.done());
    CHECK(r.target.calls.back() == "end");
    // Nothing more is read once done.
    r.feed("\nget=1\n\n");
    CHECK(r.out == "errno=-22\n\n");
}

TEST_CASE("many allowed_ip lines stream through one line buffer") {
    Run r;
    std::string req = "set=1\n" + pub;
    for (int i = 0; i < 20000; ++i)
        req += "allowed_ip=10." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256) +
               ".0/24\n";
    r.feed(req + "\n");
    CHECK(r.out == "errno=0\n\n");
    CHECK(r.target.calls.size() == 20000 + 3);
}
