#!/usr/bin/env bash
# ringtun's TUN device deleted from under it (`ip link del`) while traffic flows through it:
# the daemon cannot go on without its TUN, so it must log an error naming the TUN and exit
# with a non-zero status within 1 s, without spinning on the dead device meanwhile (less
# than MAX_CPU_MS of CPU time from the deletion to its exit, or to 2 s later).
# Defect 5: each TUN read failed with EBADFD and was re-armed at once, forever: the daemon
# burned a core and never exited.
# Needs root, /dev/net/tun, ip netns, iperf3 (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test iperf3

EXIT_WITHIN_MS=1000
WINDOW_MS=2000  # CPU time is measured until the exit or this long after the deletion
MAX_CPU_MS=300  # a re-arm loop burns ~1000 ms of CPU a second; a clean exit a few ms

# utime + stime of PID in milliseconds (threads included; readable while a zombie).
cpu_ms() {
  local st
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  st=${st##*) }
  # shellcheck disable=SC2086  # split the stat fields; utime and stime are fields 14 and 15
  set -- $st
  echo $(((${12} + ${13}) * 1000 / $(getconf CLK_TCK)))
}

netns_pair
ringtun_pair udp
iperf3_server "$NS_B"
ping_ok "$NS_A" "$TUN_B4" 3 10 || netns_fail "no ping A -> B through the tunnel"
log_a="$NETNS_TMP/ringtun-a.log"
pid=$RINGTUN_PID_A

# Traffic through A's TUN while it goes away; iperf3 ends by itself once its route is gone.
iperf3_client "$NS_A" "$TUN_B4" -u -b 200M -t 8 >"$NETNS_TMP/iperf3.json" 2>&1 &
netns_track $!
netns_poll "[ \$(stats_packets udp_tx <<<\"\$(ringtun_stats $pid '$log_a')\") -gt 1000 ]" 5 ||
  netns_fail "no iperf3 traffic through A's tunnel"

lines_before=$(wc -l <"$log_a")
cpu0=$(cpu_ms "$pid") || netns_fail "ringtun A ($pid) is gone before the deletion"
t0=$(now_ms)
ip -n "$NS_A" link del "$RT_IF" || netns_fail "cannot delete $RT_IF in $NS_A"
exit_ms="" cpu1=$cpu0
while :; do
  elapsed=$(($(now_ms) - t0))
  # Exited (a zombie until waited for) before its CPU time is read: a zombie's is not its own.
  if ! netns_alive "$pid"; then
    exit_ms=$elapsed
    break
  fi
  if c=$(cpu_ms "$pid") && [ "$c" -ge "$cpu1" ]; then cpu1=$c; fi
  [ "$elapsed" -lt $WINDOW_MS ] || break
  sleep 0.05
done
rc=""
if [ -n "$exit_ms" ]; then
  rc=0
  wait "$pid" 2>/dev/null || rc=$?
else
  netns_log "ringtun A still runs ${WINDOW_MS} ms after its TUN was deleted; killing it"
  block=$(ringtun_stats "$pid" "$log_a") &&
    netns_log "its loop counters: $(grep -o 'rearm .*;' <<<"$block" | tail -n 1)"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
fi
cpu=$((cpu1 - cpu0))
errors=$(tail -n +$((lines_before + 1)) "$log_a" | grep -Ei "^<[0-3]>.*(tun|$RT_IF)" || true)
echo "ringtun A after its TUN was deleted: exited after ${exit_ms:-(not within $WINDOW_MS)} ms" \
  "with status ${rc:-(none)}, ${cpu} ms of CPU; errors logged: ${errors:-none}"

[ -n "$exit_ms" ] ||
  netns_fail "ringtun A did not exit within $WINDOW_MS ms of its TUN's deletion (used $cpu ms of CPU)"
fault_bound "CPU time ringtun A used from its TUN's deletion to its exit" "$cpu" $MAX_CPU_MS
fault_bound "ringtun A's exit after its TUN was deleted" "$exit_ms" $EXIT_WITHIN_MS
[ "$rc" -ne 0 ] || netns_fail "ringtun A exited with status 0 after losing its TUN"
[ -n "$errors" ] ||
  netns_fail "ringtun A logged no error naming the TUN ($RT_IF) after its deletion"
netns_alive "$RINGTUN_PID_B" || netns_fail "ringtun B died"
ringtun_stop "$NS_B" "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log"
netns_cleanup
netns_assert_clean
echo "fault_tun_deleted: ok"
