#!/usr/bin/env bash
# SIGTERM of ringtun with TCP connections open. B (the listener) is stopped while a stream
# runs through the tunnel and 22 more connections (20 idle, 2 stalled mid-frame) are open:
# it must exit 0 within 1 s, log "stopped" and leave no TUN, UDP port or TCP listener. A
# (the dialer) must then see its connection end and retry with exponential backoff, not in
# a tight loop; with B's link down, A is stopped while a connect is in flight and must also
# exit 0 within 1 s.
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

STOP_MS=1000
HOLD_IDLE=20
HOLD_STALL=2
# Dial attempts in a 4 s window once B is gone: with delays of 250 ms doubling (+-20%) the
# window holds 3-4 (the first may fall just before it, the last just after); a dialer
# without backoff would make 16 or thousands.
BACKOFF_WINDOW=4
MIN_DIALS=2
MAX_DIALS=6

netns_pair
tcp_pair

# A stream through the tunnel, so B has frames in flight both ways when it is stopped.
stream_start "$NS_A" "$NS_B" "$TUN_B4" $((8 << 20)) 60

tcp_flood_start hold "$NS_A" "$OUTER_B4" --idle $HOLD_IDLE --stall $HOLD_STALL --timeout 60
hold_pid=$FLOOD_PID
netns_poll "[ \$(tcp_flood_progress hold opened) -eq $((HOLD_IDLE + HOLD_STALL)) ]" 5 ||
  netns_fail "could not open the extra connections: $(cat "$NETNS_TMP/flood-hold.progress")"
tcp_wait b connections -eq $((1 + HOLD_IDLE + HOLD_STALL)) 3 ||
  netns_fail "ringtun b has $(tcp_get b connections) connections, expected $((1 + HOLD_IDLE + HOLD_STALL))"

tcp_stop_within b $STOP_MS
echo "b: exited $TCP_STOP_MS ms after SIGTERM with $((1 + HOLD_IDLE + HOLD_STALL)) connections open"
netns_poll "[ \$(tcp_flood_progress hold open) -eq 0 ]" 2 ||
  netns_fail "connections to the stopped ringtun b still open: $(cat "$NETNS_TMP/flood-hold.progress")"
tcp_flood_stop hold "$hold_pid"

# A loses its connection and retries against a closed port, backing off.
tcp_wait a connect_failures -ge 1 5 || netns_fail "A did not try to reconnect after B stopped"
tcp_assert a closed -ge 2 "the lost connection and the refused dial"
dials0=$(tcp_get a dialed)
sleep $BACKOFF_WINDOW
tcp_snapshot a
dials=$(($(tcp_get a dialed) - dials0))
echo "a: $dials dial attempts in the ${BACKOFF_WINDOW}s after the first refused one"
[ "$dials" -ge $MIN_DIALS ] && [ "$dials" -le $MAX_DIALS ] ||
  netns_fail "A dialed $dials times in ${BACKOFF_WINDOW}s, expected $MIN_DIALS-$MAX_DIALS (backoff)"
tcp_assert a connections -le 1

# With B's link down A's next dial hangs in SYN-SENT; SIGTERM must cancel it.
ip -n "$NS_B" link set veth0 down
syn_sent() {
  [ -n "$(ip netns exec "$NS_A" ss -Htn state syn-sent "dst $OUTER_B4 and dport = :$TUN_PORT")" ]
}
netns_poll syn_sent 10 || netns_fail "A did not dial again within 10 s of B's link going down"
tcp_stop_within a $STOP_MS
echo "a: exited $TCP_STOP_MS ms after SIGTERM with a connect in flight"

netns_cleanup
netns_assert_clean
echo "tcp_sigterm: ok"
