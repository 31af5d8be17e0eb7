// `ringtun genkey`, `genpsk` and `pubkey`: the same text formats (and the same warning) as
// `wg genkey` / `wg genpsk` / `wg pubkey`.
#pragma once

#include <cstdio>

namespace ringtun::daemon {

// Writes a fresh base64 private key and a newline to `out`, and to `err` wg's warning when
// `out` is a regular file others may read. Returns the process exit code.
int genkey(std::FILE* out, std::FILE* err);
// The same for a preshared key (32 random bytes).
int genpsk(std::FILE* out, std::FILE* err);

// Reads a base64 private key (surrounding whitespace allowed) from `in`, writes its public key.
// On malformed input prints an error to `err` and returns 1.
int pubkey(std::FILE* in, std::FILE* out, std::FILE* err);

}  // namespace ringtun::daemon
