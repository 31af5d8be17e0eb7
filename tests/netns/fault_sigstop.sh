#!/usr/bin/env bash
# One side stopped (SIGSTOP) for STOP_SECS, then continued (SIGCONT), while A pings B through
# the tunnel every 0.1 s. B (the side that only answers) is stopped: its socket queues what A
# sends, A's pings go unanswered, and after 15 s without an answer (KEEPALIVE_TIMEOUT +
# REKEY_TIMEOUT) A starts handshakes, retried every REKEY_TIMEOUT (5 s + up to 333 ms of
# jitter), which B cannot answer. What WireGuard's rules imply once B runs again:
#   - the session outlives the stop (REJECT_AFTER_TIME is 180 s), so B answers the data it
#     finds as soon as it runs: the first reply within RESUME_MS of SIGCONT;
#   - the initiations B finds queued are stale (each retry replaced the one before, and B
#     takes at most one initiation per 20 ms from a peer), so the handshake completes on A's
#     next retry: within REKEY_TIMEOUT + jitter of SIGCONT, asserted with 1.5 s of margin.
# Both daemons must still run, and the tunnel carry pings both ways.
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

STOP_SECS=30
RESUME_MS=1000
HANDSHAKE_MS=$((5333 + 1500))

fault_pair_with_pings $((STOP_SECS + 30))
log_a="$NETNS_TMP/ringtun-a.log"

handshakes=$(handshake_count "$RINGTUN_PID_A" "$log_a")
kill -STOP "$RINGTUN_PID_B"
netns_on_cleanup "kill -CONT $RINGTUN_PID_B 2>/dev/null"
t_stop=$(now_ms)
sleep $STOP_SECS
[ "$(handshake_count "$RINGTUN_PID_A" "$log_a")" -eq "$handshakes" ] ||
  netns_fail "A completed a handshake while B was stopped"
started=$(count_lines "$log_a" 'not answering')
kill -CONT "$RINGTUN_PID_B"
t_cont=$(now_ms)
ms=$(ping_watch_recovery v4 "$t_cont" 10) || netns_fail "no ping answered within 10 s of SIGCONT"
hs=$(handshake_after "$RINGTUN_PID_A" "$log_a" "$handshakes" "$t_cont" 15) ||
  netns_fail "A completed no handshake within 15 s of SIGCONT"
echo "B stopped for $((t_cont - t_stop)) ms: pings answered again $ms ms after SIGCONT, A's" \
  "handshake $hs ms after it; A logged 'not answering' $started time(s) during the stop"
fault_bound "traffic after B was stopped for ${STOP_SECS} s and continued" "$ms" $RESUME_MS
fault_bound "handshake after B was continued" "$hs" $HANDSHAKE_MS
ping_ok "$NS_B" "$TUN_A4" 3 5 && ping_ok "$NS_A" "$TUN_B6" 3 5 ||
  netns_fail "no ping B -> A or over IPv6 after SIGCONT"
ringtun_pair_stop
netns_cleanup
netns_assert_clean
echo "fault_sigstop: ok"
