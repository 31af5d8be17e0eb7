// Parsing of the value syntaxes inside config strings: IP prefixes, endpoints and interface
// names. Each parser returns the value or a message (without location; the caller adds it).
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "conf/config.hpp"

namespace ringtun::conf {

template <typename T>
using Parsed = std::variant<T, std::string>;

enum class HostBits { keep, mask };

// "ADDRESS/LENGTH" or a bare ADDRESS (a host prefix: /32 or /128). With HostBits::mask the
// bits past LENGTH are cleared (10.1.2.3/24 -> 10.1.2.0/24).
Parsed<Prefix> parse_prefix(std::string_view text, HostBits bits);

// "IPV4:PORT", "[IPV6]:PORT" or "HOSTNAME:PORT". A hostname is resolved now with
// getaddrinfo (blocking; the first IPv4 or IPv6 address returned wins); one that does not
// resolve is 'cannot resolve "HOST": REASON'. An IPv6 address may carry its scope: an
// interface that must exist, "[fe80::1%eth0]:PORT" (or an index, "%2", taken as it is); one
// that does not exist is '"fe80::1%eth0": the scope interface "eth0" does not exist'.
Parsed<Endpoint> parse_endpoint(std::string_view text);
// Whether `text` ("host:port") names its host by name (a DNS lookup) rather than an address;
// false for malformed text too (parse_endpoint says what is wrong with it), and for bracketed
// text, which may only be an IPv6 address (looked up by nobody).
bool endpoint_names_host(std::string_view text);
// parse_endpoint for text that names its host (endpoint_names_host), with the problem being
// getaddrinfo's reason alone ("Name or service not known"): what a daemon that looks names up
// again and again logs. Blocks for as long as the system's resolver takes; safe on any thread.
// Other text gets parse_endpoint's answer.
Parsed<Endpoint> resolve_endpoint(std::string_view text);

// Empty when `name` is a valid Linux interface name (the kernel's dev_valid_name rules:
// 1..15 bytes, not "." or "..", no '/', ':', whitespace or control characters) that TUNSETIFF
// would use as given: no '%', which makes the kernel pick a name from a template. Otherwise
// '"NAME" is not a valid interface name: REASON'. The single check for both `check` and `run`.
std::string check_interface_name(std::string_view name);

}  // namespace ringtun::conf
