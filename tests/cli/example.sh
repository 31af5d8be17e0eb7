#!/usr/bin/env bash
# docs/examples/rt0.toml, the example the package installs, is a valid configuration once its
# keys are real: its placeholder peer key is refused where it stands, and with a private key
# file and a peer key substituted `ringtun check` accepts it.
set -euo pipefail
: "${RINGTUN:?path to the ringtun binary}" "${RINGTUN_SRC:?source tree}"

fail() { echo "FAIL: $*" >&2; exit 1; }

example="$RINGTUN_SRC/docs/examples/rt0.toml"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
(umask 077 && "$RINGTUN" genkey >"$dir/rt0.key" 2>/dev/null)
peer=$("$RINGTUN" genkey 2>/dev/null | "$RINGTUN" pubkey)
grep -q '^private_key_file = "/etc/ringtun/rt0.key"' "$example" || fail "no private_key_file line"
grep -q '^public_key = "PEER_PUBLIC_KEY"' "$example" || fail "no PEER_PUBLIC_KEY placeholder"

conf="$dir/rt0.toml"
(umask 077 && sed "s|\"/etc/ringtun/rt0.key\"|\"$dir/rt0.key\"|" "$example" >"$conf")
set +e
out=$("$RINGTUN" check "$conf" 2>&1)
rc=$?
set -e
[ $rc -eq 1 ] || fail "check accepted the placeholder peer key (exit $rc): $out"
grep -q "^$conf:[0-9]*:[0-9]*: peer\[1\]\.public_key: " <<<"$out" ||
  fail "the placeholder was not refused at peer[1].public_key: $out"

(umask 077 && sed -e "s|\"/etc/ringtun/rt0.key\"|\"$dir/rt0.key\"|" \
  -e "s|\"PEER_PUBLIC_KEY\"|\"$peer\"|" "$example" >"$conf")
out=$("$RINGTUN" check "$conf" 2>&1) || fail "check refused the example: $out"
grep -qF "$conf: OK (interface rt0, 1 peer)" <<<"$out" || fail "unexpected check output: $out"
echo "ok: $out"
