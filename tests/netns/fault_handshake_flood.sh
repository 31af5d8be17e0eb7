#!/usr/bin/env bash
# A handshake flood from spoofed sources: from FLOOD_SOURCES addresses of NS_A (one UDP socket
# bound to each) garbage_udp.py sends B initiations with a valid mac1 and random content, at
# FLOOD_RATE a second for FLOOD_SECS — over B's load threshold (512 handshake messages a
# second), so B requires mac2 and answers the rest with cookie replies, which go back to the
# spoofed addresses. During the flood ringtun A (B's real peer) starts afresh. What WireGuard's
# rules imply: B answers A's first initiation with a cookie reply too; A keeps the cookie and
# its next initiation, REKEY_TIMEOUT (5 s) plus up to 333 ms of jitter later, carries a valid
# mac2 and from a source under its rate limit is answered. Asserted: A's handshake completes
# and its pings to B are answered within FAULT_RETRY_MS of its TUN coming up, and A had sent
# at least two initiations by then (its first did not get through: the handshake that
# completed was a retry, the one carrying the cookie's mac2; A counts no cookie reply it
# receives, and a timing bound from the test's clock raced A's first initiation, which its
# TUN's own first packets may send before the test sees the TUN up); B counted cookie replies and the flooder received
# them; B's resident memory grew by at most RSS_GROWTH_KIB over the flood (its defences have
# fixed memory).
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

FLOOD_SOURCES=64
FLOOD_RATE=2000
FLOOD_SECS=12
RSS_GROWTH_KIB=1024

# In the sanitizer build freed memory waits in AddressSanitizer's quarantine (256 MiB) before
# it is reused, which reads as growth (each handshake message makes and frees OpenSSL
# contexts: BLAKE2s MACs, X25519): the daemons here reuse it at once. Outside that build the
# variable is ignored.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0"

netns_pair
# The spoofed sources: 10.99.1.1-64 on A's veth, and B's route back to them.
for ((i = 1; i <= FLOOD_SOURCES; i++)); do
  echo "addr add 10.99.1.$i/24 dev veth0"
  echo "10.99.1.$i" >>"$NETNS_TMP/sources"
done | ip -n "$NS_A" -batch - || netns_fail "cannot add the flood's addresses"
ip -n "$NS_B" route add 10.99.1.0/24 dev veth0 || netns_fail "cannot route B to the flood"
ringtun_pair
log_a="$NETNS_TMP/ringtun-a.log" log_b="$NETNS_TMP/ringtun-b.log"
ping_ok "$NS_A" "$TUN_B4" 3 10 || netns_fail "no ping A -> B through the tunnel"
ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$log_a"
before=$(ringtun_stats "$RINGTUN_PID_B" "$log_b") || netns_fail "no statistics from B"
rss0=$(rss_kib "$RINGTUN_PID_B")

# Pings from now on (lost while A is down), so that A's first packet, and with it its first
# initiation, follows its TUN at once.
ping_watch_start v4 "$NS_A" "$TUN_B4" $((FLOOD_SECS + 20))
ip netns exec "$NS_A" python3 "$NETNS_LIB_DIR/garbage_udp.py" spoofed "$OUTER_B4" "$TUN_PORT" \
  --peer-public "$(cat "$NETNS_TMP/rtb.pub")" --sources "$NETNS_TMP/sources" \
  --rate $FLOOD_RATE --seconds $FLOOD_SECS >"$NETNS_TMP/flood.out" 2>&1 &
flood_pid=$!
netns_track "$flood_pid"
netns_poll "[ \$(stats_drop under_load_cookie <<<\"\$(ringtun_stats $RINGTUN_PID_B '$log_b')\") -gt 0 ]" 5 ||
  netns_fail "B is not under load 5 s into the flood"

ringtun_side_start a
ringtun_side_wait a
t0=$(now_ms)
hs=$(handshake_after "$RINGTUN_PID_A" "$log_a" 0 "$t0" 15) ||
  netns_fail "A completed no handshake within 15 s during the flood"
ms=$(ping_watch_recovery v4 "$t0" 10) || netns_fail "no ping answered during the flood"
# No rekey is due for 120 s: what A initiated so far led to this one handshake.
initiated=$(ringtun_stats "$RINGTUN_PID_A" "$log_a" | stats_handshakes initiated) ||
  netns_fail "no statistics from A"
netns_alive "$flood_pid" || netns_fail "the flood was over before A's handshake: $(cat "$NETNS_TMP/flood.out")"
rss_mid=$(rss_kib "$RINGTUN_PID_B")
rc=0
stop_process "$flood_pid" $((FLOOD_SECS + 10)) 0 || rc=$?
[ $rc -eq 0 ] || netns_fail "the flood failed (rc $rc): $(cat "$NETNS_TMP/flood.out")"
rss1=$(rss_kib "$RINGTUN_PID_B")
after=$(ringtun_stats "$RINGTUN_PID_B" "$log_b") || netns_fail "no statistics from B"
rise() { echo $(($("$1" "$2" <<<"$after") - $("$1" "$2" <<<"$before"))); }
replies=$(rise stats_handshakes cookie_replies)
received=$(kv_get cookie_replies <"$NETNS_TMP/flood.out")
echo "flood: $(cat "$NETNS_TMP/flood.out"); B: cookie replies +$replies, drops" \
  "under_load_cookie +$(rise stats_drop under_load_cookie) decrypt_failed" \
  "+$(rise stats_drop decrypt_failed) rate_limited +$(rise stats_drop rate_limited);" \
  "A's handshake $hs ms after its TUN came up, first ping reply after $ms ms; B's RSS" \
  "$rss0 -> $rss_mid -> $rss1 KiB"
fault_bound "handshake of a legitimate peer during a spoofed handshake flood" "$hs" $FAULT_RETRY_MS
fault_bound "traffic of a legitimate peer during a spoofed handshake flood" "$ms" $FAULT_RETRY_MS
[ "${initiated:-0}" -ge 2 ] || netns_fail "A's handshake completed after ${initiated:-no}" \
  "initiation(s): its first got through a loaded B (no cookie reply, no retry with mac2)"
echo "fault: A's handshake completed on its retry with the cookie: $initiated initiations"
[ "$replies" -gt 0 ] || netns_fail "B sent no cookie reply during the flood"
[ "${received:-0}" -gt 0 ] || netns_fail "no cookie reply reached the spoofed sources"
growth=$((rss1 - rss0))
[ "$growth" -le $RSS_GROWTH_KIB ] ||
  netns_fail "B's resident memory grew by $growth KiB over the flood (bound $RSS_GROWTH_KIB KiB)"
echo "fault: B's resident memory growth over the flood: $growth KiB (bound $RSS_GROWTH_KIB KiB)"
ping_ok "$NS_A" "$TUN_B4" 3 5 || netns_fail "no ping A -> B after the flood"
fault_pair_finish fault_handshake_flood "after the flood"
