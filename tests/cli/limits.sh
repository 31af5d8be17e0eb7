#!/usr/bin/env bash
# ringtun's limits on the files it reads fit real deployments and say whose they are: a
# configuration of 100,000 peers (each with a public key, an endpoint, an allowed IP and a
# persistent keepalive; about 16 MB) loads, and `ringtun check` takes it in bounded time; a
# configuration file or a key file over the limit is refused with a message that names the
# limit as ringtun's own (a 1 MiB cap once refused about 5,000 peers with "larger than
# 1048576 bytes", which read like the system's).
set -euo pipefail
: "${RINGTUN:?path to the ringtun binary}"
here=$(cd "$(dirname "$0")" && pwd)

fail() { echo "FAIL: $*" >&2; exit 1; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
conf="$dir/rt.toml"
(umask 077 && printf '[interface]\nprivate_key = "%s"\nname = "rt7"\n' "$("$RINGTUN" genkey)" >"$conf")
python3 "$here/../tools/scale_peers.py" 100000 --keepalive 25 >>"$conf"
echo "100,000 peers: $(stat -c %s "$conf") bytes"

# An ASan build runs several times slower; the bound is for a stuck or quadratic load, which
# took minutes.
bound=20
grep -aq __asan_init "$RINGTUN" && bound=120
t0=$EPOCHREALTIME
set +e
out=$(timeout $((bound * 3)) "$RINGTUN" check "$conf" 2>&1)
rc=$?
set -e
ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
echo "ringtun check: ${ms} ms, exit $rc: $out"
[ $rc -eq 0 ] || fail "check refused 100,000 peers (exit $rc): $out"
grep -qF "OK (interface rt7, 100000 peers)" <<<"$out" || fail "unexpected check output: $out"
[ "$ms" -lt $((bound * 1000)) ] || fail "check took $ms ms for 100,000 peers (bound ${bound} s)"

# Over the limit: the message says the limit is ringtun's, and how large it is.
big="$dir/big.toml"
limit_mib=64
# Sparse: the reader refuses on the file's size (fstat) before reading a byte of it.
truncate -s $((limit_mib * 1024 * 1024 + 1)) "$big"
chmod 600 "$big"
set +e
out=$("$RINGTUN" check "$big" 2>&1)
rc=$?
set -e
echo "over the limit: $out"
[ $rc -eq 1 ] || fail "check exit $rc for a file over the limit: $out"
grep -qF "$big: larger than ringtun's limit of $limit_mib MiB for a configuration file" <<<"$out" ||
  fail "the message does not name ringtun's limit: $out"

key="$dir/big.key"
(umask 077 && head -c 4097 /dev/zero | tr '\0' 'A' >"$key")
printf '[interface]\nprivate_key_file = "%s"\nname = "rt7"\n' "$key" >"$conf"
set +e
out=$("$RINGTUN" check "$conf" 2>&1)
rc=$?
set -e
echo "key file over the limit: $out"
[ $rc -eq 1 ] || fail "check exit $rc for a key file over the limit: $out"
grep -qF "$key is larger than ringtun's limit of 4 KiB for a key file" <<<"$out" ||
  fail "the key file's message does not name ringtun's limit: $out"
echo "limits: ok"
