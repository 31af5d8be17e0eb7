#!/usr/bin/env bash
# Routes for the peers' allowed IPs, installed by `ringtun run` as wg-quick's Table=auto does:
#   1. B's peer entry on A names a /27 beyond A's own /24: A reaches an address in it with no
#      `ip route` by hand (route in the main table, dev RT_IF).
#   2. SIGHUP with the /27 gone: its route is gone.
#   3. A restarted with 0.0.0.0/0 for B: A's default route goes through the tunnel (table 51820
#      and wg-quick's two rules), an address only B has is reached through it, while the
#      tunnel's own packets (fwmark 51820 on its socket) and the outer /24 still use the veth.
#   3b. A's link taken down and up with IPv6 disabled on it meanwhile: its IPv6 route cannot
#      come back (EACCES, logged as not put back), and the others after it (B's IPv4 /32,
#      the default route in table 51820) come back all the same.
#      Defect: the first route that failed ended the restore, so those after it stayed away.
#   4. A stopped: the rules are gone with it; nothing of A's is left in the routing.
# Routes and rules that were there before (someone else's) are left as they are.
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

EXTRA4=10.200.0.33  # on B's TUN, in 10.200.0.32/27
ONLY_B=198.51.100.7 # on B's loopback: reachable from A only through a default route
netns_pair
RT_IF=rtb0
make_keypair rta
make_keypair rtb

# B: its usual configuration plus the /27's address; A: B's prefixes plus EXTRA.
ringtun_side_config b udp 4
sed -i "s|^address = \[|address = [\"$EXTRA4/27\", |" "$NETNS_TMP/ringtun-b.toml"
a_config() {  # ALLOWED (comma-separated)
  ringtun_config "$NETNS_TMP/ringtun-a.toml" name="$RT_IF" private_key_file="$NETNS_TMP/rta.key" \
    listen_port=$TUN_PORT address="$TUN_A4/24,$TUN_A6/64" mtu=$TUN_MTU \
    public_key="$(cat "$NETNS_TMP/rtb.pub")" endpoint="$OUTER_B4:$TUN_PORT" allowed_ips="$1"
}
# 10.250.0.0/24 has a route already (someone else's): ringtun must leave it as it is.
ip -n "$NS_A" route add 10.250.0.0/24 via "$OUTER_B4"
a_config "$TUN_B4/32,$TUN_B6/128,10.200.0.32/27,10.250.0.0/24"
ip -n "$NS_B" addr add "$ONLY_B/32" dev lo
start_sides_b_then_a
LOG_A=$NETNS_TMP/ringtun-a.log

# 1. The /27 through the tunnel, by ringtun's route.
route=$(ip -n "$NS_A" -4 route show 10.200.0.32/27)
grep -q "dev $RT_IF" <<<"$route" || netns_fail "no route for 10.200.0.32/27 via $RT_IF: '$route'"
ping_ok "$NS_A" "$EXTRA4" 3 10 || netns_fail "no ping A -> $EXTRA4 through the /27 route"
echo "1. route '$route'; $EXTRA4 reached through the tunnel"
grep -q "via $OUTER_B4" <<<"$(ip -n "$NS_A" -4 route show 10.250.0.0/24)" ||
  netns_fail "the existing route to 10.250.0.0/24 was replaced"
grep -q "routes: a route to a IPv4/24 exists already" "$LOG_A" ||
  netns_fail "no warning about the existing route to 10.250.0.0/24"
echo "   the existing route to 10.250.0.0/24 left as it was (logged)"

# 2. Reload without the /27: its route goes.
a_config "$TUN_B4/32,$TUN_B6/128"
before=$(count_lines "$LOG_A" 'reload: applied')
kill -HUP "$RINGTUN_PID_A"
netns_poll "[ \$(count_lines '$LOG_A' 'reload: applied') -gt $before ]" 5 ||
  netns_fail "no 'reload: applied' after SIGHUP"
[ -z "$(ip -n "$NS_A" -4 route show 10.200.0.32/27)" ] ||
  netns_fail "the /27's route is still there after the reload removed it"
echo "2. reload without the /27: its route is gone"

