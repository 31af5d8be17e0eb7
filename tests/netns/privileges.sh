#!/usr/bin/env bash
# ringtun run with [interface] user = "nobody": started as root, it sets up and then becomes
# nobody with only CAP_NET_ADMIN and no_new_privs, and everything it does at run time still
# works. Round 1, A (nobody; io_uring with SQPOLL, so the SQ thread is the dropped user's too)
# and B (root with no user: the drop keeps uid 0 and CAP_NET_ADMIN only) over UDP:
#   1. /proc/PID/status of A: Uid and Gid nobody's (all four), no supplementary groups, CapEff
#      = CapPrm = CapBnd = CAP_NET_ADMIN (0x1000), CapInh = CapAmb = 0, NoNewPrivs 1, and
#      every thread of it nobody's; of B: Uid 0, CapEff 0x1000, NoNewPrivs 1;
#   2. ping and 2 s of iperf3 through the tunnel; `wg show` as root over A's control socket;
#      the metrics endpoint answers; `wg set fwmark` (SO_MARK) applies;
#   3. `ringtun reload` (root) with peer C (wireguard-go in namespace C, a preshared key file)
#      added to A's file: exit 0, `wg show` lists C, its route is there (netlink), C pings;
#   4. reloads that change listen_port: to another high port (re-bound, B follows), to 853
#      (refused: no CAP_NET_BIND_SERVICE, and the log says so; the old port stays); a key
#      file A may not read: refused, naming the uid it was read as;
#   5. SIGTERM: exit 0, its TUN gone, " 0 left" at shutdown; the socket file removed or, as
#      /run/wireguard is root's 0755 here, left behind with a notice.
# Round 2, both sides nobody over the TCP transport (A dials, B listens; A's control socket
# made over the file round 1 left): the /proc checks, ping, iperf3, and a clean stop of both.
# A's files are root's, group nogroup may read them (0640) in a directory it may enter (0750),
# the rule ringtun.toml(5) gives for the systemd unit's /etc/ringtun.
# Needs root, /dev/net/tun, ip netns, iperf3, wireguard-go, wg and a user nobody (exit 77
# otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test iperf3 wireguard-go wg
RUN_AS=nobody
id -u "$RUN_AS" >/dev/null 2>&1 || netns_skip "no user $RUN_AS"
RUN_UID=$(id -u "$RUN_AS") RUN_GID=$(id -g "$RUN_AS") RUN_GROUP=$(id -gn "$RUN_AS")
# A process that changed its uid is not dumpable, so LeakSanitizer's tracer cannot attach to
# it at exit ("LeakSanitizer has encountered a fatal error", status 1): an ASan build runs
# this test without leak detection (the other netns tests keep it).
if grep -aq __asan_init "$(realpath "$RINGTUN")"; then
  export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
fi
EPOLL=0
[ "${RINGTUN_BACKEND:-}" = epoll ] && EPOLL=1

# ---- the files A reads again as nobody --------------------------------------------------------
chmod 0711 "$NETNS_TMP"  # entered by nobody, not listed
ETC=$NETNS_TMP/etc
install -d -o root -g "$RUN_GROUP" -m 0750 "$ETC"
# Copies FILE to PATH as root's, group RUN_GROUP, mode 0640.
put() { install -o root -g "$RUN_GROUP" -m 0640 "$1" "$2"; }

netns_pair
netns_add_c

RT_IF=$(netns_ifname r)
echo "$RT_IF" >>"$NETNS_TMP/wg_ifnames"  # the cleanup removes a socket file A leaves
SOCK=/var/run/wireguard/$RT_IF.sock
make_keypair rta
make_keypair rtb
make_keypair rtc
make_psk pc
PUB_A=$(cat "$NETNS_TMP/rta.pub") PUB_B=$(cat "$NETNS_TMP/rtb.pub") PUB_C=$(cat "$NETNS_TMP/rtc.pub")
put "$NETNS_TMP/rta.key" "$ETC/rta.key"
put "$NETNS_TMP/pc.psk" "$ETC/pc.psk"
METRICS=127.0.0.1:9586

