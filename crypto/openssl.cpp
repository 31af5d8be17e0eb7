#include "crypto/openssl.hpp"

#include <cstdlib>

namespace ringtun::crypto::detail {

namespace {

Algorithms fetch_all() noexcept {
    Algorithms a;
    a.chacha20_poly1305 = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
    return a;
}

const Algorithms& fetched() noexcept {
    static const Algorithms algs = fetch_all();
    return algs;
}

bool complete(const Algorithms& a) noexcept {
    return a.chacha20_poly1305 != nullptr;
}

}  // namespace

const Algorithms& algorithms() noexcept {
    const Algorithms& a = fetched();
    if (!complete(a)) std::abort();  // callers run self_check() first and report it
    return a;
}

}  // namespace ringtun::crypto::detail

namespace ringtun::crypto {
bool self_check() noexcept {
    return detail::complete(detail::fetched());
}
}  // namespace ringtun::crypto
