// The metrics endpoint, sans-IO: the HTTP request head (bounds, line ends, split input), the
// responses MetricsSession gives to every kind of request, the exposition text's escaping,
// and the device's metrics after a real handshake (tests/unit/engine/device_harness.hpp).
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "crypto/keys.hpp"
#include "daemon/control/device_metrics.hpp"
#include "daemon/control/http_request.hpp"
#include "daemon/control/metrics_session.hpp"
#include "daemon/control/metrics_text.hpp"
#include "tests/unit/engine/device_harness.hpp"

using namespace ringtun;
using namespace ringtun::daemon::control;
using State = HttpRequestHead::State;

namespace {

// Feeds `text` in pieces of `step` bytes; returns the reply and how much was consumed.
std::string exchange(std::string_view text, std::size_t step = 1 << 20,
                     std::size_t* consumed = nullptr) {
    MetricsSession s([](std::string& body, const ringtun::daemon::Now&) { body += "m 1\n"; });
    std::string out;
    std::size_t used = 0;
    while (used < text.size() && !s.done() && out.empty())
        used += s.feed(text.substr(used, step), out, {});
    if (out.empty() && !s.done()) s.end_of_input(out, {});
    if (consumed) *consumed = used;
    CHECK(s.done());
    return out;
}

std::string status_line(const std::string& reply) {
    return reply.substr(0, reply.find("\r\n"));
}

std::string body_of(const std::string& reply) {
    const auto at = reply.find("\r\n\r\n");
    return at == std::string::npos ? std::string() : reply.substr(at + 4);
}

}  // namespace

TEST_CASE("http head: complete at the blank line, CRLF or LF, split anywhere") {
    for (std::string_view req : {"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nBODY",
                                 "GET /metrics HTTP/1.1\nHost: x\n\nBODY"}) {
        for (std::size_t step = 1; step <= req.size(); ++step) {
            HttpRequestHead h;
            std::size_t used = 0;
            while (h.state() == State::incomplete && used < req.size())
                used += h.feed(req.substr(used, step));
            REQUIRE(h.state() == State::complete);
            CHECK(h.method() == "GET");
            CHECK(h.path() == "/metrics");
            CHECK(req.substr(used) == "BODY");  // what follows the head is not taken
        }
    }
}

TEST_CASE("http head: malformed request lines and the size bound") {
    for (std::string_view bad :
         {"GET /metrics\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n", "GET /metrics HTTP/2.0\r\n\r\n",
          "G(T /metrics HTTP/1.1\r\n\r\n", "\r\n\r\n", "GET /m\x01 HTTP/1.1\r\n\r\n"}) {
        HttpRequestHead h;
        h.feed(bad);
        CHECK_MESSAGE(h.state() == State::malformed, bad);
    }
    HttpRequestHead h;
    const std::string big = "GET /metrics HTTP/1.1\r\nX: " + std::string(9000, 'a');
    CHECK(h.feed(big) == HttpRequestHead::max_head);
    CHECK(h.state() == State::too_large);
    CHECK(h.feed("\r\n\r\n") == 0);
    // Exactly at the bound is still a head.
    HttpRequestHead fits;
    std::string exact = "GET /metrics HTTP/1.1\r\nX: ";
    exact += std::string(HttpRequestHead::max_head - exact.size() - 4, 'a') + "\r\n\r\n";
    CHECK(fits.feed(exact) == exact.size());
    CHECK(fits.state() == State::complete);
}

