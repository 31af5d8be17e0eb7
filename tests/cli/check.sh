#!/usr/bin/env bash
# `ringtun check` refuses what `ringtun run` would refuse, with the same located message:
# an interface name the kernel would not take as given ("rt%d" is a name template), a user
# that does not exist. An endpoint host name that does not resolve is only a warning (exit 0):
# run starts and the peer waits; so is a file the [interface] user could not read again.
set -euo pipefail
: "${RINGTUN:?path to the ringtun binary}"

fail() { echo "FAIL: $*" >&2; exit 1; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
key=$("$RINGTUN" genkey)

conf="$dir/rt.toml"
printf '[interface]\nprivate_key = "%s"\nname = "rt%%d"\n' "$key" >"$conf"
chmod 600 "$conf"
expected="$conf:3:8: interface.name: \"rt%d\" is not a valid interface name: '%' is not allowed"

set +e
out=$("$RINGTUN" check "$conf" 2>&1)
rc=$?
set -e
[ $rc -eq 1 ] || fail "check exit code $rc for name = \"rt%d\" (output: $out)"
grep -qF "$expected" <<<"$out" || fail "check did not print the located message: $out"

# run stops at the same point, before any TUN or socket. An unusable RINGTUN_TUN_FD makes a
# run that got past the configuration fail at once instead of creating an interface.
set +e
out=$(RINGTUN_TUN_FD=none timeout 10 "$RINGTUN" run "$conf" 2>&1)
rc=$?
set -e
[ $rc -eq 1 ] || fail "run exit code $rc for name = \"rt%d\" (output: $out)"
grep -qF "$expected" <<<"$out" || fail "run did not print the located message: $out"

# [ring] sizes the ring cannot hold are refused by check as by run (run checks them once the
# kernel's features are known, before any TUN or socket).
# Asserts that check (exit 1) and run both refuse $conf with MESSAGE; WHAT names the case.
refused_by_both() {
  local msg=$1 what=$2 out rc run_out
  set +e
  out=$("$RINGTUN" check "$conf" 2>&1)
  rc=$?
  run_out=$(RINGTUN_TUN_FD=none timeout 10 "$RINGTUN" run "$conf" 2>&1)
  set -e
  grep -qF "$msg" <<<"$run_out" || fail "run did not refuse $what: $run_out"
  [ $rc -eq 1 ] || fail "check exit code $rc for $what (output: $out)"
  grep -qF "$msg" <<<"$out" || fail "check did not print run's message for $what: $out"
}
printf '[interface]\nprivate_key = "%s"\nname = "rt7"\n[ring]\nentries = 64\n' "$key" >"$conf"
refused_by_both "[ring]: entries = 64 gives a completion queue of 512" "entries = 64"

# An endpoint host name that does not resolve is a warning, not an error: run would start and
# the peer would wait for the name. (An empty label fails in glibc before any DNS query.)
printf '[interface]\nprivate_key = "%s"\nname = "rt7"\n[[peer]]\npublic_key = "%s"\nendpoint = "%s"\n' \
  "$key" "$("$RINGTUN" genkey | "$RINGTUN" pubkey)" "nonexistent..invalid:51820" >"$conf"
out=$("$RINGTUN" check "$conf" 2>&1) || fail "check refused an endpoint name that does not resolve: $out"
grep -qF "$conf: peer[1].endpoint: warning: nonexistent..invalid:51820 does not resolve (Name or service not known)" <<<"$out" ||
  fail "check did not warn of the name: $out"
grep -qF "OK (interface rt7, 1 peer)" <<<"$out" || fail "unexpected check output: $out"

# [interface] user: one the user database does not know is refused by check and by run; one
# it knows passes, with a warning for each file a reload would read that the user cannot (the
# directory here is mktemp's, 0700).
printf '[interface]\nprivate_key = "%s"\nname = "rt7"\nuser = "%s"\n' "$key" \
  ringtun-no-such-user >"$conf"
refused_by_both "$conf:4:8: interface.user: ringtun-no-such-user: no such user" "an unknown user"
if id nobody >/dev/null 2>&1; then
  printf '[interface]\nprivate_key = "%s"\nname = "rt7"\nuser = "nobody"\n' "$key" >"$conf"
  out=$("$RINGTUN" check "$conf" 2>&1) || fail "check refused user = \"nobody\": $out"
  grep -qF "$conf: warning: $conf: user nobody: $dir (owner uid $(id -u), group gid $(id -g), mode 0700) cannot be entered; run starts, but a reload would fail" <<<"$out" ||
    fail "check did not warn that nobody cannot read $conf: $out"
  chmod 0711 "$dir"
  out=$("$RINGTUN" check "$conf" 2>&1) || fail "check refused user = \"nobody\": $out"
  grep -qF "user nobody: cannot be read (owner uid $(id -u), group gid $(id -g), mode 0600)" <<<"$out" ||
    fail "check did not warn that nobody cannot read $conf itself: $out"
  chmod 0700 "$dir"
fi

# A link-local endpoint whose scope interface does not exist: check names the interface (issue
# 12: it said "is not an IPv6 address"), as run would refuse it.
printf '[interface]\nprivate_key = "%s"\nname = "rt7"\n[[peer]]\npublic_key = "%s"\nendpoint = "%s"\n' \
  "$key" "$("$RINGTUN" genkey | "$RINGTUN" pubkey)" "[fe80::1%nosuchif]:51820" >"$conf"
rc=0
out=$("$RINGTUN" check "$conf" 2>&1) || rc=$?
[ $rc -eq 1 ] || fail "check exit code $rc for a scope interface that does not exist (output: $out)"
grep -qF "$conf:6:12: peer[1].endpoint: \"fe80::1%nosuchif\": the scope interface \"nosuchif\" does not exist" <<<"$out" ||
  fail "check did not name the missing scope interface: $out"

# The same file with a valid name passes.
printf '[interface]\nprivate_key = "%s"\nname = "rt7"\n' "$key" >"$conf"
out=$("$RINGTUN" check "$conf") || fail "check refused a valid config: $out"
grep -qF "OK (interface rt7, 0 peers)" <<<"$out" || fail "unexpected check output: $out"
echo "ok"
