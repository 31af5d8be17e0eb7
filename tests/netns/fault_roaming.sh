#!/usr/bin/env bash
# Side A's outer address changes under a running UDP tunnel (a DHCP renew: the new address
# added, the old one removed, on the same veth) while a paced TCP stream flows A -> B through
# it; once over IPv6 outer addresses (fd99::1 -> fd99::3), then over IPv4 ones
# (10.99.0.1 -> 10.99.0.3). The local source A learnt for B (its "sticky source") is gone, so
# sending from it fails (IPv4: ENETUNREACH, IPv6: EINVAL): A must then forget that source and
# send from its new address, so that B roams to it. Asserted: of the echo requests A -> B sent
# through the tunnel every 0.1 s, the first one sent after the change that is answered is
# answered within 1 s of the change; A
# does not log "UDP GSO refused" (a send from a removed source is not the device refusing
# GSO); B's endpoint for A becomes the new address; and the stream goes on and arrives
# intact.
# Defect 2: the stale source was never dropped, so every send failed until the 15 s
# new-handshake timer; over IPv6 the EINVAL of a batch was also taken as GSO refused and GSO
# was switched off for good.
# UDP_SOURCE_FAMILIES (default "6 4") picks the runs and their order.
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

NEW_A4=10.99.0.3 NEW_A6=fd99::3
RESUME_WITHIN_MS=1000
STREAM_RATE=4000000  # bytes/s: enough for GSO batches, little CPU

run_family() {
  local family=$1 old new endpoint rc=0 t0 resumed_ms block gso_before gso before
  local log_a="$NETNS_TMP/ringtun-a.log" log_b="$NETNS_TMP/ringtun-b.log"
  if [ "$family" = 4 ]; then
    old=$OUTER_A4 new=$NEW_A4 endpoint="$NEW_A4:$TUN_PORT"
    # Without this, removing the subnet's primary address would also remove the new one.
    ip netns exec "$NS_A" sysctl -qw net.ipv4.conf.veth0.promote_secondaries=1 ||
      netns_fail "cannot set promote_secondaries on veth0 in $NS_A"
  else
    old=$OUTER_A6 new=$NEW_A6 endpoint="[$NEW_A6]:$TUN_PORT"
  fi
  ringtun_pair udp "$family"
  ping_ok "$NS_A" "$TUN_B4" 3 10 && ping_ok "$NS_B" "$TUN_A4" 3 10 ||
    netns_fail "IPv$family outer: no ping through the tunnel"
  rm -f "$NETNS_TMP"/stream.*
  stream_start "$NS_A" "$NS_B" "$TUN_B4" $STREAM_RATE 45
  gso_before=$(count_lines "$log_a" 'UDP GSO refused')

  # Pings every 0.1 s throughout; then the renew, and the first request sent after it that
  # is answered.
  ping_watch_start "v$family" "$NS_A" "$TUN_B4" 20
  netns_poll "[ \$(ping_watch_replies v$family) -gt 3 ]" 5 || netns_fail "the pings got no reply"
  if [ "$family" = 4 ]; then
    ip -n "$NS_A" addr add "$new/24" dev veth0 || netns_fail "cannot add $new"
    ip -n "$NS_A" addr del "$old/24" dev veth0 || netns_fail "cannot remove $old"
  else
    ip -n "$NS_A" addr add "$new/64" dev veth0 nodad || netns_fail "cannot add $new"
    ip -n "$NS_A" addr del "$old/64" dev veth0 || netns_fail "cannot remove $old"
  fi
  t0=$(now_ms)
  resumed_ms=$(ping_watch_recovery "v$family" "$t0" 5) || rc=$?
  block=$(ringtun_stats "$RINGTUN_PID_A" "$log_a") || netns_fail "no statistics from A"
  gso=$(($(count_lines "$log_a" 'UDP GSO refused') - gso_before))
  echo "IPv$family outer: A's address $old -> $new: ping A -> B answered again after" \
    "${resumed_ms:-(none)} ms; A:" \
    "$(grep -o 'errors send [0-9]*' <<<"$block" | tail -n 1), send failures logged:" \
    "$(grep -o 'UDP send failed: .*' "$log_a" | sort | uniq -c | xargs), $gso 'UDP GSO refused'"
  [ $rc -eq 0 ] ||
    netns_fail "IPv$family outer: no reply through the tunnel within 5 s of A's address change"
  fault_bound "IPv$family outer: traffic after A's address changed" "$resumed_ms" $RESUME_WITHIN_MS
  [ "$gso" -eq 0 ] ||
    netns_fail "IPv$family outer: A took the failed sends from its removed address for GSO" \
      "refused: $(grep 'UDP GSO refused' "$log_a" | tail -n 1)"

  block=$(ringtun_stats "$RINGTUN_PID_B" "$log_b") || netns_fail "no statistics from B"
  grep -qF "endpoint $endpoint rx" <<<"$block" ||
    netns_fail "IPv$family outer: B's endpoint for A is not $endpoint: $(grep 'stats: peer' <<<"$block")"
  ping_ok "$NS_B" "$TUN_A4" 3 5 || netns_fail "IPv$family outer: no ping B -> A after the change"
  before=$(stream_progress)
  stream_wait_progress $((before + (1 << 20))) 5 ||
    netns_fail "IPv$family outer: the stream did not go on after the change: $(stream_progress) bytes"
  stream_stop "across A's address change (IPv$family outer)"
  ringtun_pair_stop
}

netns_pair
for family in ${UDP_SOURCE_FAMILIES:-6 4}; do run_family "$family"; done
netns_cleanup
netns_assert_clean
echo "fault_roaming: ok"