TEST_CASE("metrics session: GET and HEAD of /metrics, and every refusal") {
    const std::string ok = exchange("GET /metrics?name[]=x HTTP/1.1\r\nHost: a\r\n\r\n", 3);
    CHECK(status_line(ok) == "HTTP/1.1 200 OK");
    CHECK(ok.find("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n") !=
          std::string::npos);
    CHECK(ok.find("\r\nContent-Length: 4\r\n") != std::string::npos);
    CHECK(ok.find("\r\nConnection: close\r\n") != std::string::npos);
    CHECK(body_of(ok) == "m 1\n");
    const std::string head = exchange("HEAD /metrics HTTP/1.0\r\n\r\n");
    CHECK(status_line(head) == "HTTP/1.1 200 OK");
    CHECK(head.find("\r\nContent-Length: 4\r\n") != std::string::npos);
    CHECK(body_of(head).empty());
    CHECK(status_line(exchange("GET / HTTP/1.1\r\n\r\n")) == "HTTP/1.1 404 Not Found");
    CHECK(body_of(exchange("HEAD /x HTTP/1.1\r\n\r\n")).empty());
    const std::string post = exchange("POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    CHECK(status_line(post) == "HTTP/1.1 405 Method Not Allowed");
    CHECK(post.find("\r\nAllow: GET, HEAD\r\n") != std::string::npos);
    CHECK(status_line(exchange("GET /metrics HTTP/9\r\n\r\n")) == "HTTP/1.1 400 Bad Request");
    std::size_t used = 0;
    const std::string flood = "GET /metrics HTTP/1.1\r\n" + std::string(20000, 'h');
    CHECK(status_line(exchange(flood, 4096, &used)) ==
          "HTTP/1.1 431 Request Header Fields Too Large");
    CHECK(used <= HttpRequestHead::max_head + 4096);
    // A client that leaves before its head is complete is not answered.
    CHECK(exchange("GET /metr").empty());
}

TEST_CASE("metrics text: families, constant labels first, values escaped") {
    std::string out;
    MetricsText m(out, {{"interface", "rt0"}});
    m.family("x_total", MetricsText::Type::counter, "Help with \\ and\nnewline \"quoted\".");
    m.sample(7, {{"k", "a\"b\\c\nd"}});
    m.single("y", MetricsText::Type::gauge, "Y.", 18446744073709551615ull);
    CHECK(out ==
          "# HELP x_total Help with \\\\ and\\nnewline \"quoted\".\n"
          "# TYPE x_total counter\n"
          "x_total{interface=\"rt0\",k=\"a\\\"b\\\\c\\nd\"} 7\n"
          "# HELP y Y.\n# TYPE y gauge\ny{interface=\"rt0\"} 18446744073709551615\n");
    std::string bare;
    MetricsText plain(bare, {});
    plain.single("z", MetricsText::Type::gauge, "Z.", 0);
    CHECK(bare == "# HELP z Z.\n# TYPE z gauge\nz 0\n");
}

TEST_CASE("device metrics: per-peer bytes, sessions and handshake time, drops by reason") {
    test::DevicePair pair;
    pair.establish();
    std::string out;
    MetricsText m(out, {});
    write_device_metrics(pair.a.dev(), m);
    const daemon::Peer& b = *pair.a.dev().peers()[0];
    REQUIRE(b.tx_bytes > 0);
    const std::string key = crypto::key_to_base64(b.public_key().span());
    const std::string label = "{public_key=\"" + key + "\"} ";
    CHECK(out.find("\nringtun_peers 1\n") != std::string::npos);
    CHECK(out.find("ringtun_peer_transmit_bytes_total" + label + std::to_string(b.tx_bytes) +
                   "\n") != std::string::npos);
    CHECK(out.find("ringtun_peer_receive_bytes_total" + label + std::to_string(b.rx_bytes) +
                   "\n") != std::string::npos);
    CHECK(out.find("ringtun_peer_last_handshake_seconds" + label +
                   std::to_string(b.last_handshake_unix_ns / 1'000'000'000) + "\n") !=
          std::string::npos);
    CHECK(b.last_handshake_unix_ns >= 1'000'000'000);
    CHECK(out.find("ringtun_peer_sessions" + label + "1\n") != std::string::npos);
    // Every reason is listed, zero or not, so a rate over it never starts from nothing.
    for (std::size_t i = 0; i < static_cast<std::size_t>(daemon::Drop::count_); ++i)
        CHECK(out.find(std::string("ringtun_drops_total{reason=\"") +
                       daemon::to_string(static_cast<daemon::Drop>(i)) + "\"}") !=
              std::string::npos);
}
