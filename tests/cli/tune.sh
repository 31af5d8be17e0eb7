#!/usr/bin/env bash
# `ringtun tune` refuses what it cannot do before touching anything: without root it exits 1
# saying why (as nobody when run as root); a bad budget or an empty path is a usage error (2).
set -euo pipefail
: "${RINGTUN:?path to the ringtun binary}"

fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

out=$("$RINGTUN" tune --help) || fail "tune --help: exit $?"
grep -q '^Usage: ringtun tune \[--budget SECONDS\] \[--csv PATH\] \[--svg PATH\]' <<<"$out" ||
  fail "tune --help printed: $out"

expect() {  # expect STATUS MESSAGE COMMAND...
  local want=$1 message=$2 rc=0 out
  shift 2
  out=$("$@" 2>&1) || rc=$?
  [ $rc -eq "$want" ] || fail "$*: exit $rc, want $want (output: $out)"
  grep -qF -- "$message" <<<"$out" || fail "$*: no '$message' in: $out"
}
expect 2 "unknown option '--bogus'" "$RINGTUN" tune --bogus
expect 2 "--budget: '5' is not a number of seconds from 15 to 86400" "$RINGTUN" tune --budget 5
expect 2 "--budget: 'soon' is not a number of seconds" "$RINGTUN" tune --budget=soon
expect 2 "option '--budget' needs a value" "$RINGTUN" tune --budget
expect 2 "--csv: an empty path" "$RINGTUN" tune --csv=
expect 2 "wrong number of arguments" "$RINGTUN" tune extra

needs_root="ringtun tune: needs root (it creates network namespaces and TUN devices)"
if [ "$(id -u)" -ne 0 ]; then
  expect 1 "$needs_root" "$RINGTUN" tune --budget 20
elif command -v setpriv >/dev/null; then
  # nobody needs a copy of the binary it can reach, and a directory it may write in.
  chmod 777 "$tmp"
  install -m 755 "$RINGTUN" "$tmp/ringtun"
  expect 1 "$needs_root" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
    "$tmp/ringtun" tune --budget 20
  [ "$(cat <(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
    "$tmp/ringtun" tune 2>&1))" = "$needs_root" ] || fail "more than the one line as nobody"
else
  echo "tune: setpriv missing; the refusal without root not checked" >&2
fi
left=$(find "$tmp" -mindepth 1 ! -name ringtun)
[ -z "$left" ] || fail "files left: $left"
echo "tune: usage errors exit 2, and without root it exits 1 saying why, creating nothing"
