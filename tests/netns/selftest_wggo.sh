#!/usr/bin/env bash
# Proves tests/netns/lib.sh with wireguard-go <-> wireguard-go (no ringtun): ping both ways
# over IPv4 and IPv6, iperf3 TCP both ways, 20 MB with matching SHA-256, and no namespace,
# process, socket or temp file left behind, also when a test is killed by SIGTERM or SIGINT.
# Needs root, /dev/net/tun, ip netns, wireguard-go, wg, iperf3 (exit 77 otherwise).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# --child READY_FILE: sets up a tunnel, reports its names, then idles until killed.
if [ "${1:-}" = --child ]; then
  NETNS_DUMP_LOGS=0
  source "$here/lib.sh"
  netns_pair
  wggo_pair
  ping_ok "$NS_A" "$TUN_B4" 1 10 || netns_fail "child: no tunnel"
  echo "$NETNS_ID $NETNS_TMP $WGGO_PID_A $WGGO_PID_B" >"$2"
  netns_run_bounded 60 sleep 60
  exit 0
fi

source "$here/lib.sh"
netns_require wireguard-go wg iperf3

netns_pair
ping_ok "$NS_A" "$OUTER_B4" && ping_ok "$NS_B" "$OUTER_A6" || netns_fail "veth: no ping"

make_psk shared
wggo_pair "$NETNS_TMP/shared.psk"
for pair in "$NS_A $TUN_B4" "$NS_B $TUN_A4" "$NS_A $TUN_B6" "$NS_B $TUN_A6"; do
  # shellcheck disable=SC2086
  set -- $pair
  ping_ok "$1" "$2" 3 10 || netns_fail "no ping from $1 to $2 through wireguard-go"
done
hs=$(ip netns exec "$NS_A" wg show "$WG_A" latest-handshakes | awk '{print $2}')
[ "${hs:-0}" -gt 0 ] || netns_fail "wg show reports no handshake on $WG_A"

iperf3_server "$NS_B"
for dir in "" "-R"; do
  json="$NETNS_TMP/iperf3$dir.json"
  # shellcheck disable=SC2086
  iperf3_client "$NS_A" "$TUN_B4" -t 2 $dir >"$json" || netns_fail "iperf3 $dir failed"
  read -r bps bytes < <(iperf3_field "$json" receiver_bps receiver_bytes)
  [ "$bps" -gt 1000000 ] || netns_fail "iperf3 $dir: only $bps bit/s"
  echo "iperf3 TCP ${dir:-(A->B)}: $((bps / 1000000)) Mbit/s, $bytes bytes"
done

transfer_sha256 "$NS_A" "$NS_B" "$TUN_B4" 20000000 || netns_fail "20 MB A->B"
transfer_sha256 "$NS_B" "$NS_A" "$TUN_A6" 2000000 || netns_fail "2 MB B->A over IPv6"

wg_pids="$WGGO_PID_A $WGGO_PID_B"
netns_cleanup
netns_assert_clean
for pid in $wg_pids; do
  ! netns_alive "$pid" || netns_fail "wireguard-go $pid still runs after cleanup"
done
echo "cleanup: namespaces, processes, sockets and $NETNS_TMP gone"

# A test killed mid-way still cleans up: its traps run on SIGTERM and SIGINT.
for sig in TERM INT; do
  ready=$(mktemp "/tmp/ringtun-selftest.XXXXXX")
  trap 'rm -f "$ready"' EXIT
  rm -f "$ready"
  env --default-signal=INT bash "$0" --child "$ready" &
  child=$!
  for ((i = 0; i < 300; i++)); do
    [ -s "$ready" ] || ! kill -0 "$child" 2>/dev/null && break
    sleep 0.1
  done
  [ -s "$ready" ] || { kill -KILL "$child"; netns_fail "child test did not set up"; }
  read -r cid ctmp cpa cpb <"$ready"
  kill "-$sig" "$child"
  rc=0
  wait "$child" || rc=$?
  [ $rc -ne 0 ] || netns_fail "SIG$sig: child exited 0"
  ! grep -q "^${cid}[a-z]" <<<"$(ip netns list)" || netns_fail "SIG$sig: namespaces of $cid left"
  ! ls /var/run/wireguard/"$cid"[a-z]* >/dev/null 2>&1 || netns_fail "SIG$sig: sockets of $cid left"
  [ ! -e "$ctmp" ] || netns_fail "SIG$sig: $ctmp left"
  ! netns_alive "$cpa" && ! netns_alive "$cpb" || netns_fail "SIG$sig: wireguard-go left"
  rm -f "$ready"
  echo "SIG$sig: child exited $rc and left nothing behind"
done
echo "selftest_wggo: ok"
