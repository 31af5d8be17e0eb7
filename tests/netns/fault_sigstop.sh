#!/usr/bin/env bash
# One side stopped (SIGSTOP) for STOP_SECS, then continued (SIGCONT), while A pings B through
# the tunnel every 0.1 s. B (the side that only answers) is stopped: its socket queues what A
# sends, A's pings go unanswered, and after 15 s without an answer (KEEPALIVE_TIMEOUT +
# REKEY_TIMEOUT) A starts handshakes, retried every REKEY_TIMEOUT (5 s + up to 333 ms of
# jitter), which B cannot answer. What WireGuard's rules imply once B runs again:
#   - the session outlives the stop (REJECT_AFTER_TIME is 180 s), so B answers the data it
#     finds as soon as it runs: the first reply within FAULT_RESUME_MS of SIGCONT;
#   - the initiations B finds queued are stale (each retry replaced the one before, and B
#     takes at most one initiation per 20 ms from a peer), so the handshake completes on A's
#     next retry: within REKEY_TIMEOUT + jitter of SIGCONT, asserted with 1.5 s of margin
#     (FAULT_RETRY_MS).
# Both daemons must still run, and the tunnel carry pings both ways.
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

STOP_SECS=30

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
echo "B stopped for $((t_cont - t_stop)) ms; A logged 'not answering' $started time(s) during" \
  "the stop"
fault_recovered "B was stopped for ${STOP_SECS} s and continued" "$t_cont" "$handshakes"
fault_pair_finish fault_sigstop "after SIGCONT"
