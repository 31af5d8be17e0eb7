#!/usr/bin/env bash
# One authenticated TCP connection that stops reading must not starve the other peers. Hub B
# listens on UDP and TCP and has two peers: A1 (NS_A, TUN_A4) dials B over TCP, A2 (a third
# namespace C behind a second veth on B, 10.100.0.3) talks to B over UDP. B floods A1's
# tunnel address with UDP (udp_blast.py), then A1's ringtun is stopped with SIGSTOP: its TCP
# socket stops reading, its receive buffer and B's send buffer fill, and B's queue for that
# connection with them. Asserted: meanwhile B's pings to A2 over UDP are answered (at least
# MIN_REPLIES of PINGS); after SIGCONT, A1's tunnel works again.
# Defect 1: the stalled connection's send queue held every transmit slot of B and the TUN
# buffers they were sealed in, so B's TUN reads stopped entirely (seen as "rearm enobufs", or
# tx_slot_exhausted) and no peer got anything from B.
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

PINGS=10
MIN_REPLIES=8
# The flood: 20000 x 1200 B/s (~190 Mbit/s) fills B's socket and queue to A1 in well under
# FILL_SECS, and leaves B's CPU room to read its TUN at full speed once that queue is capped.
BLAST_PPS=20000
FILL_SECS=2  # the flood's head start with A1 stopped

netns_pair
netns_add_c b  # C behind veth1 of B: OUTER_B4_C <-> OUTER_C4

RT_IF=rtb0
make_keypair rta
make_keypair rtb
make_keypair rtc
# A1: the usual TCP dialer of a pair. A2: UDP to B's address on the second veth.
ringtun_side_config a tcp 4
ringtun_config "$NETNS_TMP/ringtun-c.toml" name="$RT_IF" private_key_file="$NETNS_TMP/rtc.key" \
  listen_port="$TUN_PORT" address="$TUN_C4/24" mtu="$TUN_MTU" \
  public_key="$(cat "$NETNS_TMP/rtb.pub")" endpoint="$OUTER_B4_C:$TUN_PORT" \
  allowed_ips="$TUN_B4/32"
# B: the listening side of a TCP pair (peer A1), plus peer A2 over UDP.
ringtun_side_config b tcp 4
printf '\n[[peer]]\npublic_key = "%s"\nendpoint = "%s"\nallowed_ips = ["%s"]\n' \
  "$(cat "$NETNS_TMP/rtc.pub")" "$OUTER_C4:$TUN_PORT" "$TUN_C4/32" >>"$NETNS_TMP/ringtun-b.toml"

start_sides_b_then_a
ringtun_side_start c
ringtun_side_wait c
ping_ok "$NS_A" "$TUN_B4" 1 10 && ping_ok "$NS_B" "$TUN_A4" 3 10 ||
  netns_fail "no ping between A1 and B over TCP"
ping_ok "$NS_C" "$TUN_B4" 1 10 && ping_ok "$NS_B" "$TUN_C4" 3 10 ||
  netns_fail "no ping between A2 and B over UDP"
tcp_snapshot a
tcp_assert a dialed -ge 1 "A1 reaches B over TCP"

# B floods A1 through the tunnel; then A1 stops reading.
ip netns exec "$NS_B" python3 "$NETNS_LIB_DIR/udp_blast.py" "$TUN_A4" 9 --size 1200 \
  --rate $BLAST_PPS --seconds 40 --stop "$NETNS_TMP/blast.stop" >"$NETNS_TMP/blast.out" 2>&1 &
blast_pid=$!
netns_track "$blast_pid"
sleep 0.5
netns_on_cleanup "kill -CONT $RINGTUN_PID_A 2>/dev/null"
kill -STOP "$RINGTUN_PID_A" || netns_fail "cannot stop ringtun A1"
sleep $FILL_SECS
sendq=$(ip netns exec "$NS_B" ss -Htn state established "$(tcp_tunnel_filter b)" |
  awk '{print $2}' | head -n 1)
echo "A1 stopped; B's send queue to A1: ${sendq:-?} bytes"

rc=0
netns_run_bounded 15 ip netns exec "$NS_B" python3 "$NETNS_LIB_DIR/icmp_ping.py" "$TUN_C4" \
  --count $MIN_REPLIES --max-sent $PINGS --all-sent --interval 0.2 --deadline 6 \
  >"$NETNS_TMP/ping-c.out" 2>&1 || rc=$?
received=$(kv_get received <"$NETNS_TMP/ping-c.out")
tcp_snapshot b
block=$(ringtun_stats "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log") || netns_fail "no stats from B"
echo "B -> A2 over UDP with A1 stopped: $(cat "$NETNS_TMP/ping-c.out"); B:" \
  "$(grep -o 'rearm eagain [0-9]* enobufs [0-9]*' <<<"$block" | tail -n 1)," \
  "$(grep -o 'tx_slot_exhausted [0-9]*' <<<"$block" | tail -n 1)," \
  "$(grep -o 'tun rx [0-9]* pkts' <<<"$block" | tail -n 1)," \
  "tcp queue_drops $(tcp_get b queue_drops), tcp connections $(tcp_get b connections)"
[ "${received:-0}" -ge $MIN_REPLIES ] ||
  netns_fail "B answered ${received:-0} of $PINGS pings to A2 (UDP) while A1's TCP connection" \
    "stalled; expected at least $MIN_REPLIES"
netns_alive "$blast_pid" || netns_fail "the flood ended early: $(cat "$NETNS_TMP/blast.out")"

kill -CONT "$RINGTUN_PID_A"
touch "$NETNS_TMP/blast.stop"
stop_process "$blast_pid" 5 0 || netns_fail "the flood did not stop"
echo "flood B -> A1: $(cat "$NETNS_TMP/blast.out")"
ping_ok "$NS_A" "$TUN_B4" 3 15 || netns_fail "no ping A1 -> B after A1 resumed"
ping_ok "$NS_C" "$TUN_B4" 3 10 || netns_fail "no ping A2 -> B after A1 resumed"
for pid in "$RINGTUN_PID_A" "$RINGTUN_PID_B" "$RINGTUN_PID_C"; do
  netns_alive "$pid" || netns_fail "ringtun $pid died"
done
ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log"
ringtun_stop "$NS_C" "$RINGTUN_PID_C" "$NETNS_TMP/ringtun-c.log"
ringtun_stop "$NS_B" "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log"
netns_cleanup
netns_assert_clean
echo "tcp_slow_client: ok"