# A's file: peer B, and peer C with C=1; listen_port PORT (default TUN_PORT).
write_a() {
  local with_c=${1:-0} port=${2:-$TUN_PORT}
  {
    cat <<EOF
[interface]
name = "$RT_IF"
user = "$RUN_AS"
private_key_file = "$ETC/rta.key"
listen_port = $port
address = ["$TUN_A4/24"]
mtu = $TUN_MTU
control_socket = true

[metrics]
listen = "$METRICS"
EOF
    if [ $EPOLL = 1 ]; then
      printf '\n[ring]\nbackend = "epoll"\n'
    else
      printf '\n[ring]\nsqpoll_idle_ms = 50\n'
    fi
    printf '\n[[peer]]\npublic_key = "%s"\nendpoint = "%s:%s"\nallowed_ips = ["%s/32"]\n' \
      "$PUB_B" "$OUTER_B4" "$TUN_PORT" "$TUN_B4"
    [ "$with_c" = 1 ] &&
      printf '\n[[peer]]\npublic_key = "%s"\npreshared_key_file = "%s"\nendpoint = "%s:%s"\nallowed_ips = ["%s/32"]\n' \
        "$PUB_C" "$ETC/pc.psk" "$OUTER_C4" "$TUN_PORT" "$TUN_C4"
  } >"$NETNS_TMP/a.toml"
  put "$NETNS_TMP/a.toml" "$ETC/a.toml"
}

# The /proc/PID/status lines of FIELD... as "Field: value" (tabs squeezed), one per line.
status_of() {
  local pid=$1 f
  shift
  for f in "$@"; do grep -E "^$f:" "/proc/$pid/status" | tr -s '\t ' ' ' | sed 's/ $//'; done
}

# Asserts that PID runs as the dropped RUN_AS user (every thread of it), with CAP_NET_ADMIN only.
assert_dropped() {
  local pid=$1 who=$2 want got t bad=""
  want="Uid: $RUN_UID $RUN_UID $RUN_UID $RUN_UID
Gid: $RUN_GID $RUN_GID $RUN_GID $RUN_GID
Groups:
CapInh: 0000000000000000
CapPrm: 0000000000001000
CapEff: 0000000000001000
CapBnd: 0000000000001000
CapAmb: 0000000000000000
NoNewPrivs: 1"
  got=$(status_of "$pid" Uid Gid Groups CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs)
  [ "$got" = "$want" ] || netns_fail "$who ($pid) /proc status:"$'\n'"$got"$'\n'"wanted:"$'\n'"$want"
  echo "$who ($pid) /proc/$pid/status:"
  sed 's/^/  /' <<<"$got"
  for t in /proc/"$pid"/task/*; do
    grep -Eq "^Uid:[[:space:]]+${RUN_UID}[[:space:]]" "$t/status" || bad+=" $(cat "$t/comm")"
  done
  [ -z "$bad" ] || netns_fail "$who: threads not running as $RUN_AS:$bad"
  echo "  threads, all uid $RUN_UID: $(cat /proc/"$pid"/task/*/comm | tr '\n' ' ')"
}

reload_a() { ip netns exec "$NS_A" "$RINGTUN" reload "$RT_IF"; }

# ==== round 1: A nobody, B root, over UDP ======================================================
echo "== round 1: A as $RUN_AS ($([ $EPOLL = 1 ] && echo epoll || echo io_uring with SQPOLL)), B as root, UDP"
write_a 0
ringtun_side_config b
ringtun_side_start b
ringtun_side_start a "$ETC/a.toml"
ringtun_side_wait a
ringtun_side_wait b
wait_for_log "$NETNS_TMP/ringtun-a.log" "$RT_IF: up," 5 "$RINGTUN_PID_A" || netns_fail "A not up"

# ---- 1. who they are --------------------------------------------------------------------------
assert_dropped "$RINGTUN_PID_A" A
grep -E "privileges: user $RUN_AS \(uid $RUN_UID, gid $RUN_GID\), capabilities cap_net_admin, no new privileges" \
  "$NETNS_TMP/ringtun-a.log" | sed 's/^<[0-9]>/  log: /' | grep . ||
  netns_fail "A logged no privileges line"
if [ $EPOLL = 0 ]; then
  line=$(grep -E 'io_uring: .*setup .*SQPOLL.*restricted to [0-9]+ operations' \
    "$NETNS_TMP/ringtun-a.log") || netns_fail "A's ring is not SQPOLL and restricted"
  echo "  log: ${line#<*>}"
