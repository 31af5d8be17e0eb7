// The value syntaxes inside config strings: prefixes, endpoints, interface names.
#include <doctest/doctest.h>
#include <net/if.h>
#include <netinet/in.h>

#include "conf/values.hpp"

namespace ringtun::conf {
namespace {

std::string prefix_result(std::string_view text, HostBits bits) {
    auto parsed = parse_prefix(text, bits);
    if (auto* p = std::get_if<Prefix>(&parsed)) return p->to_string();
    return "error: " + std::get<std::string>(parsed);
}

std::string endpoint_result(std::string_view text) {
    auto parsed = parse_endpoint(text);
    if (auto* e = std::get_if<Endpoint>(&parsed)) return e->to_string();
    return "error: " + std::get<std::string>(parsed);
}

struct Row {
    int id;
    std::string_view input;
    std::string_view expected;
};

TEST_CASE("conf: prefixes with host bits kept and masked") {
    const struct {
        int id;
        std::string_view input, keep, mask;
    } rows[] = {
        {1, "10.1.2.3/24", "10.1.2.3/24", "10.1.2.0/24"},
        {2, "10.1.2.3", "10.1.2.3/32", "10.1.2.3/32"},
        {3, "10.1.2.3/0", "10.1.2.3/0", "0.0.0.0/0"},
        {4, "255.255.255.255/1", "255.255.255.255/1", "128.0.0.0/1"},
        {5, "10.1.2.255/31", "10.1.2.255/31", "10.1.2.254/31"},
        {6, "fd00::1:2:3/64", "fd00::1:2:3/64", "fd00::/64"},
        {7, "fd00::1", "fd00::1/128", "fd00::1/128"},
        {8, "::/0", "::/0", "::/0"},
        {9, "ffff:ffff::/17", "ffff:ffff::/17", "ffff:8000::/17"},
        {10, "10.1.2.3/024", "10.1.2.3/24", "10.1.2.0/24"},
    };
    for (const auto& r : rows) {
        CAPTURE(r.id);
        CHECK(prefix_result(r.input, HostBits::keep) == r.keep);
        CHECK(prefix_result(r.input, HostBits::mask) == r.mask);
    }
}

TEST_CASE("conf: prefix errors") {
    const Row rows[] = {
        {1, "", "error: \"\" is not an IPv4 or IPv6 address"},
        {2, "/24", "error: \"\" is not an IPv4 or IPv6 address"},
        {3, "10.1.2/24", "error: \"10.1.2\" is not an IPv4 or IPv6 address"},
        {4, " 10.1.2.3/24", "error: \" 10.1.2.3\" is not an IPv4 or IPv6 address"},
        {5, "10.1.2.3/24/1", "error: prefix length \"24/1\" is not a number"},
        {6, "10.1.2.3/+8", "error: prefix length \"+8\" is not a number"},
        {7, "10.1.2.3/ 8", "error: prefix length \" 8\" is not a number"},
        {8, "10.1.2.3/1234567", "error: prefix length \"1234567\" is not a number"},
        {9, "fd00::/200", "error: prefix length 200 is out of range for IPv6 (0..128)"},
        {10, "host.example/24", "error: \"host.example\" is not an IPv4 or IPv6 address"},
    };
    for (const Row& r : rows) {
        CAPTURE(r.id);
        CHECK(prefix_result(r.input, HostBits::mask) == r.expected);
    }
}

TEST_CASE("conf: endpoints") {
    const Row rows[] = {
        {1, "10.99.0.2:51820", "10.99.0.2:51820"},
        {2, "[fd00::2]:51820", "[fd00::2]:51820"},
        {3, "[::ffff:10.0.0.1]:1", "[::ffff:10.0.0.1]:1"},
        {4, "127.0.0.1:65535", "127.0.0.1:65535"},
        {6, "10.99.0.2:", "error: port \"\" is not a number"},
        {7, "10.99.0.2:-1", "error: port \"-1\" is not a number"},
        {8, "[fd00::2]51820", "error: \"[fd00::2]51820\": expected ':' after ']'"},
        {9, "[]:1", "error: \"[]:1\" has no host (expected HOST:PORT)"},
        {10, "10.1:51820", "error: \"10.1\" is not an IPv4 address"},
        {11, "", "error: \"\" has no port (expected HOST:PORT)"},
    };
    for (const Row& r : rows) {
        CAPTURE(r.id);
        CHECK(endpoint_result(r.input) == r.expected);
    }
}

TEST_CASE("conf: a hostname endpoint is resolved") {
    // From /etc/hosts, so no DNS is involved; which family comes first depends on the host.
    const std::string got = endpoint_result("localhost:7");
    CHECK((got == "127.0.0.1:7" || got == "[::1]:7"));
}

// What a daemon looks up off its loop: a name, never bracketed text (an IPv6 literal, which
// parse_endpoint converts without asking anyone), nor an address or malformed text.
TEST_CASE("conf: which endpoints name their host") {
    CHECK(endpoint_names_host("localhost:7"));
    CHECK(endpoint_names_host("peer-b.ringtun.test:51820"));
    CHECK_FALSE(endpoint_names_host("10.0.0.1:7"));
    CHECK_FALSE(endpoint_names_host("[fd00::1]:7"));
    CHECK_FALSE(endpoint_names_host("[fe80::1%eth0]:7"));  // inet_pton refuses it; still no name
    CHECK_FALSE(endpoint_names_host("[example.com]:7"));   // parse_endpoint says why
    CHECK_FALSE(endpoint_names_host("example.com"));       // no port
    CHECK_FALSE(endpoint_names_host("10.0.300.1:7"));
}

TEST_CASE("conf: resolve_endpoint gives the resolver's reason alone") {
    auto found = resolve_endpoint("localhost:7");
    REQUIRE(std::holds_alternative<Endpoint>(found));
    const std::string got = std::get<Endpoint>(found).to_string();
    CHECK((got == "127.0.0.1:7" || got == "[::1]:7"));
    // An empty label makes glibc fail before any DNS query, so this needs no network.
    auto failed = resolve_endpoint("nonexistent..invalid:7");
    REQUIRE(std::holds_alternative<std::string>(failed));
    CHECK(std::get<std::string>(failed) == "Name or service not known");
    CHECK(endpoint_result("nonexistent..invalid:7") ==
          "error: cannot resolve \"nonexistent..invalid\": Name or service not known");
    // Not a name: parse_endpoint's answer.
    CHECK(std::get<Endpoint>(resolve_endpoint("10.0.0.1:7")).to_string() == "10.0.0.1:7");
    CHECK(std::get<std::string>(resolve_endpoint("[example.com]:7")) ==
          "\"example.com\" is not an IPv6 address");
}

TEST_CASE("conf: a scoped IPv6 endpoint keeps its scope") {
    auto parsed = parse_endpoint("[fe80::1%1]:51820");
    REQUIRE(std::holds_alternative<Endpoint>(parsed));
    const auto& e = std::get<Endpoint>(parsed);
    REQUIRE(e.addr.ss_family == AF_INET6);
    CHECK(reinterpret_cast<const sockaddr_in6*>(&e.addr)->sin6_scope_id == 1);
    CHECK(e.to_string() == "[fe80::1]:51820");
}

TEST_CASE("conf: a scoped IPv6 endpoint names its interface, which must exist") {
    // "lo" exists in every network namespace.
    auto parsed = parse_endpoint("[fe80::1%lo]:51820");
    REQUIRE(std::holds_alternative<Endpoint>(parsed));
    const auto& e = std::get<Endpoint>(parsed);
    CHECK(reinterpret_cast<const sockaddr_in6*>(&e.addr)->sin6_scope_id == if_nametoindex("lo"));
    // Issue 12: this was reported as "is not an IPv6 address".
    CHECK(endpoint_result("[fe80::1%nosuchif]:51820") ==
          "error: \"fe80::1%nosuchif\": the scope interface \"nosuchif\" does not exist");
    CHECK(endpoint_result("[fe80::zz%lo]:51820") ==
          "error: \"fe80::zz%lo\" is not an IPv6 address");
    CHECK(endpoint_result("[fe80::1%]:51820") == "error: \"fe80::1%\" is not an IPv6 address");
}

TEST_CASE("conf: interface names follow the kernel's rules") {
    for (std::string_view good : {"rt0", "a", "wg-home.1", "abcdefghijklmno"}) {
        CAPTURE(good);
        CHECK(check_interface_name(good).empty());
    }
}

// Each name TUN creation would refuse (or rename) is refused here, so that `check` and `run`
// report it alike; the message names the reason.
TEST_CASE("conf: each invalid interface name has its reason") {
    const struct {
        std::string_view name;
        std::string_view reason;
    } cases[] = {
        {"", "it is empty"},
        {"abcdefghijklmnop", "16 bytes long; at most 15 fit"},
        {".", "\".\" and \"..\" are reserved"},
        {"..", "\".\" and \"..\" are reserved"},
        {"a/b", "'/' is not allowed (the name is a path under /sys/class/net)"},
        {"a:b", "':' is not allowed (it marks an alias label, as in eth0:1)"},
        {"rt%d",
         "'%' is not allowed (the kernel would read the name as a template, as \"rt%d\" "
         "for the first free rt0, rt1, ...; write the exact name)"},
        {"%",
         "'%' is not allowed (the kernel would read the name as a template, as \"rt%d\" "
         "for the first free rt0, rt1, ...; write the exact name)"},
        {"a b", "whitespace is not allowed"},
        {"a\tb", "whitespace is not allowed"},
        {"a\x01", "control characters are not allowed"},
        {std::string_view("a\0b", 3), "control characters are not allowed"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        CHECK(check_interface_name(c.name) ==
              '"' + std::string(c.name) +
                  "\" is not a valid interface name: " + std::string(c.reason));
    }
}

}  // namespace
}  // namespace ringtun::conf
