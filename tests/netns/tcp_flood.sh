#!/usr/bin/env bash
# 500 garbage and 500 idle connections to ringtun's TCP listener while iperf3 runs through
# the tunnel, with [ring] tcp_max_connections = 64 so the table overflows many times over:
# the tunnel must keep its throughput and its own connection (authenticated, so never
# evicted), the connection count ringtun reports must never exceed 64, every flood
# connection must be closed and counted exactly once (garbage as a protocol error or a stall,
# idle ones evicted oldest first), nothing may be refused, and ringtun's memory must stay
# bounded. Finally B is stopped with SIGTERM in the middle of a second burst of connections
# and must exit 0 within 1 s.
# Needs root, /dev/net/tun, ip netns, iperf3 (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test iperf3

MAX_CONN=64
GARBAGE=500
IDLE=500
FLOOD_RATE=400  # connections a second: the 1000 open within the iperf3 run
IPERF_SECS=3
MIN_MBPS=20
# Memory: everything per connection slot is allocated when the daemon starts except each
# slot's receive buffer ring, made on the slot's first use and kept: tcp_rx_buffers (8) x
# 8 KiB = 64 KiB, so 4 MiB for 64 slots. The bound leaves room for allocator slack and for
# ASan's shadow and quarantine; a table that grew per connection ever opened (1000 x 64 KiB
# = 62.5 MiB) or leaked socket state would exceed it.
MAX_RSS_GROWTH_KIB=$((16 << 10))

netns_pair
tcp_pair ring.tcp_max_connections=$MAX_CONN
iperf3_server "$NS_B"
# Warm-up: the data path touches its preallocated buffers before the baseline is taken.
iperf3_client "$NS_A" "$TUN_B4" -t 1 >"$NETNS_TMP/iperf3-warm.json" || netns_fail "iperf3 warm-up"
tcp_snapshot a
tcp_snapshot b
# shellcheck disable=SC2034  # read through namerefs by tcp_delta
declare -A a0 b0
tcp_save a a0
tcp_save b b0
rss0=$(rss_kib "$RINGTUN_PID_B")

iperf3_client "$NS_A" "$TUN_B4" -t $IPERF_SECS >"$NETNS_TMP/iperf3.json" &
iperf_pid=$!
netns_track "$iperf_pid"
tcp_flood_start main "$NS_A" "$OUTER_B4" --garbage $GARBAGE --idle $IDLE --rate $FLOOD_RATE \
  --timeout 60
flood_pid=$FLOOD_PID

# While the flood opens its connections: the count ringtun reports stays within the table.
max_seen=0 samples=0
for ((i = 0; i < 100; i++)); do
  tcp_snapshot b
  n=$(tcp_get b connections)
  samples=$((samples + 1))
  [ "$n" -gt "$max_seen" ] && max_seen=$n
  [ "$n" -le $MAX_CONN ] || netns_fail "ringtun b reports $n connections, more than $MAX_CONN"
  started=$(($(tcp_flood_progress main opened) + $(tcp_flood_progress main failed)))
  [ "$started" -ge $((GARBAGE + IDLE)) ] && break
  netns_alive "$flood_pid" || break
  sleep 0.1
done
rc=0
wait "$iperf_pid" || rc=$?
[ $rc -eq 0 ] || netns_fail "iperf3 during the flood failed: $(iperf3_field "$NETNS_TMP/iperf3.json" receiver_bps 2>&1)"
bps=$(iperf3_bps "$NETNS_TMP/iperf3.json") || netns_fail "iperf3 during the flood: no result"
echo "iperf3 A->B during the flood: $((bps / 1000000)) Mbit/s"
[ $((bps / 1000000)) -ge $MIN_MBPS ] ||
  netns_fail "iperf3 during the flood: $((bps / 1000000)) Mbit/s, expected at least $MIN_MBPS"
ping_ok "$NS_A" "$TUN_B4" 3 10 && ping_ok "$NS_B" "$TUN_A4" 3 10 ||
  netns_fail "no ping through the tunnel with the flood's connections open"
