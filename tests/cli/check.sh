#!/usr/bin/env bash
# `ringtun check` refuses what `ringtun run` would refuse, with the same located message:
# an interface name the kernel would not take as given ("rt%d" is a name template). An endpoint
# host name that does not resolve is only a warning (exit 0): run starts and the peer waits.
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
printf '[interface]\nprivate_key = "%s"\nname = "rt7"\n[ring]\nentries = 64\n' "$key" >"$conf"
set +e
out=$("$RINGTUN" check "$conf" 2>&1)
rc=$?
run_out=$(RINGTUN_TUN_FD=none timeout 10 "$RINGTUN" run "$conf" 2>&1)
set -e
ring_msg="[ring]: entries = 64 gives a completion queue of 512"
grep -qF "$ring_msg" <<<"$run_out" || fail "run did not refuse entries = 64: $run_out"
[ $rc -eq 1 ] || fail "check exit code $rc for entries = 64 (output: $out)"
grep -qF "$ring_msg" <<<"$out" || fail "check did not print run's message: $out"

# An endpoint host name that does not resolve is a warning, not an error: run would start and
# the peer would wait for the name. (An empty label fails in glibc before any DNS query.)
printf '[interface]\nprivate_key = "%s"\nname = "rt7"\n[[peer]]\npublic_key = "%s"\nendpoint = "%s"\n' \
  "$key" "$("$RINGTUN" genkey | "$RINGTUN" pubkey)" "nonexistent..invalid:51820" >"$conf"
out=$("$RINGTUN" check "$conf" 2>&1) || fail "check refused an endpoint name that does not resolve: $out"
grep -qF "$conf: peer[1].endpoint: warning: nonexistent..invalid:51820 does not resolve (Name or service not known)" <<<"$out" ||
  fail "check did not warn of the name: $out"
grep -qF "OK (interface rt7, 1 peer)" <<<"$out" || fail "unexpected check output: $out"

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
