// main() for an allocation-counting test that also counts OpenSSL's allocations: its hooks
// can only be installed before OpenSSL allocates anything, so the executable brings its own
// main. Include it in exactly one file (which defines DOCTEST_CONFIG_IMPLEMENT first).
#pragma once

#include <doctest/doctest.h>
#include <openssl/crypto.h>

#include <cstdio>

#include "tests/unit/alloc_counter.hpp"

namespace ringtun::test::alloc {

inline void* openssl_malloc(size_t n, const char*, int) {
    note(true);
    return std::malloc(n);
}
inline void* openssl_realloc(void* p, size_t n, const char*, int) {
    note(true);
    return std::realloc(p, n);
}
inline void openssl_free(void* p, const char*, int) {
    std::free(p);
}

}  // namespace ringtun::test::alloc

int main(int argc, char** argv) {
    namespace a = ringtun::test::alloc;
    if (CRYPTO_set_mem_functions(a::openssl_malloc, a::openssl_realloc, a::openssl_free) != 1) {
        std::fputs("OpenSSL allocated before main; cannot count its allocations\n", stderr);
        return 1;
    }
    doctest::Context context(argc, argv);
    return context.run();
}
