#!/usr/bin/env bash
# Garbage at ringtun's UDP port: from namespace A, garbage_udp.py sends B random bytes, every
# message type at wrong lengths, right lengths with random content, data to unknown indices,
# forged messages to B's live receiver index (taken from a capture of A's real traffic),
# replays of A's captured data and initiation, and finally a handshake flood that must put B
# under load. B must stay up, count every datagram under exactly the drop reason it
# deserves (per garbage_udp.py's expectation), answer the flood with cookie replies, and the
# tunnel must still carry ping and iperf3 traffic afterwards.
# Needs root, /dev/net/tun, ip netns, iperf3 (exit 77 otherwise); RINGTUN = ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test iperf3
FLOOD=1000
LOG_B="$NETNS_TMP/ringtun-b.log"

tunnel_works() {
  local what=$1 json="$NETNS_TMP/iperf3-$1.json" bps
  ping_ok "$NS_A" "$TUN_B4" 3 10 && ping_ok "$NS_B" "$TUN_A4" 3 10 &&
    ping_ok "$NS_A" "$TUN_B6" 3 10 && ping_ok "$NS_B" "$TUN_A6" 3 10 ||
    netns_fail "$what: no ping both ways"
  iperf3_client "$NS_A" "$TUN_B4" -t 2 >"$json" || netns_fail "$what: iperf3 failed"
  bps=$(iperf3_bps "$json") || netns_fail "$what: no iperf3 result"
  [ "$bps" -gt 1000000 ] || netns_fail "$what: iperf3 carried only $bps bit/s"
  echo "$what: ping both ways, iperf3 TCP $((bps / 1000000)) Mbit/s"
}

# B's statistics once it has received N more datagrams than in the block BEFORE (it may
# still be working through its socket buffer), asked for every 0.5 s for up to 10 s. Fails
# when B dies; a shortfall shows in the udp rx count it prints.
stats_after_rx() {
  local before=$1 n=$2 want block i
  want=$(($(stats_packets udp_rx <<<"$before") + n))
  for ((i = 0; i < 20; i++)); do
    netns_alive "$RINGTUN_PID_B" || { netns_log "B exited"; return 1; }
    block=$(ringtun_stats "$RINGTUN_PID_B" "$LOG_B") || return 1
    [ "$(stats_packets udp_rx <<<"$block")" -ge "$want" ] && break
    sleep 0.5
  done
  [ "$(stats_packets udp_rx <<<"$block")" -ge "$want" ] ||
    netns_log "B received $(($(stats_packets udp_rx <<<"$block") - want + n)) of $n datagrams"
  echo "$block"
}

# Asserts B's drop counters rose from BEFORE to AFTER (statistics blocks) by exactly the
# "REASON=COUNT ..." in EXPECT, and no other network reason moved.
assert_drops() {
  local before=$1 after=$2 expect=$3 reason want got bad=""
  for reason in $RINGTUN_NET_DROPS; do
    want=$(tr ' ' '\n' <<<"$expect" | sed -n "s/^$reason=//p")
    got=$(($(stats_drop "$reason" <<<"$after") - $(stats_drop "$reason" <<<"$before")))
    [ "$got" -eq "${want:-0}" ] || bad+=" $reason: counted $got, expected ${want:-0};"
    [ "$got" -eq 0 ] || echo "  $reason +$got"
  done
  [ -z "$bad" ] || netns_fail "drop counters:$bad"
}

netns_pair
# A's real handshake initiation and data to B, recorded on the wire for replays and for
# B's live receiver index.
cap_ready="$NETNS_TMP/capture.ready"
ip netns exec "$NS_A" python3 "$NETNS_LIB_DIR/garbage_udp.py" capture veth0 "$TUN_PORT" \
  "$NETNS_TMP/captured" --data 8 --timeout 20 --ready "$cap_ready" >"$NETNS_TMP/capture.out" 2>&1 &
cap_pid=$!
netns_track "$cap_pid"
netns_poll "[ -e '$cap_ready' ] || ! netns_alive $cap_pid" 5
[ -e "$cap_ready" ] || netns_fail "capture did not start: $(cat "$NETNS_TMP/capture.out")"

ringtun_pair
iperf3_server "$NS_B"
tunnel_works "before the garbage"
rc=0
stop_process "$cap_pid" 25 0 || rc=$?
[ $rc -eq 0 ] || netns_fail "capture failed (rc $rc): $(cat "$NETNS_TMP/capture.out")"
grep -q '^1 ' "$NETNS_TMP/captured" && grep -q '^4 ' "$NETNS_TMP/captured" ||
  netns_fail "no initiation or data captured: $(cat "$NETNS_TMP/capture.out")"
