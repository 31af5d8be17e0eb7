#!/usr/bin/env bash
# The Prometheus endpoint ([metrics] listen), served by ringtun's loop:
#   1. A scrape answers 200 with the text format, and `promtool check metrics` (Debian's
#      prometheus package; scripts/install-deps.sh extracts it) finds nothing to report.
#   2. Scraped before, during and after an iperf3 run A -> B through the tunnel: a scrape in the
#      middle of the traffic is answered at once; A's TUN bytes read and B's TUN bytes written
#      agree with iperf3's byte count within 5% (they add the IP and TCP headers, ~4%); A's
#      bytes to its peer are the TUN's plus WireGuard's 32 bytes and at most 15 of padding per
#      packet; and the counters equal what `wg show dump` says over the UAPI socket.
#   3. Bounds: a request head over 8 KiB is answered 431, POST 405, another path 404; 20 idle
#      connections are all closed by the daemon (the newest 8 after the 5 s idle limit, the
#      others evicted at once), and a scrape still gets through meanwhile.
#   4. A port already taken: ringtun refuses to start and names the address.
# Needs root, /dev/net/tun, ip netns, iperf3, wg (exit 77 otherwise); RINGTUN = the binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test iperf3 wg

PROMTOOL=${PROMTOOL:-$(command -v promtool || echo /var/cache/ringtun/tools/usr/bin/promtool)}
[ -x "$PROMTOOL" ] || netns_fail "no promtool at $PROMTOOL: run scripts/install-deps.sh"
CLIENT=("$NETNS_LIB_DIR/metrics_client.py")
PORT=9586
netns_pair
RT_IF=$(netns_ifname rm)
RT_CONTROL_A=1
make_keypair rta
make_keypair rtb
ringtun_side_config a udp 4
ringtun_side_config b udp 4
printf '\n[metrics]\nlisten = "127.0.0.1:%s"\n' $PORT >>"$NETNS_TMP/ringtun-a.toml"
printf '\n[metrics]\nlisten = "[::1]:%s"\n' $PORT >>"$NETNS_TMP/ringtun-b.toml"
start_sides_b_then_a
LOG_A=$NETNS_TMP/ringtun-a.log
grep -q "metrics at http://127.0.0.1:$PORT/metrics" "$LOG_A" || netns_fail "no metrics line in A's log"

scrape() {  # NS HOST OUT: prints the client's summary, fails unless 200 with a whole body
  local r
  r=$(ip netns exec "$1" python3 "${CLIENT[@]}" scrape "$2" $PORT "$3") ||
    netns_fail "scrape of $2 in $1 failed"
  grep -q "status=200 .* length_ok=1" <<<"$r" || netns_fail "scrape of $2 in $1: $r"
  echo "$r"
}
value() { python3 "${CLIENT[@]}" value "$@"; }

# 1. The format, checked by promtool.
ping_ok "$NS_A" "$TUN_B4" 3 10 || netns_fail "no ping A -> B"
scrape "$NS_A" 127.0.0.1 "$NETNS_TMP/m0" >/dev/null
scrape "$NS_B" ::1 "$NETNS_TMP/b0" >/dev/null
for f in m0 b0; do
  out=$("$PROMTOOL" check metrics <"$NETNS_TMP/$f" 2>&1) || netns_fail "promtool on $f: $out"
  [ -z "$out" ] || netns_fail "promtool reports on $f: $out"
done
echo "1. promtool check metrics: no problems ($(grep -c '^ringtun_' "$NETNS_TMP/m0") samples)"

# 2. Counters against iperf3.
iperf3_server "$NS_B"
iperf3_client "$NS_A" "$TUN_B4" -t 6 >"$NETNS_TMP/iperf3.json" &
iperf_pid=$!
sleep 3
mid=$(scrape "$NS_A" 127.0.0.1 "$NETNS_TMP/m-mid")
wait "$iperf_pid" || netns_fail "iperf3 failed"
scrape "$NS_A" 127.0.0.1 "$NETNS_TMP/m1" >/dev/null
scrape "$NS_B" ::1 "$NETNS_TMP/b1" >/dev/null
read -r sent received <<<"$(iperf3_field "$NETNS_TMP/iperf3.json" sender_bytes receiver_bytes)"
delta() {  # FILE0 FILE1 NAME [LABELS...]
  local f0=$1 f1=$2
  shift 2
  echo $(($(value "$f1" "$@") - $(value "$f0" "$@")))
}
key_b=$(cat "$NETNS_TMP/rtb.pub")
tun_a=$(delta "$NETNS_TMP/m0" "$NETNS_TMP/m1" ringtun_tun_receive_bytes_total)
pkts_a=$(delta "$NETNS_TMP/m0" "$NETNS_TMP/m1" ringtun_tun_receive_packets_total)
peer_a=$(delta "$NETNS_TMP/m0" "$NETNS_TMP/m1" ringtun_peer_transmit_bytes_total public_key="$key_b")
tun_b=$(delta "$NETNS_TMP/b0" "$NETNS_TMP/b1" ringtun_tun_written_bytes_total)
python3 - "$sent" "$received" "$tun_a" "$tun_b" "$pkts_a" "$peer_a" <<'PY' || netns_fail "counters disagree with iperf3"
import sys
sent, received, tun_a, tun_b, pkts, peer = map(int, sys.argv[1:])
ra, rb = tun_a / sent, tun_b / received
print(f"2. iperf3 {sent} B sent, {received} B received; A's TUN read {tun_a} B ({ra:.4f}x), "
      f"B's TUN written {tun_b} B ({rb:.4f}x); A to its peer {peer} B for {pkts} packets")
