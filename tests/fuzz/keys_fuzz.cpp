// libFuzzer target for the text forms of keys, from wherever outside input reaches them:
//   - base64 (crypto::key_from_base64: configuration keys, `ringtun pubkey`'s input): accepted
//     exactly when a reference reading of wg(8)'s rule accepts (44 characters of the standard
//     alphabet, '=' last, the last symbol's 2 unused bits zero), and then encoded back to the
//     same text;
//   - hex (the UAPI's hex_to_key): accepted exactly when the text is 64 hex digits, and then
//     encoded back to the same text in lower case;
//   - a key file's contents read through conf (the key-source rules and SecretText): the key
//     text is the contents trimmed of whitespace, an empty one is refused, a file past 4 KiB
//     is refused;
//   - every 32 bytes survive encoding and decoding in both forms.
// Input: the text (also the key file's contents); its first 32 bytes are the raw key.
// libFuzzer caps an input's length at the larger of 4096 and the longest input it starts
// from: the seed over-4k (a key padded to 4097 bytes) is what lets inputs reach the size rule.
#include <sys/stat.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "conf/load.hpp"
#include "crypto/keys.hpp"
#include "daemon/control/uapi_line.hpp"

using namespace ringtun;

namespace {

using Key = std::array<std::uint8_t, crypto::key_len>;

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "keys_fuzz: %s\n", what);
    std::abort();
}

// wg(8)'s base64 rule, read independently of crypto/keys.cpp: the value of each symbol, or -1.
int symbol(char c) {
    constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const std::size_t at = alphabet.find(c);
    return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

bool reference_base64_valid(std::string_view t) {
    if (t.size() != 44 || t[43] != '=') return false;
    for (std::size_t i = 0; i < 43; ++i)
        if (symbol(t[i]) < 0) return false;
    return (symbol(t[42]) & 3) == 0;
}

void check_base64(std::string_view text) {
    const std::optional<Key> key = crypto::key_from_base64(text);
    require(key.has_value() == reference_base64_valid(text), "base64 verdict");
    if (key) require(crypto::key_to_base64(*key) == text, "base64 round trip");
}

void check_hex(std::string_view text) {
    bool valid = text.size() == 64;
    for (char c : text)
        valid = valid && std::isxdigit(static_cast<unsigned char>(c));
    std::uint8_t key[32];
    require(daemon::control::hex_to_key(text, key) == valid, "hex verdict");
    if (!valid) return;
    char back[64];
    daemon::control::key_to_hex(key, back);
    for (std::size_t i = 0; i < 64; ++i)
        require(back[i] == std::tolower(static_cast<unsigned char>(text[i])), "hex round trip");
}

void check_raw(const std::uint8_t* raw) {
    Key key;
    std::memcpy(key.data(), raw, key.size());
    const std::string text = crypto::key_to_base64(key);
    require(text.size() == 44 && reference_base64_valid(text), "base64 encoding");
    require(crypto::key_from_base64(text) == key, "base64 decoding");
    char hex[64];
    daemon::control::key_to_hex(key.data(), hex);
    Key back;
    require(daemon::control::hex_to_key({hex, 64}, back.data()) && back == key, "hex decoding");
}

std::string_view trimmed(std::string_view s) {
    constexpr std::string_view space = " \t\r\n\v\f";
    const std::size_t first = s.find_first_not_of(space);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(space) - first + 1);
}

void check_key_file(std::string_view contents) {
    conf::LoadOptions options;
    options.resolve_names = false;
    options.read_key_file =
        [contents](const std::string&,
                   std::size_t max_bytes) -> std::variant<conf::FileText, conf::FileFailure> {
        if (contents.size() > max_bytes)
            return conf::FileFailure{conf::FileFailure::Kind::too_large, 0, max_bytes};
        return conf::FileText{conf::SecretText(contents), S_IFREG | 0600};
    };
    conf::LoadResult r =
        conf::load_text(conf::FileText{conf::SecretText("[interface]\nprivate_key_file = \"k\"\n"),
                                       S_IFREG | 0600, 0},
                        "/etc/ringtun/rt0.toml", options);
    const std::string_view expected = trimmed(contents);
    if (const auto* config = std::get_if<conf::Config>(&r)) {
        require(contents.size() <= 4096, "key file over 4 KiB accepted");
        require(!expected.empty(), "empty key file accepted");
        require(config->interface.private_key.base64.view() == expected, "key file trimming");
        return;
    }
    require(contents.size() > 4096 || expected.empty(), "key file refused");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_base64(text);
    check_base64(trimmed(text));  // as `ringtun pubkey` and key files read it
    check_hex(text);
    if (size >= crypto::key_len) check_raw(data);
    check_key_file(text);
    return 0;
}
