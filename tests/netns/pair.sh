#!/usr/bin/env bash
# ringtun <-> ringtun over a veth pair, once over the IPv4 outer addresses and once over the
# IPv6 ones ("[fd99::2]:51820"): ping both ways over inner IPv4 and IPv6, iperf3 TCP both
# directions, iperf3 UDP both directions, and a 200 MB transfer whose SHA-256 matches at both
# ends (A -> B over inner IPv4 in the IPv4 run, B -> A over inner IPv6 in the IPv6 run).
# Each run ends with both daemons stopped by SIGTERM (exit 0, TUN and port released).
# Needs root, /dev/net/tun, ip netns, iperf3 (exit 77 otherwise); RINGTUN = ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test iperf3
XFER_BYTES=${XFER_BYTES:-200000000}
XFER_TIMEOUT=${XFER_TIMEOUT:-150}
TCP_MIN_BPS=10000000  # far below what any build does; catches a stalled tunnel
UDP_RATE=${UDP_RATE:-100M}
UDP_MAX_LOSS=5        # percent of iperf3 UDP datagrams lost

# Starts both daemons with each side's endpoint on the other's outer address of FAMILY
# (4 or 6). Keys and configs come from lib_tunnels.sh.
start_pair() {
  RT_IF=rtb0
  ringtun_pair udp "$1"
  grep -q "^endpoint = " "$NETNS_TMP/ringtun-a.toml" || netns_fail "config has no endpoint"
}

# Asserts that PID's statistics show its peer at ENDPOINT ("addr:port" as ringtun prints it).
assert_endpoint() {
  local pid=$1 log=$2 endpoint=$3 block
  block=$(ringtun_stats "$pid" "$log") || netns_fail "no statistics from ringtun $pid"
  grep -qF "endpoint $endpoint rx" <<<"$block" ||
    netns_fail "ringtun $pid: peer endpoint is not $endpoint: $(grep 'stats: peer' <<<"$block")"
}

# "sent_packets received_packets lost_percent" of an iperf3 --json UDP result.
udp_result() {
  python3 -c '
import json, sys
end = json.load(open(sys.argv[1])).get("end", {})
s, r = end.get("sum_sent", {}), end.get("sum_received", {})
print(s.get("packets", 0), r.get("packets", 0) - r.get("lost_packets", 0),
      int(round(r.get("lost_percent", 100))))' "$1"
}

run_family() {
  local family=$1 dir json bps sent got loss ep_a ep_b side pid_var block drops
  start_pair "$family"
  for pair in "$NS_A $TUN_B4" "$NS_B $TUN_A4" "$NS_A $TUN_B6" "$NS_B $TUN_A6"; do
    # shellcheck disable=SC2086
    set -- $pair
    ping_ok "$1" "$2" 3 10 || netns_fail "IPv$family outer: no ping from $1 to $2"
  done
  if [ "$family" = 6 ]; then
    ep_a="[$OUTER_A6]:$TUN_PORT" ep_b="[$OUTER_B6]:$TUN_PORT"
  else
    ep_a="$OUTER_A4:$TUN_PORT" ep_b="$OUTER_B4:$TUN_PORT"
  fi
  assert_endpoint "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log" "$ep_a"
  assert_endpoint "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log" "$ep_b"
  echo "IPv$family outer: ping both ways over inner IPv4 and IPv6; endpoints $ep_a <-> $ep_b"

  for dir in "" -R; do
    json="$NETNS_TMP/tcp$family$dir.json"
    # shellcheck disable=SC2086
    iperf3_client "$NS_A" "$TUN_B4" -t 2 $dir >"$json" ||
      netns_fail "IPv$family outer: iperf3 TCP ${dir:-A->B} failed: $(head -c 300 "$json")"
    bps=$(iperf3_bps "$json") || netns_fail "IPv$family outer: no iperf3 TCP result"
    [ "$bps" -ge $TCP_MIN_BPS ] ||
      netns_fail "IPv$family outer: iperf3 TCP ${dir:-A->B}: only $bps bit/s"
    echo "IPv$family outer: iperf3 TCP ${dir:-A->B}: $((bps / 1000000)) Mbit/s"
  done
  for dir in "" -R; do
    json="$NETNS_TMP/udp$family$dir.json"
    # shellcheck disable=SC2086
    iperf3_client "$NS_A" "$TUN_B6" -u -b "$UDP_RATE" -t 2 $dir >"$json" ||
      netns_fail "IPv$family outer: iperf3 UDP ${dir:-A->B} failed: $(head -c 300 "$json")"
    read -r sent got loss < <(udp_result "$json")
    [ "$sent" -gt 0 ] && [ "$got" -gt 0 ] && [ "$loss" -le $UDP_MAX_LOSS ] ||
      netns_fail "IPv$family outer: iperf3 UDP ${dir:-A->B}: $got of $sent datagrams ($loss% lost)"
    echo "IPv$family outer: iperf3 UDP ${dir:-A->B} at $UDP_RATE over inner IPv6: $got of" \
      "$sent datagrams, $loss% lost"
  done

  if [ "$family" = 4 ]; then
    transfer_sha256 "$NS_A" "$NS_B" "$TUN_B4" "$XFER_BYTES" ||
      netns_fail "IPv4 outer: $XFER_BYTES bytes A -> B"
  else
    transfer_sha256 "$NS_B" "$NS_A" "$TUN_A6" "$XFER_BYTES" ||
      netns_fail "IPv6 outer: $XFER_BYTES bytes B -> A over inner IPv6"
  fi
  for side in A B; do
    pid_var=RINGTUN_PID_$side
    netns_alive "${!pid_var}" || netns_fail "IPv$family outer: ringtun $side died"
    block=$(ringtun_stats "${!pid_var}" "$NETNS_TMP/ringtun-${side,,}.log") ||
      netns_fail "no statistics from $side"
    drops=$(stats_net_drops <<<"$block")
    [ -z "$drops" ] || netns_fail "IPv$family outer: $side dropped packets of a clean link: $drops"
  done
  ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log"
  ringtun_stop "$NS_B" "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log"
}

netns_pair
iperf3_server "$NS_B"
run_family 4
run_family 6
netns_cleanup
netns_assert_clean
echo "pair: ok"
