#!/usr/bin/env bash
# The systemd unit parses and references an existing binary: systemd-analyze verify on an
# instance of the template, with ExecStart pointed at the binary under test.
set -euo pipefail
: "${RINGTUN:?path to the ringtun binary}" "${RINGTUN_SRC:?source tree}"
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed" >&2; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s|/usr/local/sbin/ringtun|$RINGTUN|g" "$RINGTUN_SRC/systemd/ringtun@.service" >"$dir/ringtun@.service"
cp "$dir/ringtun@.service" "$dir/ringtun@t0.service"
out=$(systemd-analyze verify "$dir/ringtun@t0.service" 2>&1) || { echo "$out" >&2; exit 1; }
if [ -n "$out" ]; then echo "$out" >&2; exit 1; fi
grep -q '^Type=notify$' "$dir/ringtun@.service"
grep -q '^CapabilityBoundingSet=CAP_NET_ADMIN$' "$dir/ringtun@.service"
echo "systemd unit verified"
