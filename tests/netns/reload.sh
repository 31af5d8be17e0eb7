#!/usr/bin/env bash
# Configuration changes under a running tunnel, through ringtun's UAPI socket and SIGHUP:
# `ringtun run FILE` in namespace A with peer B (wireguard-go in namespace B) carries a paced
# TCP stream A -> B the whole time; peer C is wireguard-go in namespace C (its own veth to
# A). Steps:
#   1. `wg syncconf` with B unchanged plus C: C handshakes (ping A -> C);
#   2. `wg syncconf` without C: C is gone from `wg show`, nothing more reaches it;
#   3. FILE edited (C added again) and SIGHUP: "reload: applied", C handshakes again;
#   4. FILE broken (a semantic error at a known line, then a TOML syntax error) and SIGHUP:
#      "reload:" with FILE:LINE:COLUMN and "keeping the running configuration", B and C
#      still configured and pinging;
#   5. FILE fixed, a burst of 20 SIGHUPs: still alive, applied.
#   6. `ringtun reload IF` (the unit's ExecReload): exit 1 with FILE:LINE:COL for a broken
#      file; exit 0 for one without C, and C gone when it returns (synchronous).
# Through all of it B's session must stay: its latest handshake unchanged, its transfer
# counters growing, the stream never stalling; at the end every byte of the stream arrived
# (SHA-256) and ringtun stops cleanly with SIGTERM, its socket gone.
# Needs root, /dev/net/tun, ip netns, wireguard-go, wg (exit 77 otherwise); RINGTUN =
# the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test wireguard-go wg

STREAM_RATE=$((4 << 20))
STREAM_TIMEOUT=90
LOG_A=$NETNS_TMP/ringtun-a.log

RT_IF=$(netns_ifname r)
SOCK=/var/run/wireguard/$RT_IF.sock
echo "$RT_IF" >>"$NETNS_TMP/wg_ifnames"

netns_pair
netns_add_c

ringtun_wggo_pair_with_socket
TOML=$NETNS_TMP/ringtun-a.toml
cp "$TOML" "$NETNS_TMP/ringtun-a-b-only.toml"

make_keypair rtc
make_keypair rtd
WG_C=$(netns_ifname wc)
start_wireguard_go "$NS_C" "$WG_C"
wg_configure "$NS_C" "$WG_C" "$NETNS_TMP/rtc.key" $TUN_PORT "$(cat "$NETNS_TMP/rta.pub")" \
  "$OUTER_A4_C:$TUN_PORT" "$TUN_A4/32"
link_setup "$NS_C" "$WG_C" $TUN_MTU "$TUN_C4/24" || netns_fail "set up $WG_C"
PUB_B=$(cat "$NETNS_TMP/rtb.pub") PUB_C=$(cat "$NETNS_TMP/rtc.pub")

# wg-format configurations for syncconf: B as ringtun has it, and B plus C.
cat >"$NETNS_TMP/b.conf" <<EOF
[Interface]
PrivateKey = $(cat "$NETNS_TMP/rta.key")
ListenPort = $TUN_PORT

[Peer]
PublicKey = $PUB_B
Endpoint = $OUTER_B4:$TUN_PORT
AllowedIPs = $TUN_B4/32, $TUN_B6/128
EOF
cp "$NETNS_TMP/b.conf" "$NETNS_TMP/bc.conf"
cat >>"$NETNS_TMP/bc.conf" <<EOF

[Peer]
PublicKey = $PUB_C
Endpoint = $OUTER_C4:$TUN_PORT
AllowedIPs = $TUN_C4/32
EOF

# The TOML with C: B's file plus C's peer table.
cp "$NETNS_TMP/ringtun-a-b-only.toml" "$NETNS_TMP/ringtun-a-bc.toml"
cat >>"$NETNS_TMP/ringtun-a-bc.toml" <<EOF

