#!/usr/bin/env bash
# Bad input on ringtun's TCP listener, one connection per case (tcp_probe.py cases): a length
# of 0, oversized lengths, frames that are not well-formed WireGuard messages, a stall
# mid-frame (also mid-prefix, and a slow-loris trickle), an idle connection, well-formed
# but unauthenticated messages, and a replay of one of the tunnel's own data frames (which
# decrypts but must neither attach that connection to the peer nor move the peer's
# endpoint). Each bad connection must be closed alone, at the right time,
# and counted under the right reason in the "stats: tcp" line (and in "stats: drops" for the
# messages that reach the protocol core); the tunnel's own connection must stay untouched
# and carry traffic throughout.
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

# Closing bounds, in seconds from each case's reference time (see tcp_probe.py). ringtun's
# sweep runs about once a second, so a 10 s stall closes within ~10-11 s and a 15 s idle
# connection within ~15-16 s; the margins absorb scheduling on a loaded (or ASan) machine.
AT_ONCE=2
STALL_MIN=9.5 STALL_MAX=13
IDLE_MIN=14.5 IDLE_MAX=18
PROTOCOL_CASES=(zero_length oversized oversized_max malformed_type malformed_length
  malformed_reserved good_then_zero)
STALL_CASES=(stall stall_prefix trickle)
IDLE_CASES=(idle bad_mac1 split max_data replay)

netns_pair
tcp_pair

# One of A's data frames as it reached B, for the replay case.
ready="$NETNS_TMP/capture.ready"
ip netns exec "$NS_B" python3 "$NETNS_LIB_DIR/tcp_capture.py" veth0 "$TUN_PORT" "$NETNS_TMP/replay.hex" \
  --timeout 10 --ready "$ready" >"$NETNS_TMP/capture.out" 2>&1 &
capture_pid=$!
netns_track "$capture_pid"
netns_poll "[ -e '$ready' ] || ! netns_alive $capture_pid" 5
ping_ok "$NS_A" "$TUN_B4" 2 10 || netns_fail "no ping A -> B"
rc=0
stop_process "$capture_pid" 10 0 || rc=$?
[ $rc -eq 0 ] || netns_fail "no data frame captured (rc $rc): $(cat "$NETNS_TMP/capture.out")"
tcp_snapshot a
tcp_snapshot b
declare -A before_a before_b
tcp_save a before_a
tcp_save b before_b

cases=$(IFS=,; echo "${PROTOCOL_CASES[*]},${STALL_CASES[*]},${IDLE_CASES[*]}")
ip netns exec "$NS_A" python3 "$NETNS_LIB_DIR/tcp_probe.py" cases "$OUTER_B4" "$TUN_PORT" \
  --cases "$cases" --replay "$NETNS_TMP/replay.hex" --timeout 25 >"$NETNS_TMP/cases.out" 2>&1 &
probe_pid=$!
netns_track "$probe_pid"

# While the stalled and idle connections are still open, the protocol errors are counted and
# the tunnel works both ways.
tcp_wait b malformed -ge $((before_b[malformed] + 3)) 5 ||
  netns_fail "ringtun b counted $(tcp_delta before_b b malformed) malformed frames, expected 3"
tcp_wait b drop_replayed_counter -ge $((${before_b[drop_replayed_counter]:-0} + 1)) 5 ||
  netns_fail "ringtun b did not count the replayed data frame as replayed_counter"
[ "$(tcp_get b peer_endpoint)" = "${before_b[peer_endpoint]}" ] ||
  netns_fail "a replayed frame moved the peer's endpoint: ${before_b[peer_endpoint]} ->" \
    "$(tcp_get b peer_endpoint)"
ping_ok "$NS_A" "$TUN_B4" 3 10 && ping_ok "$NS_B" "$TUN_A4" 3 10 ||
  netns_fail "no ping through the tunnel while bad connections are open"

rc=0
stop_process "$probe_pid" 30 0 || rc=$?
[ $rc -eq 0 ] || netns_fail "tcp_probe.py failed (rc $rc): $(cat "$NETNS_TMP/cases.out")"
cat "$NETNS_TMP/cases.out"

# "NAME closed_after=S" within [MIN, MAX].
check_case() {
  local name=$1 min=$2 max=$3 line secs
  line=$(grep -E "^$name " "$NETNS_TMP/cases.out") || netns_fail "no result for case $name"
  secs=$(sed -n 's/.*closed_after=//p' <<<"$line")
  [ -n "$secs" ] || netns_fail "case $name: ringtun never closed the connection ($line)"
  awk -v s="$secs" -v lo="$min" -v hi="$max" 'BEGIN { exit !(s >= lo && s <= hi) }' ||
    netns_fail "case $name: closed after ${secs}s, expected within [$min, $max] s"
}
for name in "${PROTOCOL_CASES[@]}"; do check_case "$name" 0 $AT_ONCE; done
for name in "${STALL_CASES[@]}"; do check_case "$name" $STALL_MIN $STALL_MAX; done
for name in "${IDLE_CASES[@]}"; do check_case "$name" $IDLE_MIN $IDLE_MAX; done

# Every probe connection closed, each counted once under its reason; nothing else closed.
tcp_wait b connections -eq 1 3 ||
  netns_fail "ringtun b still has $(tcp_get b connections) connections, expected the tunnel's only"
expect_b() {
  local field=$1 want=$2 got
  got=$(tcp_delta before_b b "$field")
  [ "$got" -eq "$want" ] || netns_fail "ringtun b: $field went up by $got, expected $want"
}
total=$((${#PROTOCOL_CASES[@]} + ${#STALL_CASES[@]} + ${#IDLE_CASES[@]}))
expect_b accepted $total
expect_b zero_length 2
expect_b oversized 2
expect_b malformed 3
expect_b stalled ${#STALL_CASES[@]}
expect_b idle ${#IDLE_CASES[@]}
expect_b closed $total
expect_b evicted 0
expect_b refused 0
# The well-formed messages reached the protocol core and were dropped there: the initiations
# of good_then_zero, bad_mac1 and split for their mac1, max_data for its receiver index.
expect_b drop_invalid_mac1 3
expect_b drop_unknown_index 1
expect_b drop_replayed_counter 1
# The tunnel's connection was never replaced: A dialed once and closed nothing.
tcp_snapshot a
tcp_assert a dialed -eq "${before_a[dialed]}" "the tunnel connection was re-dialed"
tcp_assert a closed -eq "${before_a[closed]}" "A closed its tunnel connection"
tcp_assert a connections -eq 1

ping_ok "$NS_A" "$TUN_B4" 3 10 && ping_ok "$NS_B" "$TUN_A4" 3 10 &&
  ping_ok "$NS_A" "$TUN_B6" 3 10 || netns_fail "no ping through the tunnel after the bad input"
transfer_sha256 "$NS_A" "$NS_B" "$TUN_B4" $((8 << 20)) || netns_fail "8 MB transfer failed"

ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log"
ringtun_stop "$NS_B" "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log"
netns_cleanup
netns_assert_clean
echo "tcp_badframes: ok"
