#!/usr/bin/env bash
# The systemd unit CMake generated: it parses and references an existing binary
# (systemd-analyze verify on an instance of the template, with the binary under test), names
# the binary where the install prefix puts it, and keeps its contract: Type=notify, a
# synchronous ExecReload, a watchdog, only CAP_NET_ADMIN and CAP_NET_BIND_SERVICE, the user
# ringtun and its socket directory, and an exposure of at most 2.6 by systemd-analyze security.
set -euo pipefail
: "${RINGTUN:?path to the ringtun binary}" "${RINGTUN_UNIT:?the generated unit}"
: "${RINGTUN_SRC:?source tree}"
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sbin=$(sed -n 's|^ExecStart=\(.*\)/ringtun run .*|\1|p' "$RINGTUN_UNIT")
[ -n "$sbin" ] || fail "no ExecStart=…/ringtun run in $RINGTUN_UNIT"
grep -q "^ExecReload=$sbin/ringtun reload %i$" "$RINGTUN_UNIT" || fail "ExecReload"
sed "s|$sbin/ringtun|$RINGTUN|g" "$RINGTUN_UNIT" >"$dir/ringtun@.service"
cp "$dir/ringtun@.service" "$dir/ringtun@t0.service"
# Documentation= names our man pages: found in the tree (the trailing ':' keeps man's own).
out=$(MANPATH="$RINGTUN_SRC/docs/man:" systemd-analyze verify "$dir/ringtun@t0.service" 2>&1) ||
  { echo "$out" >&2; exit 1; }
[ -z "$out" ] || fail "systemd-analyze verify: $out"
for line in Type=notify "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE" WatchdogSec=10 \
  User=ringtun Group=ringtun NoNewPrivileges=yes ReadWritePaths=-/run/wireguard \
  "ExecStartPre=+/usr/bin/install -d -o root -g ringtun -m 1775 /run/wireguard"; do
  grep -qx "$line" "$dir/ringtun@.service" || fail "missing $line"
done
# systemd-analyze security reads unit files offline with --offline (systemd 250+).
score=$(systemd-analyze security --offline=yes "$dir/ringtun@t0.service" 2>/dev/null |
  sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || fail "no exposure level from systemd-analyze security --offline"
# 2.6: what the unit scored running as root; as ringtun it scores 2.2, and must not get worse.
awk -v s="$score" 'BEGIN { exit !(s <= 2.6) }' || fail "exposure $score is above 2.6"
echo "systemd unit verified; systemd-analyze security: exposure $score"