[[peer]]
public_key = "$PUB_C"
endpoint = "$OUTER_C4:$TUN_PORT"
allowed_ips = ["$TUN_C4/32"]
EOF

wg_a() { ip netns exec "$NS_A" wg "$@"; }

# Field N of peer PUB in `wg show RT_IF WHAT` (0 when the peer is absent).
peer_field() {
  local v
  v=$(wg_a show "$RT_IF" "$1" | awk -v k="$2" -v n="$3" '$1 == k {print $n}')
  echo "${v:-0}"
}
hs_of() { peer_field latest-handshakes "$1" 2; }
has_peer() { grep -qxF "$1" <<<"$(wg_a show "$RT_IF" peers)"; }

# True when no echo reply comes back from ADDR for 5 requests 0.2 s apart.
ping_fails() {
  local rc=0
  netns_run_bounded 10 ip netns exec "$1" python3 "$NETNS_LIB_DIR/icmp_ping.py" "$2" \
    --count 1 --max-sent 5 --interval 0.2 --deadline 3 >/dev/null 2>&1 || rc=$?
  [ $rc -eq 1 ]
}

HS_B=0 RX_B=0 TX_B=0 HS_LOG=""
# After step WHAT: B's handshake time is still HS_B, its rx and tx counters grew, the stream
# moves on (1 MiB within 5 s) and ping A -> B works.
b_kept() {
  local what=$1 hs rx tx got
  got=$(stream_progress)
  stream_wait_progress $((got + (1 << 20))) 5 ||
    netns_fail "$what: the stream stalled at $(stream_progress) bytes"
  hs=$(hs_of "$PUB_B") rx=$(peer_field transfer "$PUB_B" 2) tx=$(peer_field transfer "$PUB_B" 3)
  [ "$hs" = "$HS_B" ] ||
    netns_fail "$what: B's latest handshake moved from $HS_B to $hs (session not kept)"
  [ "$rx" -gt "$RX_B" ] && [ "$tx" -gt "$TX_B" ] ||
    netns_fail "$what: B's transfer went from rx $RX_B tx $TX_B to rx $rx tx $tx"
  ping_ok "$NS_A" "$TUN_B4" 3 10 || netns_fail "$what: no ping A -> B"
  netns_alive "$RINGTUN_PID_A" || netns_fail "$what: ringtun died"
  echo "$what: B kept its handshake ($hs), rx $RX_B -> $rx, tx $TX_B -> $tx," \
    "stream at $(stream_progress) bytes"
  RX_B=$rx TX_B=$tx
}

# C is configured and reachable: ping A -> C, a handshake after NOT_BEFORE (Unix seconds).
c_works() {
  local what=$1 not_before=$2 hs
  has_peer "$PUB_C" || netns_fail "$what: C is not a peer of $RT_IF"
  ping_ok "$NS_A" "$TUN_C4" 3 10 || netns_fail "$what: no ping A -> C"
  hs=$(hs_of "$PUB_C")
  [ "$hs" -ge "$not_before" ] ||
    netns_fail "$what: C's latest handshake is $hs, want one at or after $not_before"
  echo "$what: C handshake at $hs"
  HS_LOG+="C after $what: $hs"$'\n'
}

# Waits up to SECS for more than BEFORE lines matching RE in LOG_A.
wait_new_line() {
  local re=$1 before=$2 secs=$3
  netns_poll "[ \$(count_lines '$LOG_A' '$re') -gt $before ] || ! netns_alive $RINGTUN_PID_A" \
    "$secs" && [ "$(count_lines "$LOG_A" "$re")" -gt "$before" ]
}

# SIGHUP with TOML holding FILE's content; waits for a new "reload: applied".
hup_applied() {
  local what=$1 file=$2 before
  cp "$file" "$TOML"
  before=$(count_lines "$LOG_A" 'reload: applied')
  kill -HUP "$RINGTUN_PID_A"
  wait_new_line 'reload: applied' "$before" 5 ||
    { tail -n 20 "$LOG_A" >&2; netns_fail "$what: no new 'reload: applied' line after SIGHUP"; }
}

