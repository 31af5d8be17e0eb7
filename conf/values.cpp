// Prefix, endpoint and interface-name syntax.
#include "conf/values.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>

#include <cctype>
#include <charconv>

namespace ringtun::conf {
namespace {

std::string quoted(std::string_view s) {
    return '"' + std::string(s) + '"';
}

// Parses a decimal number without sign or spaces; false when `s` is anything else.
bool parse_decimal(std::string_view s, unsigned long& out) {
    if (s.empty() || s.size() > 6) return false;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
    }
    std::from_chars(s.data(), s.data() + s.size(), out);
    return true;
}

// Converts a numeric IPv4 or IPv6 address; false when it is neither.
bool parse_address(std::string_view text, Prefix& out) {
    std::string s(text);
    if (inet_pton(AF_INET, s.c_str(), out.addr.data()) == 1) {
        out.family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, s.c_str(), out.addr.data()) == 1) {
        out.family = AF_INET6;
        return true;
    }
    return false;
}

void mask_host_bits(Prefix& p) {
    const unsigned bytes = p.family == AF_INET ? 4 : 16;
    for (unsigned i = 0; i < bytes; ++i) {
        const int keep = static_cast<int>(p.length) - static_cast<int>(i * 8);
        if (keep >= 8) continue;
        p.addr[i] &= keep <= 0 ? 0 : static_cast<std::uint8_t>(0xff << (8 - keep));
    }
}

Parsed<std::uint16_t> parse_port(std::string_view s) {
    unsigned long port = 0;
    if (!parse_decimal(s, port)) return "port " + quoted(s) + " is not a number";
    if (port < 1 || port > 65535)
        return "port " + std::to_string(port) + " is out of range (1..65535)";
    return static_cast<std::uint16_t>(port);
}

Endpoint make_endpoint(const Prefix& a, std::uint16_t port) {
    Endpoint e;
    if (a.family == AF_INET) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&e.addr);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        memcpy(&sin->sin_addr, a.addr.data(), 4);
        e.len = sizeof(sockaddr_in);
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&e.addr);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        memcpy(&sin6->sin6_addr, a.addr.data(), 16);
        e.len = sizeof(sockaddr_in6);
    }
    return e;
}

// Looks `host` up now and takes its first IPv4 or IPv6 address; the problem is getaddrinfo's
// reason alone. With `numeric_only` no lookup happens: that is for bracketed text, which may
// only be an IPv6 literal (possibly scoped: "fe80::1%eth0").
Parsed<Endpoint> resolve(const std::string& host, std::uint16_t port, bool numeric_only) {
    addrinfo hints{};
    hints.ai_family = numeric_only ? AF_INET6 : AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = numeric_only ? AI_NUMERICHOST : 0;
    addrinfo* found = nullptr;
    const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
    if (rc != 0) return std::string(gai_strerror(rc));
    Endpoint e;
    for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
        memcpy(&e.addr, ai->ai_addr, ai->ai_addrlen);
        e.len = ai->ai_addrlen;
        break;
    }
    freeaddrinfo(found);
    if (e.len == 0) return std::string("no IPv4 or IPv6 address");
    if (e.addr.ss_family == AF_INET) {
        reinterpret_cast<sockaddr_in*>(&e.addr)->sin_port = htons(port);
    } else {
        reinterpret_cast<sockaddr_in6*>(&e.addr)->sin6_port = htons(port);
    }
    return e;
}

// Why the kernel would refuse `name` (dev_valid_name), or pick another one for it; empty if
// it would not.
std::string interface_name_problem(std::string_view name) {
    if (name.empty()) return "it is empty";
    if (name.size() >= IFNAMSIZ) {
        return std::to_string(name.size()) + " bytes long; at most " +
               std::to_string(IFNAMSIZ - 1) + " fit";
    }
    if (name == "." || name == "..") return "\".\" and \"..\" are reserved";
    for (char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '/') return "'/' is not allowed (the name is a path under /sys/class/net)";
        if (c == ':') return "':' is not allowed (it marks an alias label, as in eth0:1)";
        if (c == '%') {
            return "'%' is not allowed (the kernel would read the name as a template, as "
                   "\"rt%d\" for the first free rt0, rt1, ...; write the exact name)";
        }
        if (std::isspace(u)) return "whitespace is not allowed";
        if (std::iscntrl(u)) return "control characters are not allowed";
    }
    return {};
}

// Why bracketed text getaddrinfo refused is no endpoint: an IPv6 address whose scope names an
// interface that does not exist ("fe80::1%eth9"), or no IPv6 address at all.
std::string bracketed_problem(std::string_view host) {
    const auto percent = host.find('%');
    Prefix numeric;
    if (percent != std::string_view::npos && percent + 1 < host.size() &&
        parse_address(host.substr(0, percent), numeric) && numeric.family == AF_INET6)
        return quoted(host) + ": the scope interface " + quoted(host.substr(percent + 1)) +
               " does not exist";
    return quoted(host) + " is not an IPv6 address";
}

struct HostPort {
    std::string_view host;
    std::string_view port;
    bool bracketed = false;
};