# 3. A restarted with a default route through B.
ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$LOG_A"
a_config "$TUN_B6/128,$TUN_B4/32,0.0.0.0/0"  # IPv6 first: 3b needs a failure before the rest
# Someone else's identical suppress rule (another tunnel's): it must outlive ours.
ip -n "$NS_A" -4 rule add table main suppress_prefixlength 0
start_ringtun "$NS_A" "$NETNS_TMP/ringtun-a.toml" "$LOG_A"
RINGTUN_PID_A=$RINGTUN_PID
wait_for_ringtun "$NS_A" "$RINGTUN_PID_A" "$LOG_A" "$TUN_A4"
rules=$(ip -n "$NS_A" -4 rule show)
grep -q "not from all fwmark 0xca6c lookup 51820" <<<"$rules" ||
  netns_fail "no 'not fwmark 51820 lookup 51820' rule: $rules"
grep -q "from all lookup main suppress_prefixlength 0" <<<"$rules" ||
  netns_fail "no 'lookup main suppress_prefixlength 0' rule: $rules"
grep -q "default dev $RT_IF" <<<"$(ip -n "$NS_A" -4 route show table 51820)" ||
  netns_fail "no default route via $RT_IF in table 51820"
mark=$(ip netns exec "$NS_A" ss -Huanpe "sport = :$TUN_PORT" 2>/dev/null | grep -o 'fwmark:0x[0-9a-f]*')
[ "$mark" = fwmark:0xca6c ] || netns_fail "ringtun's UDP socket has '$mark', want fwmark:0xca6c"
ping_ok "$NS_A" "$ONLY_B" 3 10 || netns_fail "no ping A -> $ONLY_B through the default route"
ping_ok "$NS_A" "$OUTER_B4" 3 5 || netns_fail "the outer /24 does not reach B directly any more"
ping_ok "$NS_A" "$TUN_B4" 3 5 || netns_fail "no ping through the tunnel with the default route"
echo "3. default route through the tunnel: rules and table 51820 in place, socket $mark;" \
  "$ONLY_B reached through it, the outer link still direct"

# 3b. A link flap that one route cannot survive.
ip netns exec "$NS_A" sysctl -qw "net.ipv6.conf.$RT_IF.disable_ipv6=1"
ip -n "$NS_A" link set "$RT_IF" down
ip -n "$NS_A" link set "$RT_IF" up
wait_for_log "$LOG_A" "$RT_IF: link up again" 5 "$RINGTUN_PID_A" ||
  netns_fail "no 'link up again' after $RT_IF came back"
grep -q "^$TUN_B4 " <<<"$(ip -n "$NS_A" -4 route show dev "$RT_IF" proto 114)" ||
  netns_fail "the route to $TUN_B4 did not come back after the IPv6 one failed"
grep -q "default dev $RT_IF" <<<"$(ip -n "$NS_A" -4 route show table 51820)" ||
  netns_fail "the default route in table 51820 did not come back after the IPv6 one failed"
ping_ok "$NS_A" "$ONLY_B" 3 10 || netns_fail "no ping A -> $ONLY_B after the flap"
grep -q "routes: $TUN_B6/128 in table 254 not put back" "$LOG_A" ||
  netns_fail "the IPv6 route that could not come back was not logged"
echo "3b. flap with IPv6 disabled: $(grep "$RT_IF: link up again" "$LOG_A" | tail -n 1 |
  sed 's/.*link up again/link up again/')"

# 4. Stopped: nothing left.
ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$LOG_A"
rules=$(ip -n "$NS_A" -4 rule show)
! grep -qE "51820|proto 114" <<<"$rules" || netns_fail "rules left after stop: $rules"
[ "$(grep -c "suppress_prefixlength" <<<"$rules")" -eq 1 ] ||
  netns_fail "the other owner's suppress rule did not survive, or ours is left: $rules"
[ -z "$(ip -n "$NS_A" -4 route show table 51820 2>/dev/null)" ] ||
  netns_fail "routes left in table 51820 after stop"
echo "4. stopped: our rules and routes are gone; the other owner's suppress rule is still there"
ringtun_stop "$NS_B" "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log"
netns_cleanup
netns_assert_clean
echo "routes: ok"
