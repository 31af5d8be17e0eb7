#!/usr/bin/env bash
# The outer link down for DOWN_SECS, then up: A's veth (the path to B) is taken down while
# pings flow A -> B through the tunnel every 0.1 s, and brought up again 20 s later. Neither
# daemon is touched. While the link is down A's sends fail, and after 15 s without an answer
# (KEEPALIVE_TIMEOUT + REKEY_TIMEOUT) A starts handshakes that cannot leave. The session
# itself stays valid (REJECT_AFTER_TIME is 180 s), so nothing needs to happen once the link
# is back: asserted (fault_recovered), the first reply arrives within FAULT_RESUME_MS of the
# link's return, a new handshake completes within FAULT_RETRY_MS (A's next retry:
# REKEY_TIMEOUT plus up to 333 ms of jitter, and margin), and both daemons still run.
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

DOWN_SECS=20

fault_pair_with_pings $((DOWN_SECS + 30))
log_a="$NETNS_TMP/ringtun-a.log"

t_down=$(now_ms)
ip -n "$NS_A" link set veth0 down || netns_fail "cannot take veth0 down in $NS_A"
sleep $DOWN_SECS
handshakes=$(handshake_count "$RINGTUN_PID_A" "$log_a")
ip -n "$NS_A" link set veth0 up || netns_fail "cannot bring veth0 up in $NS_A"
t_up=$(now_ms)
wait_for_carrier "$NS_A" veth0 5 || netns_fail "veth0 in $NS_A did not come back"
echo "outer link down $((t_up - t_down)) ms; A: $(count_lines "$log_a" 'not answering')" \
  "'not answering' notice(s)"
fault_recovered "the outer link came up (down ${DOWN_SECS} s)" "$t_up" "$handshakes"
fault_pair_finish fault_outer_link_down "after the outer link came up"