# SIGHUP with a broken TOML (FILE's content); the error must name TOML:LINE (LINE "" = any)
# and the running configuration stay.
hup_broken() {
  local what=$1 file=$2 line=$3 re before_err before_keep got
  cp "$file" "$TOML"
  re="reload:.*${TOML//./\\.}:${line:-[0-9]+}:[0-9]+: "
  before_err=$(count_lines "$LOG_A" "$re")
  before_keep=$(count_lines "$LOG_A" 'keeping the running configuration')
  kill -HUP "$RINGTUN_PID_A"
  wait_new_line "$re" "$before_err" 5 ||
    { tail -n 20 "$LOG_A" >&2; netns_fail "$what: no 'reload: $TOML:${line:-N}:COL: ...' line"; }
  wait_new_line 'keeping the running configuration' "$before_keep" 5 ||
    netns_fail "$what: no 'keeping the running configuration' line"
  sleep 0.2
  netns_alive "$RINGTUN_PID_A" || netns_fail "$what: ringtun died"
  got=$(grep -E "$re" "$LOG_A" | tail -n 1)
  echo "$what: logged: ${got#*reload:}"
  has_peer "$PUB_B" && has_peer "$PUB_C" ||
    netns_fail "$what: the running peers changed: $(wg_a show "$RT_IF" peers | tr '\n' ' ')"
  ping_ok "$NS_A" "$TUN_C4" 3 10 || netns_fail "$what: no ping A -> C"
}

ping_ok "$NS_A" "$TUN_B4" 3 10 || netns_fail "no ping A -> B before the steps"
stream_start "$NS_A" "$NS_B" "$TUN_B4" $STREAM_RATE $STREAM_TIMEOUT
HS_B=$(hs_of "$PUB_B")
[ "$HS_B" -gt 0 ] || netns_fail "no handshake with B"
RX_B=$(peer_field transfer "$PUB_B" 2) TX_B=$(peer_field transfer "$PUB_B" 3)
HS_LOG+="B at start: $HS_B"$'\n'
echo "B: handshake at $HS_B, stream at $(stream_progress) bytes"
# A peer re-created now would handshake in a later second than HS_B.
netns_poll "[ \$(date +%s) -gt $((HS_B + 1)) ]" 3

# 1. syncconf: B unchanged, C added.
t=$(date +%s)
wg_a syncconf "$RT_IF" "$NETNS_TMP/bc.conf" || netns_fail "wg syncconf (B + C) failed"
c_works "syncconf adding C" "$t"
b_kept "syncconf adding C"

# 2. syncconf without C.
wg_a syncconf "$RT_IF" "$NETNS_TMP/b.conf" || netns_fail "wg syncconf (B only) failed"
! has_peer "$PUB_C" || netns_fail "syncconf removing C: C is still a peer"
rx_c=$(ip netns exec "$NS_C" wg show "$WG_C" transfer | awk '{print $2}')
ping_fails "$NS_A" "$TUN_C4" || netns_fail "syncconf removing C: A still reaches C"
[ "$(ip netns exec "$NS_C" wg show "$WG_C" transfer | awk '{print $2}')" = "$rx_c" ] ||
  netns_fail "syncconf removing C: C still receives from A"
echo "syncconf removing C: C gone, nothing reaches it"
b_kept "syncconf removing C"

# 3. The file edited (C again) and SIGHUP.
t=$(date +%s)
hup_applied "SIGHUP adding C" "$NETNS_TMP/ringtun-a-bc.toml"
c_works "SIGHUP adding C" "$t"
b_kept "SIGHUP adding C"

