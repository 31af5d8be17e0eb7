// libFuzzer target for the TOML configuration loader (conf::load_text, what `ringtun run`,
// `check` and a reload read): whatever a configuration file holds, the loader must not crash,
// must not throw, and must return either an error located inside the text or a configuration
// that keeps every promise of conf/config.hpp (ranges, masked allowed IPs, peer names, keys
// present).
//
// Input: the file's text, loaded as "/etc/ringtun/fuzz.toml" of mode 0600 with endpoint names
// left unresolved (no DNS). Key files never touch the disk: the one named "…/NAME" holds the
// text NAME ("missing…" does not exist, "shared…" is mode 0644, "big…" is NAME padded with
// spaces to 4097 bytes, one past the limit), so the fuzzer reaches the key-file rules
// (trimming, empty, size, permissions) through the path it writes. The size rule needs the
// padding: libFuzzer's inputs stop at 4096 bytes, so no name alone is past the limit.
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "conf/load.hpp"

using namespace ringtun::conf;

namespace {

const std::string config_name = "/etc/ringtun/fuzz.toml";

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "config_fuzz: %s\n", what);
    std::abort();
}

constexpr std::size_t big_key_file_bytes = 4097;

bool is_big(std::string_view path) {
    return path.substr(path.rfind('/') + 1).starts_with("big");
}

std::variant<FileText, FileFailure> key_file(const std::string& path, std::size_t max_bytes) {
    std::string body = path.substr(path.rfind('/') + 1);
    if (body.starts_with("missing")) return FileFailure{FileFailure::Kind::open, ENOENT};
    if (is_big(path) && body.size() < big_key_file_bytes) body.resize(big_key_file_bytes, ' ');
    if (body.size() > max_bytes) return FileFailure{FileFailure::Kind::too_large, 0, max_bytes};
    const mode_t mode = S_IFREG | (body.starts_with("shared") ? 0644 : 0600);
    return FileText{SecretText(body), mode};
}

void check_prefix(const Prefix& p, bool masked) {
    require(p.family == AF_INET || p.family == AF_INET6, "prefix family");
    const unsigned bits = p.family == AF_INET ? 32 : 128;
    require(p.length <= bits, "prefix length");
    for (unsigned i = p.family == AF_INET ? 4 : 16; i < 16; ++i)
        require(p.addr[i] == 0, "IPv4 prefix with bytes past the fourth");
    if (!masked) return;
    for (unsigned bit = p.length; bit < bits; ++bit)
        require((p.addr[bit / 8] & (0x80 >> (bit % 8))) == 0, "allowed IP with host bits");
}

// A key is never empty; one from a key file is trimmed of whitespace and came from a file of at
// most 4 KiB. An inline key is the string as written: what is not base64 the daemon's decoding
// refuses, naming the field.
void check_key(const KeyText& k) {
    require(!k.base64.empty(), "empty key accepted");
    if (k.source_file.empty()) return;
    require(!is_big(k.source_file), "key file over 4 KiB accepted");
    constexpr std::string_view space = " \t\r\n\v\f";
    const std::string_view v = k.base64.view();
    require(space.find(v.front()) == std::string_view::npos &&
                space.find(v.back()) == std::string_view::npos,
            "key file's key not trimmed");
}

void check_config(const Config& c) {
    require(c.interface.mtu >= min_mtu && c.interface.mtu <= max_mtu, "mtu out of range");
    require(!c.interface.name.empty() && c.interface.name.size() < 16, "interface name");
    if (!c.interface.private_key.base64.empty()) check_key(c.interface.private_key);
    for (const Prefix& p : c.interface.addresses)
        check_prefix(p, false);
    if (c.ring.entries) {
        const std::uint32_t e = *c.ring.entries;
        require(e >= 8 && e <= 32768 && (e & (e - 1)) == 0, "ring entries");
    }
    for (std::size_t i = 0; i < c.peers.size(); ++i) {
        const Peer& p = c.peers[i];
        require(p.name == "peer[" + std::to_string(i + 1) + "]", "peer name");
        require(!p.public_key.base64.empty(), "peer without a public key");
        if (p.preshared_key) check_key(*p.preshared_key);
        require(!(p.endpoint && !p.endpoint_name.empty()), "endpoint both resolved and named");
        if (p.endpoint) {
            const int family = p.endpoint->addr.ss_family;
            require(family == AF_INET || family == AF_INET6, "endpoint family");
        }
        for (const Prefix& a : p.allowed_ips)
            check_prefix(a, true);
    }
}

void check_error(const Error& e, std::string_view text) {
    require(e.where.file == config_name, "error names another file");
    require(!e.message.empty(), "error without a message");
    const auto lines = static_cast<unsigned>(std::count(text.begin(), text.end(), '\n')) + 1;
    require(e.where.line <= lines, "error past the last line");
    require(e.to_string().starts_with(config_name), "error text");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    LoadOptions options;
    options.resolve_names = false;
    options.read_key_file = key_file;
    LoadResult result =
        load_text(FileText{SecretText(text), S_IFREG | 0600, 0}, config_name, options);
    if (const auto* e = std::get_if<Error>(&result)) {
        check_error(*e, text);
    } else {
        check_config(std::get<Config>(result));
    }
    return 0;
}
