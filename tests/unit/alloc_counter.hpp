// Counting every heap allocation made while `counting` is on: a replacement operator
// new/delete (C++), and with alloc_counter_main.hpp also OpenSSL's (CRYPTO_malloc).
//
// Defines the replacement operators: include it in exactly one file of a test executable.
// The replacements pair malloc with free, which GCC cannot see through.
#pragma once
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <atomic>
#include <cstdlib>
#include <new>

namespace ringtun::test::alloc {

inline std::atomic<bool> counting{false};
inline std::atomic<long> allocations{0};          // all of them, OpenSSL's included
inline std::atomic<long> openssl_allocations{0};  // OpenSSL's alone

inline void note(bool openssl = false) noexcept {
    if (!counting.load(std::memory_order_relaxed)) return;
    allocations.fetch_add(1);
    if (openssl) openssl_allocations.fetch_add(1);
}

// Runs `f` with counting on; returns how many allocations it made.
template <typename F>
long count(F&& f) {
    allocations = 0;
    openssl_allocations = 0;
    counting = true;
    f();
    counting = false;
    return allocations.load();
}

}  // namespace ringtun::test::alloc

void* operator new(std::size_t n) {
    ringtun::test::alloc::note();
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    return operator new(n);
}
// The nothrow forms too (the engine allocates sessions with them): left to the library, their
// blocks would come back through the free() below, which ASan reports as a mismatch.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    ringtun::test::alloc::note();
    return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept {
    return operator new(n, t);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