ok = 1.0 <= ra <= 1.05 and 1.0 <= rb <= 1.05
ok = ok and tun_a + 32 * pkts <= peer <= tun_a + 47 * pkts
sys.exit(0 if ok else 1)
PY
echo "   a scrape during the traffic: $mid"
dump=$(ip netns exec "$NS_A" wg show "$RT_IF" dump | awk -v k="$key_b" '$1 == k {print $6, $7}')
read -r wg_rx wg_tx <<<"$dump"
m_rx=$(value "$NETNS_TMP/m1" ringtun_peer_receive_bytes_total public_key="$key_b")
m_tx=$(value "$NETNS_TMP/m1" ringtun_peer_transmit_bytes_total public_key="$key_b")
# Nothing flows between the scrape and `wg show` but keepalive-free silence: equal, or a little
# more in wg's if a late ACK crossed.
[ "$wg_tx" -ge "$m_tx" ] && [ $((wg_tx - m_tx)) -lt 4096 ] && [ "$wg_rx" -ge "$m_rx" ] &&
  [ $((wg_rx - m_rx)) -lt 4096 ] || netns_fail "wg show says rx $wg_rx tx $wg_tx, metrics $m_rx $m_tx"
echo "   wg show dump: rx $wg_rx tx $wg_tx; metrics: rx $m_rx tx $m_tx"

# 3. Bounds.
request() { ip netns exec "$NS_A" python3 "${CLIENT[@]}" request 127.0.0.1 $PORT "$1"; }
big="GET /metrics HTTP/1.1\r\nX: $(head -c 9000 /dev/zero | tr '\0' a)\r\n\r\n"
[ "$(request "$big")" = "HTTP/1.1 431 Request Header Fields Too Large" ] || netns_fail "no 431"
[ "$(request 'POST /metrics HTTP/1.1\r\n\r\n')" = "HTTP/1.1 405 Method Not Allowed" ] ||
  netns_fail "no 405"
[ "$(request 'GET /other HTTP/1.1\r\n\r\n')" = "HTTP/1.1 404 Not Found" ] || netns_fail "no 404"
t0=$(now_ms)
ip netns exec "$NS_A" python3 "${CLIENT[@]}" idle 127.0.0.1 $PORT 20 9 >"$NETNS_TMP/idle" &
idle_pid=$!
sleep 1
during=$(scrape "$NS_A" 127.0.0.1 "$NETNS_TMP/m2")
wait "$idle_pid" || netns_fail "idle client failed"
idle=$(cat "$NETNS_TMP/idle")
[[ $idle == "closed=20 "* ]] || netns_fail "idle connections not all closed by ringtun: $idle"
last=$(sed 's/.*last=//' <<<"$idle")
python3 -c "import sys; sys.exit(0 if 4.0 <= $last <= 7.5 else 1)" ||
  netns_fail "the last idle connection closed after $last s (limit 5 s)"
echo "3. 431, 405, 404 as they should; 20 idle connections all closed ($idle), a scrape meanwhile: $during"
netns_alive "$RINGTUN_PID_A" || netns_fail "ringtun A died"

# 4. A port in use.
ringtun_stop "$NS_B" "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log"
sed -i "s|^listen = \"\[::1\]:$PORT\"|listen = \"127.0.0.1:$PORT\"|" "$NETNS_TMP/ringtun-b.toml"
ip netns exec "$NS_B" python3 -c "
import socket, time
s = socket.socket(); s.bind(('127.0.0.1', $PORT)); s.listen(1); time.sleep(20)" &
holder=$!
netns_track "$holder"
sleep 0.5
rc=0
netns_run_bounded 10 ip netns exec "$NS_B" "$RINGTUN" run "$NETNS_TMP/ringtun-b.toml" \
  >"$NETNS_TMP/b-busy.log" 2>&1 || rc=$?
[ $rc -eq 1 ] || netns_fail "ringtun with a busy metrics port exited $rc"
grep -q "127.0.0.1:$PORT" "$NETNS_TMP/b-busy.log" && grep -qi "address already in use" "$NETNS_TMP/b-busy.log" ||
  netns_fail "no clear error for the busy port: $(tail -3 "$NETNS_TMP/b-busy.log")"
echo "4. busy port: $(grep -i 'address already in use' "$NETNS_TMP/b-busy.log" | head -1)"
kill "$holder" 2>/dev/null || true
echo "PASS"
