// libFuzzer target for the UAPI (wg's control protocol): whatever a client writes to the
// control socket, in whatever pieces, the session must not crash, must buffer no more than one
// line, and must answer only well-formed replies: each `key=value` lines (from get) ending in
// `errno=N` and an empty line, N = 0 or negative.
//
// Input: byte 0 picks the piece size (1 + b % 64) the rest is fed in; then the client's bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/control/uapi_session.hpp"

using namespace ringtun::daemon::control;

namespace {

void require(bool ok) {
    if (!ok) std::abort();
}

struct CheckingTarget : UapiTarget {
    bool in_set = false;
    bool in_peer = false;
    void begin_set() override {
        require(!in_set);
        in_set = true;
        in_peer = false;
    }
    UapiError apply(const SetCommand& c) override {
        require(in_set);
        if (std::holds_alternative<set::PublicKey>(c)) in_peer = true;
        // Peer keys only ever come after a public_key line.
        const bool peer_key = std::holds_alternative<set::Remove>(c) ||
                              std::holds_alternative<set::AllowedIp>(c) ||
                              std::holds_alternative<set::PeerEndpoint>(c) ||
                              std::holds_alternative<set::Keepalive>(c);
        require(!peer_key || in_peer);
        if (auto* a = std::get_if<set::AllowedIp>(&c))
            require(a->cidr <= (a->family == AF_INET ? 32 : 128));
        // Let some requests fail in the target, as a busy listen_port does.
        if (auto* p = std::get_if<set::ListenPort>(&c))
            return p->port == 1 ? UapiError::address_in_use : UapiError::none;
        return UapiError::none;
    }
    void end_set() override {
        require(in_set);
        in_set = false;
    }
    void write_config(std::string& out) override { out += "listen_port=51820\n"; }
};

// Every reply is zero or more key=value lines, then errno=0 or errno=-N, then an empty line.
void check_replies(std::string_view out) {
    while (!out.empty()) {
        const std::size_t end = out.find("\n\n");
        require(end != std::string_view::npos);
        std::string_view reply = out.substr(0, end + 1);
        out.remove_prefix(end + 2);
        const std::size_t last = reply.rfind("errno=", reply.size() - 2);
        require(last != std::string_view::npos && (last == 0 || reply[last - 1] == '\n'));
        const std::string_view n = reply.substr(last + 6, reply.size() - last - 7);
        require(n == "0" || (n.size() >= 2 && n[0] == '-' && n[1] != '0'));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t piece = 1 + data[0] % 64;
    std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
    CheckingTarget target;
    UapiSession session;
    std::string out;
    while (!in.empty() && !session.done()) {
        const std::size_t used = session.feed(in.substr(0, piece), target, out);
        require(used > 0 || session.done());  // input is never refused while open
        in.remove_prefix(used);
    }
    session.end_of_input(target, out);
    require(session.done());
    require(!target.in_set);
    check_replies(out);
    return 0;
}
