#!/usr/bin/env bash
# ringtun's standard error is a pipe whose reader first stalls, then goes away, while pings
# flow A -> B every 0.1 s: B's stderr is a FIFO read by `cat`. The reader is stopped (the
# pipe fills: writes would block) and then killed (writes fail with EPIPE, which would raise
# SIGPIPE), while B logs its statistics again and again (SIGUSR1). Asserted: B never stops
# carrying traffic (no gap in the replies longer than GAP_MS), it counts the lines it could
# not write (ringtun_datapath_events_total{event="log_line_dropped"}, read from its metrics
# endpoint, rises in both phases), it is not killed by SIGPIPE, and SIGTERM still stops it
# with status 0.
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

GAP_MS=1000
PORT=9586
STATS_BURST=20  # SIGUSR1s at a time; a statistics block is ~8 lines, the pipe holds 64 KiB
MAX_BURSTS=20

# B's dropped log lines, from its metrics endpoint.
dropped_lines() {
  metrics_value "$NS_B" 127.0.0.1 $PORT ringtun_datapath_events_total event=log_line_dropped
}

# Has B log its statistics (SIGUSR1, STATS_BURST at a time, 20 ms apart) until it has
# dropped more than BEFORE lines, at most MAX_BURSTS times; prints the count then.
log_until_dropped() {
  local before=$1 i j now
  for ((i = 0; i < MAX_BURSTS; i++)); do
    for ((j = 0; j < STATS_BURST; j++)); do
      kill -USR1 "$RINGTUN_PID_B" || netns_fail "ringtun B is gone"
      sleep 0.02
    done
    now=$(dropped_lines)
    [ "$now" -gt "$before" ] && break
  done
  echo "$now"
}

netns_pair
# shellcheck disable=SC2034  # read by ringtun_side_config and wait_for_ringtun
RT_IF=rtb0
make_keypair rta
make_keypair rtb
ringtun_side_config a
ringtun_side_config b
printf '\n[metrics]\nlisten = "127.0.0.1:%s"\n' $PORT >>"$NETNS_TMP/ringtun-b.toml"
fifo="$NETNS_TMP/stderr-b.fifo" err_log="$NETNS_TMP/stderr-b.log"
mkfifo "$fifo"
cat "$fifo" >"$err_log" &
reader=$!
netns_track "$reader"
start_ringtun "$NS_B" "$NETNS_TMP/ringtun-b.toml" "$fifo"  # the FIFO is B's log: stderr (and stdout)
RINGTUN_PID_B=$RINGTUN_PID
wait_for_ringtun "$NS_B" "$RINGTUN_PID_B" "$err_log" "$TUN_B4"
ringtun_side_start a
ringtun_side_wait a
ping_ok "$NS_A" "$TUN_B4" 3 10 || netns_fail "no ping A -> B through the tunnel"
ping_watch_start v4 "$NS_A" "$TUN_B4" 60
netns_poll "[ \$(ping_watch_replies v4) -gt 5 ]" 5 || netns_fail "the pings got no reply"
dropped0=$(dropped_lines)
t0=$(now_ms)

# 1. The reader stalls: the pipe fills, then every line is dropped.
kill -STOP "$reader"
dropped1=$(log_until_dropped "$dropped0")
[ "$dropped1" -gt "$dropped0" ] ||
  netns_fail "B dropped no log line with its stderr's reader stopped ($dropped0 -> $dropped1)"

# 2. The reader is gone: writes fail with EPIPE.
kill -KILL "$reader"
wait "$reader" 2>/dev/null || true
dropped2=$(log_until_dropped "$dropped1")
netns_alive "$RINGTUN_PID_B" || netns_fail "ringtun B died once its stderr's reader was gone"
[ "$dropped2" -gt "$dropped1" ] ||
  netns_fail "B dropped no log line with its stderr's reader gone ($dropped1 -> $dropped2)"
sleep 1
t1=$(now_ms)
gap=$(ping_watch_longest_gap v4 "$t0" "$t1")
echo "B's stderr: $(wc -l <"$err_log") lines read before the reader stalled; dropped lines" \
  "$dropped0 -> $dropped1 (reader stopped) -> $dropped2 (reader gone);" \
  "$(ping_watch_replies v4) replies, longest gap $gap ms over $((t1 - t0)) ms"
fault_bound "longest gap in traffic while B's stderr stalled and went away" "$gap" $GAP_MS
ping_ok "$NS_B" "$TUN_A4" 3 5 || netns_fail "no ping B -> A with B's stderr gone"

# SIGTERM still ends it cleanly (its "stopped" line has nowhere to go).
rc=0
stop_process "$RINGTUN_PID_B" 5 TERM || rc=$?
[ $rc -eq 0 ] || netns_fail "ringtun B exited with status $rc after SIGTERM (141: SIGPIPE)"
ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log"
netns_cleanup
netns_assert_clean
echo "fault_stderr_gone: ok"
