#!/usr/bin/env bash
# Peers with different MTUs: A's is 1500, B's 1420. A sends echo requests that fill its MTU
# (1472-byte payload with DF: 1500-byte inner packets) to B; B must deliver them to its TUN
# whatever its own MTU (the TUN takes a packet above its MTU; B's reply is fragmented by
# B's kernel). Asserted over UDP (the control: works today) and then over the TCP transport
# (A dials B): PINGS of PINGS big echo requests answered each time.
# Defect 3: B copied each packet received over TCP into a transmit buffer sized from its own
# MTU, so the 1500-byte ones did not fit and were dropped (counted as tx_slot_exhausted).
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

MTU_A=1500
MTU_B=1420
PINGS=5
PAYLOAD=$((MTU_A - 28))  # ICMP payload of a 1500-byte IPv4 packet

# Starts A (mtu MTU_A) and B (mtu MTU_B) over TRANSPORT and waits for a normal ping A -> B.
start_pair() {
  local transport=$1
  ringtun_side_config a "$transport" 4 mtu=$MTU_A
  ringtun_side_config b "$transport" 4 mtu=$MTU_B
  start_sides_b_then_a
  ip -n "$NS_A" link show dev "$RT_IF" | grep -q " mtu $MTU_A " ||
    netns_fail "$RT_IF in $NS_A does not have MTU $MTU_A"
  ping_ok "$NS_A" "$TUN_B4" 1 10 || netns_fail "$transport: no normal ping A -> B"
}

# Big pings A -> B over TRANSPORT; fails unless all PINGS are answered.
big_pings() {
  local transport=$1 rc=0 out="$NETNS_TMP/big-ping-$1.out" block
  netns_run_bounded 15 ip netns exec "$NS_A" python3 "$NETNS_LIB_DIR/icmp_ping.py" "$TUN_B4" \
    --count $PINGS --max-sent $PINGS --interval 0.2 --deadline 5 --size $PAYLOAD \
    --pmtudisc "do" >"$out" 2>&1 || rc=$?
  block=$(ringtun_stats "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log") ||
    netns_fail "no statistics from B"
  echo "$transport: $PINGS echo requests of $MTU_A bytes A (mtu $MTU_A) -> B (mtu $MTU_B):" \
    "$(cat "$out"); B: $(grep -o 'tx_slot_exhausted [0-9]*' <<<"$block" | tail -n 1)," \
    "$(grep -o 'drops [0-9]*:.*' <<<"$block" | tail -n 1)"
  [ $rc -eq 0 ] ||
    netns_fail "$transport: $MTU_A-byte pings from A (mtu $MTU_A) to B (mtu $MTU_B) were not all answered"
}

netns_pair
RT_IF=rtb0
make_keypair rta
make_keypair rtb
start_pair udp
big_pings udp
ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log"
ringtun_stop "$NS_B" "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log"

start_pair tcp
tcp_snapshot a
tcp_assert a dialed -ge 1 "A reaches B over TCP"
big_pings tcp
ping_ok "$NS_B" "$TUN_A4" 3 10 || netns_fail "tcp: no normal ping B -> A"
ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log"
ringtun_stop "$NS_B" "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log"
netns_cleanup
netns_assert_clean
echo "tcp_big_packets: ok"
