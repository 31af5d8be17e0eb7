#!/usr/bin/env bash
# ringtun (namespace A) <-> Debian's wireguard-go configured with wg (namespace B), twice:
# first ringtun initiates (it has B's endpoint and sends first), then ringtun is restarted
# without an endpoint and wireguard-go, its peer reset, initiates, so ringtun responds and
# learns the endpoint. Each time: the logged handshake role, ping both ways over inner IPv4
# and IPv6, iperf3 TCP both directions, wg's view of the handshake, and no network drops; the
# first time also a transfer each way whose SHA-256 matches. ringtun runs with its default
# offloads. $WIREGUARD_GO names another wireguard-go build (wggo_bpo_interop.sh).
# Needs root, /dev/net/tun, ip netns, wireguard-go, wg, iperf3 (exit 77 otherwise).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/lib_daemon.sh"
netns_require "${WIREGUARD_GO:-wireguard-go}" wg iperf3
netns_require_ringtun_run
LOG_A="$NETNS_TMP/ringtun-a.log"
TCP_MIN_BPS=10000000
XFER_BYTES=${XFER_BYTES:-50000000}

# Pings FIRST_NS -> FIRST_ADDR first (whoever sends first initiates), then every other way.
ping_all() {
  local what=$1 pair
  for pair in "$2 $3" "$NS_A $TUN_B4" "$NS_B $TUN_A4" "$NS_A $TUN_B6" "$NS_B $TUN_A6"; do
    # shellcheck disable=SC2086
    set -- $pair
    ping_ok "$1" "$2" 3 10 || netns_fail "$what: no ping from $1 to $2"
  done
}

iperf3_both_ways() {
  local what=$1 dir json bps label
  for dir in "" -R; do
    json="$NETNS_TMP/iperf3-${what// /-}$dir.json"
    # shellcheck disable=SC2086
    iperf3_client "$NS_A" "$TUN_B4" -t 2 $dir >"$json" ||
      netns_fail "$what: iperf3 ${dir:-A->B} failed: $(head -c 300 "$json")"
    bps=$(iperf3_bps "$json") || netns_fail "$what: no iperf3 result"
    [ "$bps" -ge $TCP_MIN_BPS ] || netns_fail "$what: iperf3 ${dir:-A->B}: $bps bit/s"
    if [ -z "$dir" ]; then label="ringtun -> wireguard-go"; else label="wireguard-go -> ringtun"; fi
    echo "$what: iperf3 TCP $label: $((bps / 1000000)) Mbit/s"
  done
}

# The handshake role ringtun logged after line FROM of its log must be ROLE, wg must report
# a handshake, and ringtun must have dropped nothing from the network.
check_round() {
  local what=$1 from=$2 role=$3 roles hs block drops
  roles=$(tail -n +$((from + 1)) "$LOG_A" | sed -nE 's/.*handshake complete \(([a-z]+)\).*/\1/p' |
    sort -u | tr '\n' ' ')
  [ "$roles" = "$role " ] || netns_fail "$what: ringtun logged handshake roles '$roles', want $role"
  hs=$(ip netns exec "$NS_B" wg show "$WG_B" latest-handshakes | awk '{print $2}')
  [ "${hs:-0}" -gt 0 ] || netns_fail "$what: wg show reports no handshake on $WG_B"
  block=$(ringtun_stats "$RINGTUN_PID_A" "$LOG_A") || netns_fail "no statistics from ringtun"
  grep -qF "endpoint $OUTER_B4:$TUN_PORT rx" <<<"$block" ||
    netns_fail "$what: ringtun's peer endpoint: $(grep 'stats: peer' <<<"$block")"
  drops=$(stats_net_drops <<<"$block")
  [ -z "$drops" ] || netns_fail "$what: ringtun dropped packets from wireguard-go: $drops"
  echo "$what: ringtun handshake role $role, wireguard-go endpoint $(ip netns exec "$NS_B" \
    wg show "$WG_B" endpoints | awk '{print $2}')"
}

netns_pair
ringtun_wggo_pair
iperf3_server "$NS_B"

# Round 1: ringtun sends first, so it initiates.
ping_all "ringtun initiator" "$NS_A" "$TUN_B4"
check_round "ringtun initiator" 0 initiator
iperf3_both_ways "ringtun initiator"
transfer_sha256 "$NS_A" "$NS_B" "$TUN_B4" "$XFER_BYTES" || netns_fail "transfer ringtun -> wireguard-go"
transfer_sha256 "$NS_B" "$NS_A" "$TUN_A6" "$XFER_BYTES" || netns_fail "transfer wireguard-go -> ringtun"

# Round 2: ringtun without an endpoint can only respond; wireguard-go forgets its session by
# having the peer removed and configured again.
ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$LOG_A"
ip netns exec "$NS_B" wg set "$WG_B" peer "$(cat "$NETNS_TMP/rta.pub")" remove ||
  netns_fail "wg: cannot remove the peer"
wg_configure "$NS_B" "$WG_B" "$NETNS_TMP/rtb.key" $TUN_PORT "$(cat "$NETNS_TMP/rta.pub")" \
  "$OUTER_A4:$TUN_PORT" "$TUN_A4/32,$TUN_A6/128"
sed -i '/^endpoint = /d' "$NETNS_TMP/ringtun-a.toml"
from=$(wc -l <"$LOG_A")
start_ringtun "$NS_A" "$NETNS_TMP/ringtun-a.toml" "$LOG_A"
RINGTUN_PID_A=$RINGTUN_PID
wait_for_ringtun "$NS_A" "$RINGTUN_PID_A" "$LOG_A" "$TUN_A4"
ping_all "ringtun responder" "$NS_B" "$TUN_A4"
check_round "ringtun responder" "$from" responder
iperf3_both_ways "ringtun responder"

ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$LOG_A"
netns_cleanup
netns_assert_clean
echo "wggo_interop: ok"
