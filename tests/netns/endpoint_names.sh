#!/usr/bin/env bash
# Endpoint host names: ringtun in namespace A has peer B given as
# endpoint = "peer-b.ringtun.test:PORT" and peer C given by address (its own veth to A).
# A's /etc/hosts and /etc/resolv.conf are files of /etc/netns/NS_A/ (`ip netns exec` mounts
# them): the name is not in the hosts file at first, and the nameserver is a blackhole (an
# address routed to C, which does not forward: every query goes unanswered for 3 s).
#   1. `ringtun check` on A's file: exit 0 with a warning naming the name.
#   2. A starts anyway: its TUN comes up, it logs "does not resolve yet ... the peer waits"
#      once, and ping A -> C passes with no loss and no reply later than 1 s while A's
#      lookups hang on the dead nameserver (they run off the loop).
#   3. The name written to the hosts file: A resolves it and ping A -> B works within 10 s.
#   4. B moves to another outer address (its veth address changed, and the hosts entry): A's
#      handshakes go unanswered, A looks the name up again, and ping A -> B works again within
#      60 s (the time it took is printed).
#   5. A reload gives C a name the resolver never answers; SIGTERM while that lookup hangs
#      stops A within 1 s, exit status 0.
# With the argument "tcp" (netns.endpoint_names_tcp), A dials B over TCP (B listens on TCP):
# the transport runs from the start with nothing to dial, and the dialer follows the name.
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

TRANSPORT=${1:-udp}
case $TRANSPORT in udp) SUFFIX="" ;; tcp) SUFFIX=/tcp ;; *) netns_fail "transport '$1'" ;; esac

NAME=peer-b.ringtun.test
OUTER_A4_MOVED=10.99.1.1 OUTER_B4_MOVED=10.99.1.2
DEAD_DNS=10.97.53.53
LOG_A=$NETNS_TMP/ringtun-a.log
RT_IF=rtn0

netns_pair
netns_add_c
# Where B moves to, already on A's side of the link.
ip -n "$NS_A" addr add "$OUTER_A4_MOVED/24" dev veth0
# The dead nameserver: routed to C, which drops what is not its own (no forwarding, and no
# ICMP error for it then), so each query waits for its whole timeout.
ip netns exec "$NS_C" sysctl -qw net.ipv4.ip_forward=0
ip -n "$NS_A" route add "$DEAD_DNS/32" via "$OUTER_C4"

ETC_A=/etc/netns/$NS_A
netns_on_cleanup "rm -rf '$ETC_A'; rmdir /etc/netns 2>/dev/null || true"
mkdir -p "$ETC_A"
hosts_without_b() { printf '127.0.0.1 localhost\n::1 localhost\n' >"$ETC_A/hosts"; }
hosts_without_b
printf 'nameserver %s\noptions timeout:3 attempts:1\n' "$DEAD_DNS" >"$ETC_A/resolv.conf"

make_keypair rta
make_keypair rtb
make_keypair rtc
TOML=$NETNS_TMP/ringtun-a.toml
a_config() {  # C's endpoint as $1
  cat <<EOF
[interface]
name = "$RT_IF"
private_key_file = "$NETNS_TMP/rta.key"
listen_port = $TUN_PORT
address = ["$TUN_A4/24"]
control_socket = false

[[peer]]
public_key = "$(cat "$NETNS_TMP/rtb.pub")"
endpoint = "$NAME:$TUN_PORT"
allowed_ips = ["$TUN_B4/32"]
transport = "$TRANSPORT"

[[peer]]
public_key = "$(cat "$NETNS_TMP/rtc.pub")"
endpoint = "$1"
allowed_ips = ["$TUN_C4/32"]
EOF
}
a_config "$OUTER_C4:$TUN_PORT" >"$TOML"
# B and C know no endpoint of A: they answer A's handshakes, so B cannot roam A to its new
# address by itself, and only A's lookup brings the tunnel back.
for side in b c; do
  tun=TUN_${side^^}4 extra=()
  [ "$side$TRANSPORT" = btcp ] && extra=(listen_tcp_port="$TUN_PORT")
  ringtun_config "$NETNS_TMP/ringtun-$side.toml" name="$RT_IF" \
    private_key_file="$NETNS_TMP/rt$side.key" listen_port="$TUN_PORT" address="${!tun}/24" \
    public_key="$(cat "$NETNS_TMP/rta.pub")" allowed_ips="$TUN_A4/32" "${extra[@]}"
done

# 1. check: a warning, exit 0.
t0=$(now_ms)
out=$(netns_run_bounded 20 ip netns exec "$NS_A" "$RINGTUN" check "$TOML" 2>&1) ||
  netns_fail "check refused the file: $out"