rss1=$(rss_kib "$RINGTUN_PID_B")

tcp_flood_stop main "$flood_pid"
summary=$(tail -n 1 "$NETNS_TMP/flood-main.out")
echo "flood: $summary; ringtun b reported at most $max_seen connections in $samples samples"
[ "$(kv_get opened <<<"$summary")" -eq $((GARBAGE + IDLE)) ] ||
  netns_fail "the flood could not open all its connections: $summary"
[ "$(kv_get open <<<"$summary")" -lt $MAX_CONN ] ||
  netns_fail "more flood connections open at the end than the table holds: $summary"

# Every flood connection closed and counted once; the tunnel's connection untouched.
tcp_wait b connections -eq 1 5 ||
  netns_fail "ringtun b has $(tcp_get b connections) connections after the flood, expected 1"
flood=$((GARBAGE + IDLE))
[ "$(tcp_delta b0 b accepted)" -eq $flood ] ||
  netns_fail "ringtun b accepted $(tcp_delta b0 b accepted) connections, expected $flood"
[ "$(tcp_delta b0 b closed)" -eq $flood ] ||
  netns_fail "ringtun b closed $(tcp_delta b0 b closed) connections, expected $flood"
tcp_assert b refused -eq 0 "unauthenticated inbound connections can always be evicted"
evicted=$(tcp_delta b0 b evicted)
[ "$evicted" -ge $((IDLE - MAX_CONN)) ] ||
  netns_fail "ringtun b evicted $evicted connections; $IDLE idle ones cannot fit in $MAX_CONN"
protocol=$(($(tcp_delta b0 b zero_length) + $(tcp_delta b0 b oversized) + $(tcp_delta b0 b malformed)))
# Every garbage connection carries a bad length prefix. It is closed for that once its bytes
# are read, unless the full table evicted it first (a race under load): so at least half for
# framing, and framing plus evictions account for all of them.
[ "$protocol" -ge $((GARBAGE / 2)) ] ||
  netns_fail "ringtun b closed only $protocol of $GARBAGE garbage connections for bad framing"
[ $((protocol + evicted)) -ge "$GARBAGE" ] ||
  netns_fail "$protocol framing closes + $evicted evictions do not cover $GARBAGE garbage connections"
echo "b: evicted $evicted, protocol errors $protocol," \
  "stalled $(tcp_delta b0 b stalled), eof $(tcp_delta b0 b eof), error $(tcp_delta b0 b error)"
tcp_snapshot a
tcp_assert a dialed -eq "${a0[dialed]}" "the tunnel connection must not be re-dialed"
tcp_assert a closed -eq "${a0[closed]}" "the tunnel connection must not be closed"

growth=$((rss1 - rss0))
echo "ringtun b VmRSS: $rss0 KiB before the flood, $rss1 KiB with it (+$growth KiB)"
[ "$growth" -le $MAX_RSS_GROWTH_KIB ] ||
  netns_fail "ringtun b grew by $growth KiB during the flood (limit $MAX_RSS_GROWTH_KIB KiB)"

ping_ok "$NS_A" "$TUN_B4" 3 10 && ping_ok "$NS_B" "$TUN_A4" 3 10 ||
  netns_fail "no ping through the tunnel after the flood"

# SIGTERM while connections are being accepted, evicted and closed.
tcp_flood_start churn "$NS_A" "$OUTER_B4" --garbage 200 --idle 200 --rate 800 --timeout 30
churn_pid=$FLOOD_PID
netns_poll "[ \$(tcp_flood_progress churn opened) -ge 150 ] || ! netns_alive $churn_pid" 5 ||
  netns_fail "the second burst did not start: $(cat "$NETNS_TMP/flood-churn.out")"
tcp_stop_within b 1000
echo "b: exited $TCP_STOP_MS ms after SIGTERM amid $(tcp_flood_progress churn opened) new connections"
tcp_flood_stop churn "$churn_pid"
ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log"
netns_cleanup
netns_assert_clean
echo "tcp_flood: ok"
