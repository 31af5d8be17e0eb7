#!/usr/bin/env bash
# The outer link down for DOWN_SECS, then up: A's veth (the path to B) is taken down while
# pings flow A -> B through the tunnel every 0.1 s, and brought up again 20 s later. Neither
# daemon is touched. While the link is down A's sends fail, and after 15 s without an answer
# (KEEPALIVE_TIMEOUT + REKEY_TIMEOUT) A starts handshakes that cannot leave. The session
# itself stays valid (REJECT_AFTER_TIME is 180 s), so nothing needs to happen once the link
# is back: asserted, the first reply arrives within RESUME_MS of the link's return, a new
# handshake completes within HANDSHAKE_MS (A's next retry: REKEY_TIMEOUT plus up to 333 ms
# of jitter, and margin), and both daemons still run.
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

DOWN_SECS=20
RESUME_MS=1000
HANDSHAKE_MS=$((5333 + 1500))

fault_pair_with_pings $((DOWN_SECS + 30))
log_a="$NETNS_TMP/ringtun-a.log"

t_down=$(now_ms)
ip -n "$NS_A" link set veth0 down || netns_fail "cannot take veth0 down in $NS_A"
sleep $DOWN_SECS
handshakes=$(handshake_count "$RINGTUN_PID_A" "$log_a")
ip -n "$NS_A" link set veth0 up || netns_fail "cannot bring veth0 up in $NS_A"
t_up=$(now_ms)
wait_for_carrier "$NS_A" veth0 5 || netns_fail "veth0 in $NS_A did not come back"
ms=$(ping_watch_recovery v4 "$t_up" 10) ||
  netns_fail "no ping answered within 10 s of the outer link's return"
hs=$(handshake_after "$RINGTUN_PID_A" "$log_a" "$handshakes" "$t_up" 15) ||
  netns_fail "A completed no handshake within 15 s of the outer link's return"
echo "outer link down $((t_up - t_down)) ms; pings answered again $ms ms after it came up," \
  "handshake after $hs ms; A: $(grep -c 'not answering' "$log_a" || true) 'not answering' notice(s)"
fault_bound "traffic after the outer link came up (down ${DOWN_SECS} s)" "$ms" $RESUME_MS
fault_bound "new handshake after the outer link came up" "$hs" $HANDSHAKE_MS
ping_ok "$NS_B" "$TUN_A4" 3 5 && ping_ok "$NS_A" "$TUN_B6" 3 5 ||
  netns_fail "no ping B -> A or over IPv6 after the outer link came up"
ringtun_pair_stop
netns_cleanup
netns_assert_clean
echo "fault_outer_link_down: ok"