Parsed<HostPort> split_host_port(std::string_view text) {
    HostPort hp;
    std::string_view rest;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos) return quoted(text) + " is missing the closing ']'";
        hp.host = text.substr(1, close - 1);
        hp.bracketed = true;
        rest = text.substr(close + 1);
    } else {
        const auto colon = text.find(':');
        if (colon != std::string_view::npos &&
            text.find(':', colon + 1) != std::string_view::npos) {
            return quoted(text) + ": write an IPv6 endpoint in brackets, as \"[ADDRESS]:PORT\"";
        }
        hp.host = text.substr(0, colon);
        rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
    }
    if (rest.empty()) return quoted(text) + " has no port (expected HOST:PORT)";
    if (rest[0] != ':') return quoted(text) + ": expected ':' after ']'";
    hp.port = rest.substr(1);
    if (hp.host.empty()) return quoted(text) + " has no host (expected HOST:PORT)";
    return hp;
}

}  // namespace

Parsed<Prefix> parse_prefix(std::string_view text, HostBits bits) {
    const auto slash = text.find('/');
    const std::string_view address = text.substr(0, slash);
    Prefix p;
    if (!parse_address(address, p)) return quoted(address) + " is not an IPv4 or IPv6 address";
    const unsigned max = p.family == AF_INET ? 32 : 128;
    unsigned long length = max;
    if (slash != std::string_view::npos) {
        const std::string_view len_text = text.substr(slash + 1);
        if (!parse_decimal(len_text, length)) {
            return "prefix length " + quoted(len_text) + " is not a number";
        }
        if (length > max) {
            return "prefix length " + std::to_string(length) + " is out of range for " +
                   (p.family == AF_INET ? "IPv4 (0..32)" : "IPv6 (0..128)");
        }
    }
    p.length = static_cast<std::uint8_t>(length);
    if (bits == HostBits::mask) mask_host_bits(p);
    return p;
}

Parsed<Endpoint> parse_endpoint(std::string_view text) {
    auto split = split_host_port(text);
    if (auto* msg = std::get_if<std::string>(&split)) return std::move(*msg);
    const HostPort hp = std::get<HostPort>(split);
    auto port = parse_port(hp.port);
    if (auto* msg = std::get_if<std::string>(&port)) return std::move(*msg);
    Prefix numeric;
    if (parse_address(hp.host, numeric)) {
        if (hp.bracketed != (numeric.family == AF_INET6)) {
            return quoted(text) + ": only IPv6 addresses go in brackets, as \"[ADDRESS]:PORT\"";
        }
        return make_endpoint(numeric, std::get<std::uint16_t>(port));
    }
    // getaddrinfo would read "10.1" or "10.0.300.1" as inet_aton shorthand; refuse instead.
    if (hp.host.find_first_not_of("0123456789.") == std::string_view::npos) {
        return quoted(hp.host) + " is not an IPv4 address";
    }
    auto resolved = resolve(std::string(hp.host), std::get<std::uint16_t>(port), hp.bracketed);
    if (auto* reason = std::get_if<std::string>(&resolved)) {
        if (hp.bracketed) return bracketed_problem(hp.host);
        return "cannot resolve " + quoted(hp.host) + ": " + *reason;
    }
    return resolved;
}

bool endpoint_names_host(std::string_view text) {
    auto split = split_host_port(text);
    const auto* hp = std::get_if<HostPort>(&split);
    if (hp == nullptr || hp->bracketed) return false;
    if (std::holds_alternative<std::string>(parse_port(hp->port))) return false;
    Prefix numeric;
    return !parse_address(hp->host, numeric) &&
           hp->host.find_first_not_of("0123456789.") != std::string_view::npos;
}

Parsed<Endpoint> resolve_endpoint(std::string_view text) {
    if (!endpoint_names_host(text)) return parse_endpoint(text);
    const HostPort hp = std::get<HostPort>(split_host_port(text));
    return resolve(std::string(hp.host), std::get<std::uint16_t>(parse_port(hp.port)), false);
}

std::string check_interface_name(std::string_view name) {
    const std::string problem = interface_name_problem(name);
    if (problem.empty()) return {};
    return quoted(name) + " is not a valid interface name: " + problem;
}

std::string Prefix::to_string() const {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(family, addr.data(), text, sizeof text);
    return std::string(text) + '/' + std::to_string(length);
}

std::string Endpoint::to_string() const {
    char text[INET6_ADDRSTRLEN] = {};
    if (addr.ss_family == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(&addr);
        inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
        return std::string(text) + ':' + std::to_string(ntohs(sin->sin_port));
    }
    if (addr.ss_family == AF_INET6) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&addr);
        inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
        return '[' + std::string(text) + "]:" + std::to_string(ntohs(sin6->sin6_port));
    }
    return "(none)";
}

std::string_view to_string(Transport t) noexcept {
    return t == Transport::udp ? "udp" : "tcp";
}
std::string_view to_string(TunRead t) noexcept {
    return t == TunRead::multishot ? "multishot" : "slots";
}

}  // namespace ringtun::conf