cat "$NETNS_TMP/capture.out"
pub_b=$(cat "$NETNS_TMP/rtb.pub")

handshakes=$(count_lines "$LOG_B" 'handshake complete')
before=$(ringtun_stats "$RINGTUN_PID_B" "$LOG_B") || netns_fail "no statistics from B"
netns_run_bounded 60 ip netns exec "$NS_A" python3 "$NETNS_LIB_DIR/garbage_udp.py" send "$OUTER_B4" \
  "$TUN_PORT" --peer-public "$pub_b" --captured "$NETNS_TMP/captured" --count 40 --seed 7 \
  >"$NETNS_TMP/garbage4.out" 2>&1 || netns_fail "garbage sender: $(cat "$NETNS_TMP/garbage4.out")"
netns_run_bounded 60 ip netns exec "$NS_A" python3 "$NETNS_LIB_DIR/garbage_udp.py" send "$OUTER_B6" \
  "$TUN_PORT" --peer-public "$pub_b" --only malformed --count 20 --seed 8 \
  >"$NETNS_TMP/garbage6.out" 2>&1 || netns_fail "garbage sender: $(cat "$NETNS_TMP/garbage6.out")"
sent=$(($(kv_get sent <"$NETNS_TMP/garbage4.out") + $(kv_get sent <"$NETNS_TMP/garbage6.out")))
# One expectation line from the two runs: sum the counts per reason.
expect=$(sed -n 's/^expect //p' "$NETNS_TMP/garbage4.out" "$NETNS_TMP/garbage6.out" |
  tr ' ' '\n' | awk -F= '{n[$1]+=$2} END{for (k in n) printf "%s=%d ", k, n[k]}')
echo "sent $sent garbage datagrams over IPv4 and IPv6; expected drops: $expect"
after=$(stats_after_rx "$before" "$sent") || netns_fail "B died or counted no statistics"
echo "B's drop counters rose by:"
assert_drops "$before" "$after" "$expect"
tunnel_works "after the garbage"

# Flood: over 512 handshakes in a second puts B under load; mac2 becomes mandatory and the
# initiations without one are answered with cookie replies instead of being processed.
before=$(ringtun_stats "$RINGTUN_PID_B" "$LOG_B") || netns_fail "no statistics from B"
netns_run_bounded 30 ip netns exec "$NS_A" python3 "$NETNS_LIB_DIR/garbage_udp.py" flood "$OUTER_B4" \
  "$TUN_PORT" --peer-public "$pub_b" --count $FLOOD >"$NETNS_TMP/flood.out" 2>&1 ||
  netns_fail "flood sender: $(cat "$NETNS_TMP/flood.out")"
after=$(stats_after_rx "$before" $FLOOD) || netns_fail "B died or counted no statistics"
# rise FUNCTION ARG: FUNCTION's value in the block "after" minus the one in "before".
rise() { echo $(($("$1" "$2" <<<"$after") - $("$1" "$2" <<<"$before"))); }
cookie=$(rise stats_drop under_load_cookie)
failed=$(rise stats_drop decrypt_failed)
replies=$(rise stats_handshakes cookie_replies)
received=$(kv_get cookie_replies <"$NETNS_TMP/flood.out")
echo "flood of $FLOOD: decrypt_failed +$failed, under_load_cookie +$cookie, cookie replies" \
  "sent $replies, received by the flooder $received"
assert_drops "$before" "$after" "decrypt_failed=$failed under_load_cookie=$cookie"
[ $((failed + cookie)) -eq $FLOOD ] ||
  netns_fail "flood: $failed decrypt_failed + $cookie under_load_cookie != $FLOOD"
[ "$cookie" -gt 0 ] || netns_fail "flood: B never went under load"
[ "$replies" -eq "$cookie" ] || netns_fail "flood: $replies cookie replies for $cookie drops"
[ "$received" -eq "$replies" ] ||
  netns_fail "flood: $replies cookie replies sent, $received arrived"
tunnel_works "after the flood"
# Nothing forged may have cost the session: the tunnel never needed a new handshake.
[ "$(count_lines "$LOG_B" 'handshake complete')" -eq "$handshakes" ] ||
  netns_fail "B completed new handshakes during the garbage"

ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log"
ringtun_stop "$NS_B" "$RINGTUN_PID_B" "$LOG_B"
netns_cleanup
netns_assert_clean
echo "garbage: ok"
