#!/usr/bin/env bash
# ringtun <-> ringtun with the offloads (TUN TSO/USO/GRO, UDP GSO/GRO) all on (auto), each one
# off in turn, and all off. For each: the start log names the offloads in effect, ping both
# ways, iperf3 TCP both directions, a transfer whose SHA-256 matches, no network drops, and the
# counters show each offload at work exactly where it is on: super-packets split at the
# sender (TUN TSO), batches sent with UDP_SEGMENT (UDP GSO), coalesced datagrams received (UDP
# GRO) and coalesced TUN writes at the receiver (TUN GRO). Then a path MTU below the UDP
# segment size: every GSO batch is refused, GSO goes off (logged once) and TCP keeps flowing.
# Needs root, /dev/net/tun, ip netns, iperf3 (exit 77 otherwise); RINGTUN = ringtun binary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/lib_daemon.sh"
netns_ringtun_test iperf3
XFER_BYTES=${XFER_BYTES:-30000000}
TCP_MIN_BPS=10000000

# Count KEY of the "stats: offload" line of a statistics block on stdin.
stats_offload() {
  local n
  n=$(grep -E 'stats: offload ' | tail -n 1 | tr ' ' '\n' | sed -n "/^$1\$/{n;p}")
  echo "${n:-0}"
}

# Fails unless COUNT (of KEY on SIDE) is > 0 when WANT is "on", and 0 when it is "off".
expect_count() {
  local what=$1 side=$2 key=$3 want=$4 count=$5
  if [ "$want" = on ] && [ "$count" -eq 0 ]; then
    netns_fail "$what: $side $key is 0 although it is on"
  elif [ "$want" = off ] && [ "$count" -ne 0 ]; then
    netns_fail "$what: $side $key is $count although it is off"
  fi
}

traffic() {
  local what=$1 dir json bps
  for pair in "$NS_A $TUN_B4" "$NS_B $TUN_A4" "$NS_A $TUN_B6" "$NS_B $TUN_A6"; do
    # shellcheck disable=SC2086
    set -- $pair
    ping_ok "$1" "$2" 3 10 || netns_fail "$what: no ping from $1 to $2"
  done
  for dir in "" -R; do
    json="$NETNS_TMP/tcp-${what// /_}$dir.json"
    # shellcheck disable=SC2086
    iperf3_client "$NS_A" "$TUN_B4" -t 2 $dir >"$json" ||
      netns_fail "$what: iperf3 TCP ${dir:-A->B} failed: $(head -c 300 "$json")"
    bps=$(iperf3_bps "$json") || netns_fail "$what: no iperf3 TCP result"
    [ "$bps" -ge $TCP_MIN_BPS ] || netns_fail "$what: iperf3 TCP ${dir:-A->B}: only $bps bit/s"
    echo "$what: iperf3 TCP ${dir:-A->B}: $((bps / 1000000)) Mbit/s"
  done
  transfer_sha256 "$NS_A" "$NS_B" "$TUN_B6" "$XFER_BYTES" ||
    netns_fail "$what: $XFER_BYTES bytes A -> B over inner IPv6"
}

# One run: OFF is the offload switched off ("" none, "all" every one; "trust": all on, with
# the TUN GRO trusting the AEAD instead of checking checksums).
run_case() {
  local off=$1 what args=() o tso=on uso=on gro=on gso=on ugro=on a b
  what="offloads ${off:+$off }off"
  [ -n "$off" ] || what="offloads on"
  if [ "$off" = trust ]; then
    what="offloads on, GRO checksums trusted"
    args+=("offload.tun_gro_checksums=trust")
  fi
  for o in tun_tso tun_uso tun_gro udp_gso udp_gro; do
    if [ "$off" = all ] || [ "$off" = "$o" ]; then args+=("offload.$o=off"); fi
  done
  case $off in
    tun_tso) tso=off ;;
    tun_gro) gro=off ;;
    udp_gso) gso=off ;;
    udp_gro) ugro=off ;;
    all) tso=off uso=off gro=off gso=off ugro=off ;;
  esac
  RT_IF=rto0
  ringtun_pair udp 4 "${args[@]}"
  grep -E "offloads: " "$NETNS_TMP/ringtun-a.log" | tail -n 1 | sed 's/^/  A: /'
  [ "$off" != all ] || grep -q "offloads: none" "$NETNS_TMP/ringtun-a.log" ||
    netns_fail "$what: A does not log 'offloads: none'"
  [ "$off" != trust ] || grep -q "checksums trusted" "$NETNS_TMP/ringtun-b.log" ||
    netns_fail "$what: B does not log 'checksums trusted'"
  traffic "$what"
  a=$(ringtun_stats "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log") || netns_fail "no stats from A"
  b=$(ringtun_stats "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log") || netns_fail "no stats from B"
  for block in "$a" "$b"; do
    [ -z "$(stats_net_drops <<<"$block")" ] ||
      netns_fail "$what: network drops: $(stats_net_drops <<<"$block")"
  done
  grep -E 'stats: offload ' <<<"$a" | tail -n 1 | sed 's/^/  A: /'
  grep -E 'stats: offload ' <<<"$b" | tail -n 1 | sed 's/^/  B: /'
  expect_count "$what" A tun_super_packets $tso "$(stats_offload tun_super_packets <<<"$a")"
  expect_count "$what" A udp_gso_batches $gso "$(stats_offload udp_gso_batches <<<"$a")"
  expect_count "$what" B coalesced $gro "$(stats_offload coalesced <<<"$b")"
  # Coalesced datagrams need a sender that sends batches (veth has no GRO of its own).
  [ $gso = off ] || expect_count "$what" B udp_rx_coalesced $ugro \
    "$(stats_offload udp_rx_coalesced <<<"$b")"
  [ "$(stats_offload tun_bad_offload <<<"$a")" -eq 0 ] || netns_fail "$what: A tun_bad_offload"
  ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log"
  ringtun_stop "$NS_B" "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log"
  echo "$what: ok"
}

# The veth's MTU below the tunnel's datagrams (1420 + 60 > 1400): GSO batches are refused.
path_mtu_case() {
  local what="path MTU below the segment size" a
  ip -n "$NS_A" link set dev veth0 mtu 1400
  ip -n "$NS_B" link set dev veth0 mtu 1400
  RT_IF=rto0
  ringtun_pair udp 4
  traffic "$what"
  a=$(ringtun_stats "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log") || netns_fail "no stats from A"
  grep -E 'stats: offload ' <<<"$a" | tail -n 1 | sed 's/^/  A: /'
  [ "$(stats_offload udp_gso_refused <<<"$a")" -gt 0 ] || netns_fail "$what: GSO never refused"
  [ "$(count_lines "$NETNS_TMP/ringtun-a.log" 'UDP GSO refused')" -eq 1 ] ||
    netns_fail "$what: 'UDP GSO refused' not logged exactly once"
  ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log"
  ringtun_stop "$NS_B" "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log"
  echo "$what: ok"
}

netns_pair
iperf3_server "$NS_B"
for off in "" tun_tso tun_uso tun_gro udp_gso udp_gro all trust; do
  run_case "$off"
done
path_mtu_case
netns_cleanup
netns_assert_clean
echo "offloads: ok"
