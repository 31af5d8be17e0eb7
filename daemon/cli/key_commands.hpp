// `ringtun genkey` and `ringtun pubkey`: the same text formats as `wg genkey` / `wg pubkey`.
#pragma once

#include <cstdio>

namespace ringtun::daemon {

// Writes a fresh base64 private key and a newline to `out`. Returns the process exit code.
int genkey(std::FILE* out);

// Reads a base64 private key (surrounding whitespace allowed) from `in`, writes its public key.
// On malformed input prints an error to `err` and returns 1.
int pubkey(std::FILE* in, std::FILE* out, std::FILE* err);

}  // namespace ringtun::daemon
