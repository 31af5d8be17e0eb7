#include "daemon/control/uapi_line.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <string>

namespace ringtun::daemon::control {

namespace {

ParsedLine fail(UapiError e) {
    return ParsedLine{e, set::ReplacePeers{}};
}

ParsedLine ok(SetCommand c) {
    return ParsedLine{UapiError::none, std::move(c)};
}

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Decimal without sign, leading '+', spaces or an empty string, at most `max`.
template <typename T>
bool parse_decimal(std::string_view s, T max, T& out) noexcept {
    if (s.empty() || s.size() > 10) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (v > max) return false;
    out = static_cast<T>(v);
    return true;
}

// Numeric address only (no names: wg resolves them before it sends).
bool parse_address(std::string_view text, int& family, std::uint8_t out[16]) {
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
    const std::string s(text);
    if (inet_pton(AF_INET, s.c_str(), out) == 1) {
        family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, s.c_str(), out) == 1) {
        family = AF_INET6;
        return true;
    }
    return false;
}

// "1.2.3.4:51820" or "[fd00::1]:51820"; an IPv6 address may carry a scope ("[fe80::1%eth0]:51820",
// as wg writes a link-local endpoint), left in `scope` for the target to look up.
bool parse_endpoint(std::string_view text, Endpoint& ep, std::string& scope) {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    std::string_view host = text.substr(0, colon);
    std::uint16_t port = 0;
    if (!parse_decimal<std::uint16_t>(text.substr(colon + 1), 65535, port)) return false;
    const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (bracketed) host = host.substr(1, host.size() - 2);
    const std::size_t percent = bracketed ? host.find('%') : std::string_view::npos;
    if (percent != std::string_view::npos) {
        scope = host.substr(percent + 1);
        host = host.substr(0, percent);
        // An interface name has 1 to 15 bytes (IFNAMSIZ - 1).
        if (scope.empty() || scope.size() > 15) return false;
    }
    int family = 0;
    std::uint8_t addr[16];
    if (!parse_address(host, family, addr) || bracketed != (family == AF_INET6)) return false;
    ep = Endpoint{};
    if (family == AF_INET) {
        ep.addr.in4.sin_family = AF_INET;
        std::memcpy(&ep.addr.in4.sin_addr, addr, 4);
        ep.addr.in4.sin_port = htons(port);
    } else {
        ep.addr.in6.sin6_family = AF_INET6;
        std::memcpy(&ep.addr.in6.sin6_addr, addr, 16);
        ep.addr.in6.sin6_port = htons(port);
    }
    return true;
}

bool parse_allowed_ip(std::string_view text, set::AllowedIp& out) {
    out.remove = !text.empty() && text.front() == '-';
    if (out.remove) text.remove_prefix(1);
    const std::size_t slash = text.find('/');
    if (slash == std::string_view::npos) return false;
    std::memset(out.addr, 0, sizeof out.addr);
    if (!parse_address(text.substr(0, slash), out.family, out.addr)) return false;
    const std::uint8_t max = out.family == AF_INET ? 32 : 128;
    return parse_decimal<std::uint8_t>(text.substr(slash + 1), max, out.cidr);
}

// "true" is the only value these keys take.
template <typename Command>
ParsedLine only_true(std::string_view value) {
    return value == "true" ? ok(Command{}) : fail(UapiError::invalid);
}

template <typename Command, typename T>
ParsedLine decimal(std::string_view value, T max, T Command::*field) {
    Command c{};
    if (!parse_decimal<T>(value, max, c.*field)) return fail(UapiError::invalid);
    return ok(c);
}

// Decoded straight into the key type that wipes itself.
template <typename Command>
ParsedLine secret_key(std::string_view value) {
    Command c;
    if (!hex_to_key(value, c.key.data())) return fail(UapiError::invalid);
    return ok(std::move(c));
}

ParsedLine parse_device_line(std::string_view key, std::string_view value) {
    if (key == "private_key") return secret_key<set::PrivateKey>(value);
    if (key == "listen_port")
        return decimal<set::ListenPort, std::uint16_t>(value, 65535, &set::ListenPort::port);
    if (key == "fwmark")
        return decimal<set::Fwmark, std::uint32_t>(value, 0xffffffffu, &set::Fwmark::mark);
    if (key == "replace_peers") return only_true<set::ReplacePeers>(value);
    return fail(UapiError::invalid);
}

ParsedLine parse_peer_line(std::string_view key, std::string_view value) {
    if (key == "remove") return only_true<set::Remove>(value);
    if (key == "update_only") return only_true<set::UpdateOnly>(value);
    if (key == "replace_allowed_ips") return only_true<set::ReplaceAllowedIps>(value);
    if (key == "protocol_version")
        return value == "1" ? ok(set::ProtocolVersion{}) : fail(UapiError::invalid);
    if (key == "preshared_key") return secret_key<set::PresharedKey>(value);
    if (key == "persistent_keepalive_interval")
        return decimal<set::Keepalive, std::uint16_t>(value, 65535, &set::Keepalive::seconds);
    if (key == "endpoint") {
        set::PeerEndpoint c{};
        if (!parse_endpoint(value, c.endpoint, c.scope)) return fail(UapiError::invalid);
        return ok(c);
    }
    if (key == "allowed_ip") {
        set::AllowedIp c{};
        if (!parse_allowed_ip(value, c)) return fail(UapiError::invalid);
        return ok(c);
    }
    return fail(UapiError::invalid);
}

}  // namespace

bool hex_to_key(std::string_view hex, std::uint8_t out[32]) noexcept {
    if (hex.size() != 64) return false;
    for (std::size_t i = 0; i < 32; ++i) {
        const int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return true;
}

void key_to_hex(const std::uint8_t key[32], char out[64]) noexcept {
    static constexpr char digits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < 32; ++i) {
        out[2 * i] = digits[key[i] >> 4];
        out[2 * i + 1] = digits[key[i] & 15];
    }
}

ParsedLine parse_set_line(std::string_view line, bool in_peer) {
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) return fail(UapiError::protocol);
    const std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "public_key") {
        set::PublicKey c{};
        if (!hex_to_key(value, c.key.bytes.data())) return fail(UapiError::invalid);
        return ok(c);
    }
    return in_peer ? parse_peer_line(key, value) : parse_device_line(key, value);
}

}  // namespace ringtun::daemon::control