grep -qF "peer[1].endpoint: warning: $NAME:$TUN_PORT does not resolve" <<<"$out" ||
  netns_fail "check did not warn of $NAME: $out"
grep -qF "OK (interface $RT_IF, 2 peers)" <<<"$out" || netns_fail "check: $out"
echo "check: exit 0 after $(($(now_ms) - t0)) ms: $(grep -F warning <<<"$out")"

# 2. A starts; C works while B's name hangs on the dead nameserver.
ringtun_side_start b
ringtun_side_start c
ringtun_side_wait b
ringtun_side_wait c
ringtun_side_start a "$TOML"
ringtun_side_wait a
WAITS="endpoint $NAME:$TUN_PORT does not resolve yet \(.*\); the peer waits"
[ "$(count_lines "$LOG_A" "$WAITS")" -eq 0 ] ||
  netns_fail "the first lookup did not hang on the dead nameserver"
summary=$(ping_rtt "$NS_A" "$TUN_C4" 60 0.1) || netns_fail "no ping A -> C: $summary"
echo "ping A -> C during the hanging lookups: $summary"
[ "$(kv_get received <<<"$summary")" = 60 ] || netns_fail "ping A -> C lost replies"
rtt_max=$(kv_get rtt_max <<<"$summary")
awk -v m="$rtt_max" 'BEGIN { exit !(m < 1000) }' || netns_fail "a reply took $rtt_max ms"
wait_for_log "$LOG_A" "$WAITS" 10 "$RINGTUN_PID_A" || netns_fail "no 'peer waits' warning"
echo "A: $(grep -E "$WAITS" "$LOG_A" | head -n 1)"
grep -q "up, public key" "$LOG_A" || netns_fail "A did not log that it is up"

# Pings ADDR from NS_A once a second until one comes back, for up to SECS; prints the ms.
ping_until() {
  local addr=$1 secs=$2 t0 deadline
  t0=$(now_ms) deadline=$(($(now_ms) + secs * 1000))
  until ping_ok "$NS_A" "$addr" 1 1 2>/dev/null; do
    [ "$(now_ms)" -lt "$deadline" ] || return 1
  done
  echo $(($(now_ms) - t0))
}

# 3. The name appears in the hosts file (written in place: the mount holds the inode).
echo "$OUTER_B4 $NAME" >>"$ETC_A/hosts"
ms=$(ping_until "$TUN_B4" 10) || netns_fail "no ping A -> B within 10 s of the hosts entry"
grep -qF "endpoint $NAME:$TUN_PORT now resolves to $OUTER_B4:$TUN_PORT$SUFFIX" "$LOG_A" ||
  netns_fail "A did not log the name's address"
[ "$(count_lines "$LOG_A" "$WAITS")" -eq 1 ] || netns_fail "the warning was logged more than once"
echo "hosts entry written: ping A -> B after $ms ms"

# 4. B moves; A finds it again through the name once its handshakes go unanswered.
ip -n "$NS_B" addr del "$OUTER_B4/24" dev veth0
ip -n "$NS_B" addr add "$OUTER_B4_MOVED/24" dev veth0
hosts_without_b
echo "$OUTER_B4_MOVED $NAME" >>"$ETC_A/hosts"
ms=$(ping_until "$TUN_B4" 60) || netns_fail "no ping A -> B within 60 s of B's move"
grep -qF "endpoint $NAME:$TUN_PORT now resolves to $OUTER_B4_MOVED:$TUN_PORT$SUFFIX" "$LOG_A" ||
  netns_fail "A did not log the name's new address"
echo "B moved: A re-resolved its name, ping A -> B ($TRANSPORT) again after $ms ms"

# 5. A reload names C by a name the dead nameserver never answers; SIGTERM during the lookup.
a_config "peer-c.ringtun.test:$TUN_PORT" >"$TOML"
before=$(count_lines "$LOG_A" 'reload: applied')
kill -HUP "$RINGTUN_PID_A"
netns_poll "[ \$(count_lines '$LOG_A' 'reload: applied') -gt $before ]" 5 ||
  netns_fail "the reload was not applied"
sleep 1.5  # the names hook runs within a second: the lookup has started, and hangs for 3 s
t0=$(now_ms)
rc=0
stop_process "$RINGTUN_PID_A" 5 || rc=$?
ms=$(($(now_ms) - t0))
[ $rc -eq 0 ] || netns_fail "A exited with status $rc on SIGTERM"
[ $ms -lt 1000 ] || netns_fail "A took $ms ms to stop during a lookup"
echo "SIGTERM during a hanging lookup: A stopped in $ms ms, exit 0"
echo "ok"
