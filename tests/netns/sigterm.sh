#!/usr/bin/env bash
# Stopping ringtun in the middle of an iperf3 transfer: SIGTERM to the sending side (A),
# then SIGINT to the receiving side (B). Each time the daemon must exit with status 0 within
# 1 s, log its shutdown with the in-flight requests it cancelled (none left, every buffer and
# send slot back) and its final statistics, and leave neither its TUN nor its UDP port
# behind once it has exited.
# Needs root, /dev/net/tun, ip netns, iperf3 (exit 77 otherwise); RINGTUN = ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test iperf3
EXIT_MS=1000
FAILS=()

fail_later() {
  echo "FAIL: $*" >&2
  FAILS+=("$*")
}

# Runs iperf3 A -> B (server port PORT) for up to 6 s in the background and waits until
# the daemon PID (log LOG) has moved at least 2000 datagrams in 0.5 s.
start_transfer() {
  local pid=$1 log=$2 port=$3 b1 b2 moved
  ip netns exec "$NS_A" timeout -k 1 8 iperf3 -c "$TUN_B4" -p "$port" -t 6 \
    --connect-timeout 3000 >>"$NETNS_TMP/iperf3-client.log" 2>&1 &
  IPERF3_PID=$!
  netns_track "$IPERF3_PID"
  sleep 1
  b1=$(ringtun_stats "$pid" "$log") || netns_fail "no statistics from $pid"
  sleep 0.5
  b2=$(ringtun_stats "$pid" "$log") || netns_fail "no statistics from $pid"
  moved=$(($(stats_packets udp_rx <<<"$b2") + $(stats_packets udp_tx <<<"$b2") -
    $(stats_packets udp_rx <<<"$b1") - $(stats_packets udp_tx <<<"$b1")))
  [ "$moved" -ge 2000 ] || netns_fail "no transfer under way: $moved datagrams in 0.5 s"
  echo "transfer under way: $moved datagrams in 0.5 s"
}

# Sends SIG to the daemon PID in NS (log LOG) and checks everything the header promises.
stop_and_check() {
  local ns=$1 pid=$2 log=$3 sig=$4 t0 ms rc=0 i line stopped n left
  local lines_before
  lines_before=$(wc -l <"$log")
  t0=${EPOCHREALTIME/./}
  kill "-$sig" "$pid" || netns_fail "ringtun $pid was gone before SIG$sig"
  for ((i = 0; i < 500; i++)); do
    netns_alive "$pid" || break
    sleep 0.01
  done
  ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
  if netns_alive "$pid"; then
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    netns_fail "SIG$sig: ringtun $pid still running after ${ms} ms"
  fi
  wait "$pid" || rc=$?
  # Checked at once: whatever is left now outlives the process.
  left=""
  ! ip -n "$ns" link show dev "$RT_IF" >/dev/null 2>&1 || left="TUN $RT_IF"
  [ -z "$(ip netns exec "$ns" ss -Hlun "sport = :$TUN_PORT")" ] ||
    left="${left:+$left and }UDP port $TUN_PORT bound"
  if [ -n "$left" ]; then
    for ((i = 0; i < 500; i++)); do
      ringtun_released "$ns" && break
      sleep 0.01
    done
    fail_later "SIG$sig: ringtun exited but left $left in $ns (gone" \
      "$(((${EPOCHREALTIME/./} - t0) / 1000 - ms)) ms after the exit)"
  fi
  echo "SIG$sig: ringtun exited with status $rc after $ms ms"
  [ $rc -eq 0 ] || fail_later "SIG$sig: exit status $rc"
  [ $ms -le $EXIT_MS ] || fail_later "SIG$sig: exit took $ms ms (limit $EXIT_MS ms)"

  tail -n +$((lines_before + 1)) "$log" >"$NETNS_TMP/shutdown-$sig.log"
  line=$(grep -E 'shutdown: [0-9]+ requests in flight' "$NETNS_TMP/shutdown-$sig.log" || true)
  stopped=$(grep -E "$RT_IF: stopped, [0-9]+ in-flight requests cancelled" \
    "$NETNS_TMP/shutdown-$sig.log" || true)
  echo "  ${line#<*>}"
  echo "  ${stopped#<*>}"
  if [ -z "$line" ] || [ -z "$stopped" ]; then
    fail_later "SIG$sig: no 'shutdown:' or '$RT_IF: stopped' line"
  else
    n=$(sed -E 's/.* ([0-9]+) cancelled.*/\1/' <<<"$line")
    # The io_uring loop always has reads in flight; the epoll loop has only queued sends.
    [ "$n" -ge 1 ] || [ "${RINGTUN_BACKEND:-}" = epoll ] ||
      fail_later "SIG$sig: no in-flight request was cancelled: $line"
    grep -q "stopped, $n in-flight requests cancelled" <<<"$stopped" ||
      fail_later "SIG$sig: shutdown cancelled $n but '$stopped'"
    grep -Eq ' 0 left; 0 TUN and 0 UDP buffers held, 0 tx slots in use' <<<"$line" ||
      fail_later "SIG$sig: requests, buffers or slots left at shutdown: $line"
  fi
  # Final statistics (daemon/stats.hpp: "for SIGUSR1 and shutdown"): loop and device.
  grep -q 'stats: udp rx ' "$NETNS_TMP/shutdown-$sig.log" ||
    fail_later "SIG$sig: no loop statistics at shutdown"
  grep -q 'stats: drops ' "$NETNS_TMP/shutdown-$sig.log" ||
    fail_later "SIG$sig: no device statistics (drops, peers) at shutdown"
}

netns_pair
ringtun_pair
# One server per round: a client cut off mid-test can leave its server busy for a while.
iperf3_server "$NS_B" 5201
iperf3_server "$NS_B" 5202
ping_ok "$NS_A" "$TUN_B4" 3 10 && ping_ok "$NS_B" "$TUN_A4" 3 10 || netns_fail "no ping"

# The sender's daemon: TUN reads and sends in flight.
start_transfer "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log" 5201
stop_and_check "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log" TERM
stop_process "$IPERF3_PID" 3 || true
netns_poll "ringtun_released '$NS_A'" 5 || netns_fail "A's TUN or port never went away"
start_ringtun "$NS_A" "$NETNS_TMP/ringtun-a.toml" "$NETNS_TMP/ringtun-a.log"
RINGTUN_PID_A=$RINGTUN_PID
wait_for_ringtun "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log" "$TUN_A4"
ping_ok "$NS_A" "$TUN_B4" 3 10 || netns_fail "no ping after restarting A"

# The receiver's daemon: multishot receives and TUN writes in flight.
start_transfer "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log" 5202
stop_and_check "$NS_B" "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log" INT
stop_process "$IPERF3_PID" 3 || true

ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log"
[ ${#FAILS[@]} -eq 0 ] || netns_fail "${#FAILS[@]} check(s) failed: $(printf '%s; ' "${FAILS[@]}")"
netns_cleanup
netns_assert_clean
echo "sigterm: ok"
