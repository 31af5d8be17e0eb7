// libFuzzer target for the metrics endpoint's HTTP request handling: whatever a client sends,
// in whatever pieces, the session must not crash, must hold no more than the head's bound,
// must answer at most once, and only with a well-formed response (a status line of a known
// code, headers, a body exactly as long as Content-Length says, none for HEAD), and must
// answer 200 only to GET or HEAD of /metrics.
//
// Input: byte 0 picks the piece size (1 + b % 64) the rest is fed in; then the client's bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/control/metrics_session.hpp"

using namespace ringtun::daemon::control;

namespace {

void require(bool ok) {
    if (!ok) std::abort();
}

constexpr std::string_view body = "ringtun_peers 1\n";

void check_response(std::string_view out, std::string_view input) {
    require(out.starts_with("HTTP/1.1 "));
    const std::string_view code = out.substr(9, 3);
    require(code == "200" || code == "400" || code == "404" || code == "405" || code == "431");
    const std::size_t end = out.find("\r\n\r\n");
    require(end != std::string_view::npos);
    const std::string_view head = out.substr(0, end + 2);
    const std::size_t at = head.find("\r\nContent-Length: ");
    require(at != std::string_view::npos);
    const std::size_t length = std::strtoul(std::string(head.substr(at + 18)).c_str(), nullptr, 10);
    const std::string_view rest = out.substr(end + 4);
    require(rest.empty() || rest.size() == length);
    if (code == "200") {
        require(input.starts_with("GET /metrics") || input.starts_with("HEAD /metrics"));
        require(rest.empty() ? input.starts_with("HEAD ") : rest == body);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t piece = 1 + data[0] % 64;
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    MetricsSession session([](std::string& b, const ringtun::daemon::Now&) { b += body; });
    std::string out;
    std::size_t replies = 0;
    for (std::size_t at = 0; at < input.size() && !session.done();) {
        const std::string_view chunk = input.substr(at, piece);
        const std::size_t used = session.feed(chunk, out, {});
        require(used <= chunk.size());
        require(used > 0 || !out.empty() || session.done());
        at += used;
        if (!out.empty()) {
            ++replies;
            check_response(out, input);
            out.clear();
        }
    }
    if (!session.done()) session.end_of_input(out, {});
    require(out.empty());  // an incomplete head is not answered
    require(replies <= 1);
    require(session.done());
    return 0;
}
