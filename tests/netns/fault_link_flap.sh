#!/usr/bin/env bash
# ringtun's TUN taken down and up again under it (`ip link set rt0 down; ip link set rt0 up`,
# as an administrator or a network manager might) while pings flow A -> B over IPv4 and
# IPv6. Taking a link down makes the kernel drop its IPv6 addresses (keep_addr_on_down is 0
# by default) and every route through it, of both families; IPv4 addresses stay. Asserted:
# within RESTORED_MS of the link's return A's TUN carries both its IPv4 and its IPv6 address
# again and both routes ringtun installs for B's allowed IPs (proto 114), and pings over
# both families are answered within TRAFFIC_MS. Done twice (a second flap must work as the
# first did), and the daemon survives it.
# Defect (issue 12): nothing put the IPv6 address or the routes back: IPv6 through the
# tunnel stayed dead until a restart.
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

RESTORED_MS=1000
TRAFFIC_MS=2000
DOWN_SECS=0.5
WATCH_SECS=60

# True when A's TUN has both addresses and both of ringtun's routes to B's allowed IPs.
restored() {
  local addrs routes4 routes6
  addrs=$(ip -n "$NS_A" -o addr show dev "$RT_IF" 2>/dev/null)
  routes4=$(ip -n "$NS_A" -4 route show dev "$RT_IF" proto 114 2>/dev/null)
  routes6=$(ip -n "$NS_A" -6 route show dev "$RT_IF" proto 114 2>/dev/null)
  grep -q " $TUN_A4/24 " <<<"$addrs" && grep -q " $TUN_A6/64 " <<<"$addrs" &&
    grep -q "^$TUN_B4 " <<<"$routes4" && grep -q "^$TUN_B6 " <<<"$routes6"
}

# What A's TUN carries now, for failure messages.
link_state() {
  echo "addresses: $(ip -n "$NS_A" -o addr show dev "$RT_IF" 2>/dev/null | awk '{print $4}' |
    xargs); routes proto 114: $(ip -n "$NS_A" route show dev "$RT_IF" proto 114 2>/dev/null |
    awk '{print $1}' | xargs) $(ip -n "$NS_A" -6 route show dev "$RT_IF" proto 114 2>/dev/null |
    awk '{print $1}' | xargs)"
}

flap() {
  local round=$1 t_up ms v4 v6
  ip -n "$NS_A" link set "$RT_IF" down || netns_fail "cannot take $RT_IF down"
  sleep "$DOWN_SECS"
  ip -n "$NS_A" link set "$RT_IF" up || netns_fail "cannot bring $RT_IF up"
  t_up=$(now_ms)
  if ! netns_poll restored 5; then
    netns_fail "flap $round: 5 s after $RT_IF came back up it lacks an address or a route" \
      "($(link_state))"
  fi
  ms=$(($(now_ms) - t_up))
  fault_bound "flap $round: both addresses and both routes back after the link came up" \
    "$ms" $RESTORED_MS
  v4=$(ping_watch_recovery v4 "$t_up" 5) ||
    netns_fail "flap $round: no IPv4 ping answered within 5 s of the link's return"
  v6=$(ping_watch_recovery v6 "$t_up" 5) ||
    netns_fail "flap $round: no IPv6 ping answered within 5 s of the link's return"
  fault_bound "flap $round: IPv4 traffic after the link came up" "$v4" $TRAFFIC_MS
  fault_bound "flap $round: IPv6 traffic after the link came up" "$v6" $TRAFFIC_MS
}

netns_pair
ringtun_pair
ping_ok "$NS_A" "$TUN_B4" 3 10 && ping_ok "$NS_A" "$TUN_B6" 3 10 ||
  netns_fail "no ping over IPv4 and IPv6 through the tunnel"
restored || netns_fail "before any flap, A's TUN lacks an address or a route ($(link_state))"
ping_watch_start v4 "$NS_A" "$TUN_B4" $WATCH_SECS
ping_watch_start v6 "$NS_A" "$TUN_B6" $WATCH_SECS
netns_poll "[ \$(ping_watch_replies v4) -gt 0 ] && [ \$(ping_watch_replies v6) -gt 0 ]" 5 ||
  netns_fail "the continuous pings got no reply before the flap"

flap 1
flap 2
grep -E "$RT_IF: link" "$NETNS_TMP/ringtun-a.log" | tail -n 4 || true
ringtun_pair_stop
netns_cleanup
netns_assert_clean
echo "fault_link_flap: ok"
