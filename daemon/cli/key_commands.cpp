#include "daemon/cli/key_commands.hpp"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include <cctype>
#include <string_view>

#include "crypto/keys.hpp"
#include "crypto/rng.hpp"
#include "crypto/x25519.hpp"

namespace ringtun::daemon {

namespace {

// wg's check and words (wireguard-tools src/genkey.c): a key in a file others can read is
// no secret.
void warn_if_world_accessible(std::FILE* out, std::FILE* err) {
    struct stat st {};
    if (::fstat(::fileno(out), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IRWXO))
        std::fputs(
            "Warning: writing to world accessible file.\n"
            "Consider setting the umask to 077 and trying again.\n",
            err);
}

int write_secret(std::span<const std::uint8_t, 32> key, std::FILE* out, std::FILE* err) {
    warn_if_world_accessible(out, err);
    std::string text = crypto::key_to_base64(key);
    const int rc = std::fprintf(out, "%s\n", text.c_str()) < 0 || std::fflush(out) != 0 ? 1 : 0;
    OPENSSL_cleanse(text.data(), text.size());
    return rc;
}

}  // namespace

int genkey(std::FILE* out, std::FILE* err) {
    crypto::SystemRng rng;
    const crypto::PrivateKey key = crypto::generate_private_key(rng);
    return write_secret(key.span(), out, err);
}

int genpsk(std::FILE* out, std::FILE* err) {
    crypto::SystemRng rng;
    crypto::SymmetricKey psk;
    rng.fill(psk.span());
    return write_secret(psk.span(), out, err);
}

int pubkey(std::FILE* in, std::FILE* out, std::FILE* err) {
    // A key is 44 characters; read a little more to detect trailing garbage.
    char buf[128];
    std::size_t n = std::fread(buf, 1, sizeof buf, in);
    std::string_view text(buf, n);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
        text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.remove_suffix(1);
    auto raw = crypto::key_from_base64(text);
    OPENSSL_cleanse(buf, sizeof buf);
    if (!raw || n == sizeof buf) {
        std::fputs(
            "ringtun pubkey: standard input is not a private key (expected 44 base64 "
            "characters ending in '=', as written by 'ringtun genkey' or 'wg genkey')\n",
            err);
        return 1;
    }
    crypto::PrivateKey key(*raw);
    OPENSSL_cleanse(raw->data(), raw->size());
    std::string pub = crypto::key_to_base64(crypto::derive_public_key(key).span());
    return std::fprintf(out, "%s\n", pub.c_str()) < 0 || std::fflush(out) != 0 ? 1 : 0;
}

}  // namespace ringtun::daemon
