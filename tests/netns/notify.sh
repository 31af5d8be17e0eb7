#!/usr/bin/env bash
# The service manager hears of a stop when it begins: with NOTIFY_SOCKET set, ringtun sends
# READY=1 once the interface is up and STOPPING=1 as soon as SIGTERM starts the shutdown —
# before the drain, whose "shutdown:" line comes after it (systemd shows "deactivating" while
# the daemon drains). The notify messages and the log lines share one datagram socket, so
# their order is the order the daemon sent them.
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

netns_pair
RT_IF=rtb0
make_keypair rta
make_keypair rtb
ringtun_side_config a udp 4
out=$(timeout 30 python3 "$NETNS_LIB_DIR/notify_order.py" "$RINGTUN" "$NS_A" \
  "$NETNS_TMP/ringtun-a.toml") || netns_fail "notify_order.py failed: $out"
echo "$out" | tr '\n' ' '
echo
get() { kv_get "$1" <<<"$(tr '\n' ' ' <<<"$out")"; }
[ "$(get exit)" = 0 ] || netns_fail "ringtun exited with $(get exit) after SIGTERM"
[ "$(get ready)" -ge 0 ] || netns_fail "no READY=1"
[ "$(get stopping)" -gt "$(get ready)" ] || netns_fail "no STOPPING=1 after READY=1"
[ "$(get shutdown_line)" -ge 0 ] || netns_fail "no 'shutdown:' log line"
[ "$(get stopping)" -lt "$(get shutdown_line)" ] ||
  netns_fail "STOPPING=1 came after the drain's 'shutdown:' line, not when shutdown began"
echo "notify: ok"
