#!/usr/bin/env bash
# A flood of silent TCP connects from one source address must not lock a legitimate client
# out. B listens on TCP with [ring] tcp_max_connections = MAX_CONN; from a second address of
# NS_A (FLOOD_SRC) tcp_probe.py opens idle connections back to back, as fast as it can
# (~10000 a second here), and holds them, so B's table is always full and each new
# connection evicts the oldest unauthenticated one. During the flood ringtun A is started
# CYCLES times, dialing B from OUTER_A4. Asserted each time: A's tunnel comes up (a ping
# A -> B answered) within UP_WITHIN seconds; A's first connection carries the handshake,
# i.e. B did not evict it before the handshake completed (A dialed once and none of its
# connections was closed); and the tunnel stays usable (pings both ways).
# Defect 7: eviction took the oldest unauthenticated connection whatever its source, so a
# legitimate connection accepted in the same burst as MAX_CONN flood connections was evicted
# before its initiation was read. Here that happens to about every second attempt; A gets
# through on a redial 250 ms+ later, and with higher flood rates or table sizes nearer to the
# burst size it would not.
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

MAX_CONN=16
FLOOD_SRC=10.99.0.5
FLOOD_RATE=100000  # more than tcp_probe.py opens: back to back, at its top speed
FLOOD_BURST=100   # started between two looks at what B closed
FLOOD_CONNS=600000  # more than it opens in FLOOD_SECS
FLOOD_SECS=50    # upper bound; stopped once the assertions are done
UP_WITHIN=10
PINGS=3
CYCLES=10

tcp_flood_setup $FLOOD_SRC ring.tcp_max_connections=$MAX_CONN
start_ringtun "$NS_B" "$NETNS_TMP/ringtun-b.toml" "$NETNS_TMP/ringtun-b.log"
RINGTUN_PID_B=$RINGTUN_PID
wait_for_ringtun "$NS_B" "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log" "$TUN_B4"

tcp_flood_start main "$NS_A" "$OUTER_B4" --source "$FLOOD_SRC" --idle $FLOOD_CONNS \
  --rate $FLOOD_RATE --burst $FLOOD_BURST --timeout $((FLOOD_SECS + 5))
flood_pid=$FLOOD_PID
netns_poll "[ \$(tcp_flood_progress main opened) -ge $((MAX_CONN * 10)) ] || ! netns_alive $flood_pid" 10 ||
  netns_fail "the flood did not start: $(cat "$NETNS_TMP/flood-main.out")"
netns_alive "$flood_pid" || netns_fail "the flood ended: $(cat "$NETNS_TMP/flood-main.out")"
tcp_snapshot b
tcp_assert b evicted -gt 0 "the flood fills B's table"
echo "flood from $FLOOD_SRC: $(cat "$NETNS_TMP/flood-main.progress"); B: connections" \
  "$(tcp_get b connections), evicted $(tcp_get b evicted)"

# A starts CYCLES times during the flood; each time its first connection must carry the
# handshake (a connection evicted before it completes shows as a redial and a close in A's
# counters), the tunnel must come up within UP_WITHIN seconds and stay usable.
for ((cycle = 1; cycle <= CYCLES; cycle++)); do
  opened0=$(tcp_flood_progress main opened)
  t0=$(now_ms)
  start_ringtun "$NS_A" "$NETNS_TMP/ringtun-a.toml" "$NETNS_TMP/ringtun-a.log"
  RINGTUN_PID_A=$RINGTUN_PID
  wait_for_ringtun "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log" "$TUN_A4"
  rc=0
  ping_ok "$NS_A" "$TUN_B4" 1 $UP_WITHIN || rc=$?
  up_ms=$(($(now_ms) - t0))
  tcp_snapshot a
  tcp_snapshot b
  echo "cycle $cycle: ping A -> B $([ $rc -eq 0 ] && echo answered || echo unanswered)" \
    "$up_ms ms after A's start; A: dialed $(tcp_get a dialed), closed $(tcp_get a closed)" \
    "(eof $(tcp_get a eof)); B: evicted $(tcp_get b evicted), connections $(tcp_get b connections);" \
    "flood: $(cat "$NETNS_TMP/flood-main.progress")"
  [ $rc -eq 0 ] ||
    netns_fail "cycle $cycle: A's tunnel did not come up within ${UP_WITHIN}s while $FLOOD_SRC flooded B's TCP port"
  tcp_assert a closed -eq 0 "cycle $cycle: B evicted A's connection before its handshake completed"
  tcp_assert a dialed -eq 1 "cycle $cycle: A had to redial"
  ping_ok "$NS_A" "$TUN_B4" $PINGS 5 && ping_ok "$NS_B" "$TUN_A4" $PINGS 5 ||
    netns_fail "cycle $cycle: A's tunnel did not stay usable during the flood"
  tcp_snapshot a
  tcp_assert a closed -eq 0 "cycle $cycle: A's authenticated connection was closed during the flood"
  netns_alive "$flood_pid" || netns_fail "the flood ended early: $(cat "$NETNS_TMP/flood-main.out")"
  [ $(($(tcp_flood_progress main opened) - opened0)) -ge 1000 ] ||
    netns_fail "cycle $cycle: the flood stalled: $(cat "$NETNS_TMP/flood-main.progress")"
  ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log"
done
tcp_flood_stop main "$flood_pid"
echo "flood: $(tail -n 1 "$NETNS_TMP/flood-main.out")"
ringtun_stop "$NS_B" "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log"
netns_cleanup
netns_assert_clean
echo "tcp_connect_flood: ok"
