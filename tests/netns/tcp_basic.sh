#!/usr/bin/env bash
# ringtun <-> ringtun with transport = "tcp": A dials B's TCP port, B only listens. Ping both
# ways over IPv4 and IPv6, iperf3 TCP both ways, 200 MB A -> B with matching SHA-256; the
# statistics must show one TCP connection on each side that carried it all (no UDP, no
# reconnect, no protocol error, no frame dropped for want of a connection) and a clean
# SIGTERM of both.
# Needs root, /dev/net/tun, ip netns, iperf3 (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test iperf3

# A floor that only a broken tunnel misses: veth alone does tens of Gbit/s and ringtun over
# TCP hundreds of Mbit/s even under ASan on two shared cores.
MIN_MBPS=20
IPERF_SECS=3
XFER_BYTES=$((200 * 1000 * 1000))
XFER_TIMEOUT=45

netns_pair
# The library's pair starts B and then A at once: A's first dial may find B's listener not
# open yet and retry after 250 ms; the statistics below allow for that.
ringtun_pair tcp
for pair in "$NS_A $TUN_B4" "$NS_B $TUN_A4" "$NS_A $TUN_B6" "$NS_B $TUN_A6"; do
  # shellcheck disable=SC2086
  set -- $pair
  ping_ok "$1" "$2" 3 10 || netns_fail "no ping from $1 to $2 through the TCP tunnel"
done

iperf3_server "$NS_B"
for dir in "" "-R"; do
  json="$NETNS_TMP/iperf3$dir.json"
  # shellcheck disable=SC2086
  iperf3_client "$NS_A" "$TUN_B4" -t $IPERF_SECS $dir >"$json" ||
    netns_fail "iperf3 $dir failed: $(iperf3_field "$json" receiver_bps 2>&1)"
  bps=$(iperf3_bps "$json") || netns_fail "iperf3 $dir: no result"
  echo "iperf3 A->B${dir:+ (reverse)}: $((bps / 1000000)) Mbit/s"
  [ $((bps / 1000000)) -ge $MIN_MBPS ] ||
    netns_fail "iperf3 $dir: $((bps / 1000000)) Mbit/s, expected at least $MIN_MBPS"
done

t0=${EPOCHREALTIME/./}
XFER_TIMEOUT=$XFER_TIMEOUT transfer_sha256 "$NS_A" "$NS_B" "$TUN_B4" $XFER_BYTES ||
  netns_fail "200 MB transfer through the TCP tunnel failed"
echo "200 MB in $(((${EPOCHREALTIME/./} - t0) / 1000)) ms"

# Everything went over the one TCP connection of each side.
tcp_snapshot a
tcp_snapshot b
failed=$(tcp_get a connect_failures)
tcp_assert a dialed -eq $((1 + failed)) "one dial per refused attempt, then one that stayed"
tcp_assert a closed -eq "$failed" "only refused dials may have closed"
tcp_assert b closed -eq 0 "no connection may have closed"
# While a refused dial waits to be retried, the handshake a first ping starts has no connection
# to go into: one such drop per refused dial, none otherwise.
tcp_assert a no_connection -le "$failed" "frames dropped without a connection"
tcp_assert b no_connection -eq 0 "frames dropped without a connection"
for side in a b; do
  tcp_assert $side connections -eq 1
  tcp_assert $side zero_length -eq 0
  tcp_assert $side oversized -eq 0
  tcp_assert $side malformed -eq 0
  tcp_assert $side udp_rx_pkts -eq 0 "the tunnel must not use UDP"
  tcp_assert $side udp_tx_pkts -eq 0 "the tunnel must not use UDP"
  # Over one ordered stream nothing of the peer's can be malformed, replayed or unknown.
  for reason in malformed invalid_mac1 decrypt_failed replayed_counter unknown_index \
    no_endpoint; do
    tcp_assert $side drop_$reason -eq 0 "drops: $reason"
  done
done
tcp_assert a accepted -eq 0
tcp_assert b accepted -eq 1
tcp_assert b dialed -eq 0
tcp_assert b rx_bytes -gt $XFER_BYTES "the 200 MB arrived over TCP"
tcp_assert a tx_bytes -gt $XFER_BYTES "the 200 MB left over TCP"
[ "$(tcp_get b rx_frames)" -gt $((XFER_BYTES / 1500)) ] ||
  netns_fail "ringtun b: $(tcp_get b rx_frames) frames cannot hold 200 MB"
for side in a b; do
  grep -E 'stats: (tcp|drops) ' "$NETNS_TMP/ringtun-$side.log" | tail -n 2 | sed "s/.*stats: /$side: /"
done

ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log"
ringtun_stop "$NS_B" "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log"
netns_cleanup
netns_assert_clean
echo "tcp_basic: ok"