fi
b=$(status_of "$RINGTUN_PID_B" Uid CapEff CapAmb NoNewPrivs | tr '\n' ' ')
[ "$b" = "Uid: 0 0 0 0 CapEff: 0000000000001000 CapAmb: 0000000000000000 NoNewPrivs: 1 " ] ||
  netns_fail "B (root, no user) runs with: $b"
echo "B ($RINGTUN_PID_B, root, no user) /proc status: $b"

# ---- 2. traffic, wg, metrics, fwmark -------------------------------------------------------------
ping_ok "$NS_A" "$TUN_B4" 3 10 || netns_fail "no ping A -> B"
iperf3_server "$NS_B"
iperf3_client "$NS_A" "$TUN_B4" -t 2 >"$NETNS_TMP/iperf3-1.json" || netns_fail "iperf3 A -> B"
echo "2. ping A -> B; iperf3 2 s: $(($(iperf3_bps "$NETNS_TMP/iperf3-1.json" | cut -d. -f1) / 1000000)) Mbit/s"
out=$(wg show "$RT_IF") || netns_fail "wg show $RT_IF (as root) failed"
grep -q "peer: $PUB_B" <<<"$out" || netns_fail "wg show lists no B: $out"
grep -q "latest handshake" <<<"$out" || netns_fail "wg show: no handshake with B: $out"
echo "   wg show $RT_IF (root, socket $(stat -c '%A %U' "$SOCK")): $(grep -c '^peer:' <<<"$out") peer, $(grep 'latest handshake' <<<"$out" | sed 's/^ *//')"
peers=$(metrics_value "$NS_A" "${METRICS%:*}" "${METRICS##*:}" ringtun_peers interface="$RT_IF")
[ "$peers" = 1 ] || netns_fail "the metrics endpoint answered ringtun_peers $peers, not 1"
echo "   metrics: http://$METRICS/metrics answers, ringtun_peers 1"
wg set "$RT_IF" fwmark 0x4d2 || netns_fail "wg set fwmark (SO_MARK) refused"
[ "$(wg show "$RT_IF" fwmark)" = 0x4d2 ] || netns_fail "fwmark is $(wg show "$RT_IF" fwmark)"
wg set "$RT_IF" fwmark 0 || netns_fail "wg set fwmark 0"
ping_ok "$NS_A" "$TUN_B4" 2 10 || netns_fail "no ping after the fwmark"
echo "   wg set fwmark 0x4d2 applied (SO_MARK), and 0 again"

# ---- 3. reload adding C -------------------------------------------------------------------------
WG_C=$(netns_ifname wc)
start_wireguard_go "$NS_C" "$WG_C"
wg_configure "$NS_C" "$WG_C" "$NETNS_TMP/rtc.key" $TUN_PORT "$PUB_A" "$OUTER_A4_C:$TUN_PORT" \
  "$TUN_A4/32" "$NETNS_TMP/pc.psk"
link_setup "$NS_C" "$WG_C" $TUN_MTU "$TUN_C4/24" || netns_fail "set up $WG_C"
write_a 1
t0=$(now_ms)
out=$(reload_a 2>&1) || netns_fail "ringtun reload (C added) failed: $out"
ms=$(($(now_ms) - t0))
peers=$(wg show "$RT_IF" peers)
grep -qx "$PUB_C" <<<"$peers" || netns_fail "C is not a peer after the reload: $peers"
ip -n "$NS_A" route get "$TUN_C4" | grep -q "dev $RT_IF" ||
  netns_fail "no route to $TUN_C4 through $RT_IF: $(ip -n "$NS_A" route get "$TUN_C4")"
ping_ok "$NS_A" "$TUN_C4" 3 10 || netns_fail "no ping A -> C after the reload"
echo "3. ringtun reload (C added, its psk file read as $RUN_AS): rc 0 in $ms ms; wg show lists" \
  "$(wc -l <<<"$peers") peers; route $(ip -n "$NS_A" route show "$TUN_C4/32" | head -n 1); C pings"