# 4. Broken files: a prefix length out of range at a known line, then a TOML syntax error.
cp "$NETNS_TMP/ringtun-a-bc.toml" "$NETNS_TMP/broken.toml"
bad_line=$(($(wc -l <"$NETNS_TMP/broken.toml") + 4))
cat >>"$NETNS_TMP/broken.toml" <<EOF

[[peer]]
public_key = "$(cat "$NETNS_TMP/rtd.pub")"
allowed_ips = ["10.100.0.9/33"]
EOF
[ "$(sed -n "${bad_line}p" "$NETNS_TMP/broken.toml")" = 'allowed_ips = ["10.100.0.9/33"]' ] ||
  netns_fail "the broken line is not line $bad_line"
hup_broken "SIGHUP with a /33 prefix" "$NETNS_TMP/broken.toml" "$bad_line"
b_kept "SIGHUP with a /33 prefix"
head -n -1 "$NETNS_TMP/ringtun-a-bc.toml" >"$NETNS_TMP/syntax.toml"
echo 'allowed_ips = ["10.100.0.3/32"' >>"$NETNS_TMP/syntax.toml"
hup_broken "SIGHUP with an unclosed array" "$NETNS_TMP/syntax.toml" ""
b_kept "SIGHUP with an unclosed array"

# 5. Fixed again; a burst of SIGHUPs.
before=$(count_lines "$LOG_A" 'reload: applied')
cp "$NETNS_TMP/ringtun-a-bc.toml" "$TOML"
for ((i = 0; i < 20; i++)); do
  kill -HUP "$RINGTUN_PID_A" || netns_fail "SIGHUP burst: ringtun gone after $i signals"
  sleep 0.01
done
wait_new_line 'reload: applied' "$before" 5 || netns_fail "SIGHUP burst: nothing applied"
sleep 0.5
netns_alive "$RINGTUN_PID_A" || netns_fail "SIGHUP burst: ringtun died"
echo "SIGHUP burst: $(($(count_lines "$LOG_A" 'reload: applied') - before)) reloads applied for 20 signals"
has_peer "$PUB_C" || netns_fail "SIGHUP burst: C is gone"
b_kept "SIGHUP burst"

# 6. `ringtun reload IF` (systemd's ExecReload): synchronous. A broken file: exit 1 with the
#    error; a good one (C removed): exit 0, and C is gone the moment it returns.
cp "$NETNS_TMP/syntax.toml" "$TOML"
set +e
out=$(ip netns exec "$NS_A" "$RINGTUN" reload "$RT_IF" 2>&1)
rc=$?
set -e
[ $rc -eq 1 ] || netns_fail "ringtun reload of a broken file: exit $rc ($out)"
grep -qE "${TOML//./\\.}:[0-9]+:[0-9]+: " <<<"$out" ||
  netns_fail "ringtun reload of a broken file: no FILE:LINE:COL in '$out'"
echo "ringtun reload, broken file: exit 1: $out"
has_peer "$PUB_C" || netns_fail "ringtun reload of a broken file: C is gone"
cp "$NETNS_TMP/ringtun-a-b-only.toml" "$TOML"
t0=$(now_ms)
out=$(ip netns exec "$NS_A" "$RINGTUN" reload "$RT_IF") ||
  netns_fail "ringtun reload of a good file failed: $out"
t1=$(now_ms)
! has_peer "$PUB_C" || netns_fail "ringtun reload returned before C was removed"
echo "ringtun reload, C removed: exit 0 in $((t1 - t0)) ms ($out); C gone on return"
b_kept "ringtun reload"

stream_stop "across syncconf and SIGHUP reloads"
printf 'handshake times (Unix seconds):\n%s' "$HS_LOG"
echo "B after all steps: $(hs_of "$PUB_B") (unchanged from $HS_B)"
ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$LOG_A"
[ ! -e "$SOCK" ] || netns_fail "$SOCK left behind after SIGTERM"
netns_cleanup
netns_assert_clean
echo "reload: ok"
