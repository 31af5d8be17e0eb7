#!/usr/bin/env bash
# crypto/ is a pure library: every symbol it takes from outside must be OpenSSL, the C++
# runtime, libc's memory functions or libgcc's CPU feature probe (__cpu_model). A syscall
# wrapper (read, write, clock_gettime, time, getrandom, ...) or stdio appearing here fails the
# test; pthread_atfork (SystemRng empties its pool in a forked child) is no I/O and is allowed.
# Sanitizer builds add their own instrumentation symbols (__asan_*, __ubsan_*), also allowed.
set -euo pipefail
: "${CRYPTO_LIB:?path to libcrypto.a of ringtun}"
allowed='^(EVP_|OSSL_|OPENSSL_|CRYPTO_|RAND_priv_bytes$|__(asan|ubsan|sanitizer)_|_Z|__cxa_|__gxx_personality|_Unwind_|__stack_chk_fail$|__dso_handle$|_GLOBAL_OFFSET_TABLE_$|mem(cpy|set|move|cmp)$|abort$|strlen$|pthread_atfork$|__cpu_model$|__cpu_indicator_init$)'
bad=$(nm -u "$CRYPTO_LIB" | awk 'NF == 2 {print $2}' | sort -u | grep -Ev "$allowed" || true)
# C++ symbols: reject any from the standard library's I/O or time facilities.
bad_cxx=$(nm -u -C "$CRYPTO_LIB" | grep -E 'std::(chrono|this_thread|basic_ostream|basic_istream|cout|cerr)' || true)
if [ -n "$bad$bad_cxx" ]; then
  echo "crypto/ references functions outside its allowance:" >&2
  echo "$bad" "$bad_cxx" >&2
  exit 1
fi
n=$(nm -u "$CRYPTO_LIB" | awk 'NF == 2' | sort -u | wc -l)
echo "crypto_pure: $n external symbols, all OpenSSL, C++ runtime or mem*"