# ---- 4. listen_port, and a file A cannot read -------------------------------------------------------
write_a 1 $((TUN_PORT + 1))
out=$(reload_a 2>&1) || netns_fail "ringtun reload (listen_port $((TUN_PORT + 1))) failed: $out"
[ "$(wg show "$RT_IF" listen-port)" = $((TUN_PORT + 1)) ] ||
  netns_fail "listen port $(wg show "$RT_IF" listen-port) after the reload"
ping_ok "$NS_A" "$TUN_B4" 3 10 || netns_fail "no ping A -> B from the new port"
write_a 1 853
rc=0
out=$(reload_a 2>&1) || rc=$?
[ $rc -ne 0 ] || netns_fail "a reload to port 853 succeeded without CAP_NET_BIND_SERVICE"
[ "$(wg show "$RT_IF" listen-port)" = $((TUN_PORT + 1)) ] ||
  netns_fail "listen port $(wg show "$RT_IF" listen-port) after the refused reload"
line=$(grep -E 'listen port 853: .*needs CAP_NET_BIND_SERVICE' "$NETNS_TMP/ringtun-a.log") ||
  netns_fail "no log line on port 853's refusal"
ping_ok "$NS_A" "$TUN_B4" 2 10 || netns_fail "no ping after the refused port"
echo "4. reload to listen_port $((TUN_PORT + 1)): re-bound, B follows; to 853: rc $rc, port kept;"
echo "   log: ${line#<*>}"
write_a 1 $((TUN_PORT + 1))
chmod 0600 "$ETC/pc.psk"
rc=0
out=$(reload_a 2>&1) || rc=$?
[ $rc -ne 0 ] || netns_fail "a reload with an unreadable key file succeeded"
grep -q "pc.psk: Permission denied (read as uid $RUN_UID, gid $RUN_GID)" <<<"$out" ||
  netns_fail "the unreadable key file's error: $out"
echo "   key file 0600: rc $rc, $(grep -o 'cannot open [^;]*' <<<"$out" | head -n 1)"
chmod 0640 "$ETC/pc.psk"
reload_a >/dev/null 2>&1 || netns_fail "reload after the key file was readable again"

# ---- 5. stop ---------------------------------------------------------------------------------------
ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log"
line=$(grep -E 'shutdown: [0-9]+ requests in flight' "$NETNS_TMP/ringtun-a.log" | tail -n 1)
grep -q ' 0 left; 0 TUN and 0 UDP buffers held, 0 tx slots in use' <<<"$line" ||
  netns_fail "A's shutdown left requests or buffers: $line"
if [ -e "$SOCK" ]; then
  grep -q "$SOCK: left behind" "$NETNS_TMP/ringtun-a.log" ||
    netns_fail "$SOCK left without the notice"
  sock="left behind ($(stat -c '%A %U' "$SOCK") in $(stat -c '%a %U' /var/run/wireguard/), logged)"
else
  sock="removed"
fi
echo "5. SIGTERM: A exited 0, $RT_IF gone; ${line#<*>}; socket file $sock"
ringtun_stop "$NS_B" "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log"

# ==== round 2: both nobody, TCP =====================================================================
echo "== round 2: A and B as $RUN_AS, TCP transport (A dials, B listens)"
RT_CONTROL_A=1 ringtun_side_config a tcp 4 user="$RUN_AS"
ringtun_side_config b tcp 4 user="$RUN_AS"
start_sides_b_then_a
assert_dropped "$RINGTUN_PID_A" "A (dials)"
assert_dropped "$RINGTUN_PID_B" "B (listens)"
ping_ok "$NS_A" "$TUN_B4" 3 10 || netns_fail "no ping over TCP"
ip netns exec "$NS_B" ss -Htn state established "sport = :$TUN_PORT" | grep -q . ||
  netns_fail "no TCP connection to B's port $TUN_PORT"
iperf3_client "$NS_A" "$TUN_B4" -t 2 >"$NETNS_TMP/iperf3-2.json" || netns_fail "iperf3 over TCP"
echo "ping and iperf3 2 s over TCP: $(($(iperf3_bps "$NETNS_TMP/iperf3-2.json" | cut -d. -f1) / 1000000)) Mbit/s;" \
  "A's control socket over round 1's file: $(wg show "$RT_IF" peers | wc -l) peer"
ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log"
ringtun_stop "$NS_B" "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log"
echo "both stopped: exit 0, TUNs gone"

netns_cleanup
netns_assert_clean
echo "privileges: ok"
