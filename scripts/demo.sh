#!/usr/bin/env bash
# The demo: two network namespaces joined by a veth pair, a ringtun instance in each, a
# WireGuard tunnel between them, ping through it, 5 seconds of iperf3 and `wg show`.
# Everything it creates is removed on exit. Needs root (installs packages and builds if needed).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
RINGTUN=$(pwd)/$(scripts/build.sh ringtun | tail -n 1)/daemon/ringtun
export RINGTUN

source tests/netns/lib.sh
netns_require iperf3 ping wg
netns_pair
echo "== namespaces $NS_A (10.99.0.1) and $NS_B (10.99.0.2) joined by veth"
RT_IF=$(netns_ifname rt)  # A serves `wg` on /var/run/wireguard/$RT_IF.sock: a unique name
export RT_CONTROL_A=1  # read by ringtun_side_config
ringtun_pair
echo "== ringtun in $NS_A, config:"
sed 's/^private_key_file.*/private_key_file = "…" (mode 0600)/' "$NETNS_TMP/ringtun-a.toml"
echo "== ringtun in $NS_B, log:"
sed 's/^/   /' "$NETNS_TMP/ringtun-b.log"

echo "== ping through the tunnel, IPv4 then IPv6"
ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 5 "$TUN_B4"
ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 5 "$TUN_B6"

echo "== iperf3 through the tunnel, 5 s"
iperf3_server "$NS_B"
netns_run_bounded 40 ip netns exec "$NS_A" iperf3 -c "$TUN_B4" -t 5 -f m

echo "== wg show $RT_IF in $NS_A (the UAPI socket, as for wireguard-go)"
ip netns exec "$NS_A" wg show "$RT_IF"

echo "== statistics (SIGUSR1)"
kill -USR1 "$RINGTUN_PID_A"
sleep 0.3
grep 'stats:' "$NETNS_TMP/ringtun-a.log" | sed 's/^<5>/   /'
echo "== stopping (SIGTERM)"
stop_process "$RINGTUN_PID_A" 5 TERM || true
stop_process "$RINGTUN_PID_B" 5 TERM || true
grep -h 'stopped' "$NETNS_TMP/ringtun-a.log" "$NETNS_TMP/ringtun-b.log" | sed 's/^<5>/   /'
echo "== demo done; namespaces removed on exit"
