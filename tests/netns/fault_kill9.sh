#!/usr/bin/env bash
# One side killed with SIGKILL (no shutdown of any kind) and started again at once with the
# same configuration, while A pings B through the tunnel every 0.1 s (A sends, B only
# answers). The recovery time is measured and held to what WireGuard's timers imply:
#   - A killed (the side with data to send): the new A has no session, so its first packet
#     starts a handshake at once; B accepts it (its TAI64N timestamp is newer than any the old
#     A sent). Nothing waits on a timer: traffic within RESTART_A_MS of A's TUN coming back.
#   - B killed (the side that only answers): A keeps sending on a session B no longer knows,
#     and B drops it. A starts a new handshake when it has sent data and received nothing
#     authenticated for KEEPALIVE_TIMEOUT + REKEY_TIMEOUT = 15 s, plus up to 333 ms of jitter,
#     counted from its first unanswered packet (within a ping interval of the kill). So
#     traffic resumes 15.0-15.5 s after the kill; asserted within RESTART_B_MS.
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

RESTART_A_MS=1000
KEEPALIVE_TIMEOUT_MS=10000 REKEY_TIMEOUT_MS=5000 JITTER_MS=333 PING_MS=100
RESTART_B_MS=$((KEEPALIVE_TIMEOUT_MS + REKEY_TIMEOUT_MS + JITTER_MS + PING_MS + 1000))

# Kills SIDE with SIGKILL, waits for its TUN and port to go, starts it again and waits for its
# TUN. Sets T_KILL and T_BACK (now_ms when the kill was sent and when the TUN was back).
kill_and_restart() {
  local side=$1 ns=NS_${1^^} pid=RINGTUN_PID_${1^^}
  T_KILL=$(now_ms)
  kill -KILL "${!pid}"
  wait "${!pid}" 2>/dev/null || true
  wait_released "${!ns}" 5
  ringtun_side_start "$side"
  ringtun_side_wait "$side"
  T_BACK=$(now_ms)
}

fault_pair_with_pings 60

kill_and_restart a
ms=$(ping_watch_recovery v4 "$T_BACK" 10) ||
  netns_fail "A killed and restarted: no ping answered within 10 s of its TUN's return"
echo "A killed and restarted: its TUN back $((T_BACK - T_KILL)) ms after the kill, traffic" \
  "$ms ms later ($((T_BACK + ms - T_KILL)) ms after the kill); rule: a handshake at once"
fault_bound "traffic after A (the sender) was killed and restarted, from its TUN's return" \
  "$ms" $RESTART_A_MS

kill_and_restart b
ms=$(ping_watch_recovery v4 "$T_BACK" 25) ||
  netns_fail "B killed and restarted: no ping answered within 25 s of its TUN's return"
total=$((T_BACK + ms - T_KILL))
echo "B killed and restarted: its TUN back $((T_BACK - T_KILL)) ms after the kill, traffic" \
  "$total ms after the kill; rule: KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + jitter =" \
  "$((KEEPALIVE_TIMEOUT_MS + REKEY_TIMEOUT_MS))-$((KEEPALIVE_TIMEOUT_MS + REKEY_TIMEOUT_MS + JITTER_MS)) ms"
fault_bound "traffic after B (the responder) was killed and restarted, from the kill" \
  "$total" $RESTART_B_MS
fault_pair_finish fault_kill9 "after the restarts"
