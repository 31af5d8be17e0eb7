#!/usr/bin/env bash
# Side A's TUN MTU raised from outside (`ip link set mtu 9000`) above the configured mtu
# (1420), then A sends echo requests larger than 1420 bytes (DF set, so not fragmented) to B
# through the tunnel. ringtun's TUN buffers hold a packet of the configured MTU: A must drop
# each oversized packet it reads, counted as the drop reason tun_oversized, and never seal and
# send a cut-short packet, so B counts no malformed_inner. Pings of normal size still pass
# afterwards.
# Defect 13: A read the oversized packets cut short, sealed and sent them; B dropped them as
# malformed_inner and A counted nothing.
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

RAISED_MTU=9000
BIG_PAYLOAD=3000  # ICMP payload: 3028-byte IPv4 packets, more than the configured 1420
BIG_PINGS=5

netns_pair
RT_IF=rtb0
ringtun_pair udp
ping_ok "$NS_A" "$TUN_B4" 3 10 || netns_fail "no ping A -> B through the tunnel"
ip -n "$NS_A" link set dev "$RT_IF" mtu $RAISED_MTU || netns_fail "cannot raise $RT_IF's MTU"
ip -n "$NS_A" link show dev "$RT_IF" | grep -q " mtu $RAISED_MTU " ||
  netns_fail "$RT_IF in $NS_A does not have MTU $RAISED_MTU"
block=$(ringtun_stats "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log") || netns_fail "no stats from A"
a_before=$(stats_drop tun_oversized <<<"$block")
block=$(ringtun_stats "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log") || netns_fail "no stats from B"
b_before=$(stats_drop malformed_inner <<<"$block")

# Exactly BIG_PINGS oversized packets; no reply is expected (their fate is in the counters).
rc=0
netns_run_bounded 15 ip netns exec "$NS_A" python3 "$NETNS_LIB_DIR/icmp_ping.py" "$TUN_B4" \
  --count 1 --max-sent $BIG_PINGS --all-sent --interval 0.1 --deadline 5 --size $BIG_PAYLOAD \
  --pmtudisc "do" >"$NETNS_TMP/big-ping.out" 2>&1 || rc=$?
[ $rc -le 1 ] || netns_fail "icmp_ping failed: $(cat "$NETNS_TMP/big-ping.out")"
grep -q "^sent=$BIG_PINGS " "$NETNS_TMP/big-ping.out" ||
  netns_fail "could not send $BIG_PINGS big echo requests: $(cat "$NETNS_TMP/big-ping.out")"
echo "$BIG_PINGS echo requests of $((BIG_PAYLOAD + 28)) bytes A -> B: $(cat "$NETNS_TMP/big-ping.out")"
sleep 0.5  # anything sealed has reached B by now

block=$(ringtun_stats "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log") || netns_fail "no stats from A"
a_oversized=$(($(stats_drop tun_oversized <<<"$block") - a_before))
a_drops=$(grep 'stats: drops ' <<<"$block" | tail -n 1)
block=$(ringtun_stats "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log") || netns_fail "no stats from B"
b_malformed=$(($(stats_drop malformed_inner <<<"$block") - b_before))
b_drops=$(grep 'stats: drops ' <<<"$block" | tail -n 1)
echo "A: tun_oversized +$a_oversized (${a_drops#*stats: }); B: malformed_inner +$b_malformed (${b_drops#*stats: })"
[ "$b_malformed" -eq 0 ] ||
  netns_fail "B dropped $b_malformed packets as malformed_inner: A sent oversized TUN reads cut short"
[ "$a_oversized" -eq $BIG_PINGS ] ||
  netns_fail "A counted $a_oversized tun_oversized drops for $BIG_PINGS oversized TUN packets"

ping_ok "$NS_A" "$TUN_B4" 3 10 && ping_ok "$NS_B" "$TUN_A4" 3 10 ||
  netns_fail "no normal-size ping through the tunnel after the oversized packets"
ringtun_pair_stop
netns_cleanup
netns_assert_clean
echo "tun_mtu_raised: ok"
