#!/usr/bin/env bash
# One side of a ringtun pair restarted mid-transfer: a paced TCP stream A -> B runs while
# first A (the initiator and sender) and then B (the responder and receiver) is stopped with
# SIGTERM and started again with the same configuration. The other side is never touched;
# after each restart the stream must resume within a bound, ping must work both ways, and
# at the end the bytes received must hash the same as the bytes sent.
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

# Resumption bounds. A restarted sender initiates at once. A restarted receiver leaves the
# sender on a session the receiver forgot until the sender's timers start a new handshake
# (KEEPALIVE_TIMEOUT + REKEY_TIMEOUT = 15 s after the first unanswered data); TCP then
# retransmits on its own backed-off schedule (RTO doubling from 0.2 s: up to ~13 s more,
# ~2 s where net.ipv4.tcp_rto_max_ms exists).
HANDSHAKE_SECS_A=5
RESUME_SECS_A=10
HANDSHAKE_SECS_B=20
RESUME_SECS_B=40
STREAM_RATE=$((2 << 20))
STREAM_TIMEOUT=150

# Restarts side SIDE (a or b): the restarted daemon must complete a handshake with the
# untouched one within HS_SECS and the stream resume within SECS seconds of the restart.
restart_side() {
  local side=$1 hs_secs=$2 secs=$3 ns pid log other_pid got t0 hs_ms waited hs_before
  if [ "$side" = a ]; then
    ns=$NS_A pid=$RINGTUN_PID_A other_pid=$RINGTUN_PID_B
  else
    ns=$NS_B pid=$RINGTUN_PID_B other_pid=$RINGTUN_PID_A
  fi
  log="$NETNS_TMP/ringtun-$side.log"
  ringtun_stop "$ns" "$pid" "$log"
  got=$(stream_progress)
  hs_before=$(count_lines "$log" 'handshake complete')
  ringtun_side_start "$side"
  ringtun_side_wait "$side"
  t0=$(now_ms)
  netns_poll "[ \$(count_lines '$log' 'handshake complete') -gt $hs_before ]" "$hs_secs" ||
    netns_fail "restart of $side: no handshake within ${hs_secs}s of the restart"
  hs_ms=$(($(now_ms) - t0))
  stream_wait_progress $((got + (256 << 10))) "$secs" || netns_fail "restart of $side: the" \
    "stream did not resume within ${secs}s ($got -> $(stream_progress) bytes)"
  waited=$(($(now_ms) - t0))
  netns_alive "$other_pid" || netns_fail "restart of $side: the other ringtun ($other_pid) died"
  echo "restart of $side: handshake after ${hs_ms} ms ($(grep 'handshake complete' "$log" |
    tail -n 1 | sed -E 's/.*complete \(([a-z]+)\).*/\1/')), stream resumed after ${waited} ms" \
    "($got -> $(stream_progress) bytes)"
  ping_ok "$NS_A" "$TUN_B4" 3 10 && ping_ok "$NS_B" "$TUN_A4" 3 10 &&
    ping_ok "$NS_A" "$TUN_B6" 3 10 && ping_ok "$NS_B" "$TUN_A6" 3 10 ||
    netns_fail "restart of $side: no ping both ways afterwards"
}

netns_pair
# Kernels from 6.15 on let TCP cap its retransmission backoff per namespace; A's stream then
# resumes within ~2 s of the new handshake instead of waiting out a 12.8 s backoff step.
ip netns exec "$NS_A" sysctl -qw net.ipv4.tcp_rto_max_ms=2000 2>/dev/null || true
ringtun_pair
ping_ok "$NS_A" "$TUN_B4" 3 10 && ping_ok "$NS_B" "$TUN_A4" 3 10 ||
  netns_fail "no ping through the ringtun pair"
stream_start "$NS_A" "$NS_B" "$TUN_B4" $STREAM_RATE $STREAM_TIMEOUT
orig_b=$RINGTUN_PID_B
restart_side a $HANDSHAKE_SECS_A $RESUME_SECS_A
[ "$RINGTUN_PID_B" = "$orig_b" ] || netns_fail "B was restarted along with A"
orig_a=$RINGTUN_PID_A
restart_side b $HANDSHAKE_SECS_B $RESUME_SECS_B
[ "$RINGTUN_PID_A" = "$orig_a" ] || netns_fail "A was restarted along with B"

stream_stop "across the restarts"

ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log"
ringtun_stop "$NS_B" "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log"
netns_cleanup
netns_assert_clean
echo "restart: ok"
