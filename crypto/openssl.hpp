// OpenSSL plumbing shared by crypto/ files: algorithms fetched once per process and RAII
// owners for OpenSSL objects. Internal to crypto/.
#pragma once

#include <openssl/evp.h>

#include <memory>

namespace ringtun::crypto::detail {

struct Algorithms {
    EVP_CIPHER* chacha20_poly1305 = nullptr;
};

// Fetched on first use (thread-safe); a missing algorithm aborts the process, because nothing
// in ringtun can work without it. Programs call crypto::self_check() first and report it.
const Algorithms& algorithms() noexcept;

template <auto Fn>
struct Deleter {
    template <typename T>
    void operator()(T* p) const noexcept {
        Fn(p);
    }
};

using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;

}  // namespace ringtun::crypto::detail

namespace ringtun::crypto {
// True when every algorithm ringtun needs is available from the OpenSSL default provider.
bool self_check() noexcept;
}  // namespace ringtun::crypto
