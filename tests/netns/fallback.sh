#!/usr/bin/env bash
# Where io_uring is refused, as a container runtime's default seccomp profile refuses it:
#   1. ringtun A runs under tests/tools/no_io_uring (io_uring_setup, _enter and _register fail
#      with EPERM) with [ring] backend = "auto": it runs the epoll backend and says why in one
#      line, and carries ping both ways and iperf3 to B, which runs on io_uring.
#   2. `ringtun check` under the launcher says run would use the epoll backend (exit 0).
#   3. With backend = "io_uring" it refuses to start under the launcher: exit 1, and the
#      message says io_uring is refused and why.
# Needs root, /dev/net/tun, ip netns, iperf3 (exit 77 otherwise); RINGTUN = the binary,
# NO_IO_URING = the launcher.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test iperf3
: "${NO_IO_URING:?path to the no_io_uring launcher}"
unset RINGTUN_BACKEND  # this test chooses the backends itself

netns_pair
RT_IF=rtb0
make_keypair rta
make_keypair rtb
ringtun_side_config a udp 4
ringtun_side_config b udp 4
LOG_A=$NETNS_TMP/ringtun-a.log LOG_B=$NETNS_TMP/ringtun-b.log
start_ringtun "$NS_B" "$NETNS_TMP/ringtun-b.toml" "$LOG_B"
RINGTUN_PID_B=$RINGTUN_PID
wait_for_ringtun "$NS_B" "$RINGTUN_PID_B" "$LOG_B" "$TUN_B4"
ip netns exec "$NS_A" "$NO_IO_URING" "$RINGTUN" run "$NETNS_TMP/ringtun-a.toml" >>"$LOG_A" 2>&1 &
RINGTUN_PID_A=$!
netns_track "$RINGTUN_PID_A"
wait_for_ringtun "$NS_A" "$RINGTUN_PID_A" "$LOG_A" "$TUN_A4"

# 1. The fallback, said once, and traffic to an io_uring peer.
why=$(grep 'running the epoll backend' "$LOG_A" || true)
[ "$(grep -c 'running the epoll backend' "$LOG_A")" = 1 ] || netns_fail "no single fallback line in A's log"
grep -q 'EPERM' <<<"$why" || netns_fail "the fallback line does not say why: $why"
grep -q 'loop: epoll' "$LOG_A" || netns_fail "A's loop is not the epoll one"
grep -q 'loop: TUN reads' "$LOG_B" || netns_fail "B does not run the io_uring loop"
echo "1. A: ${why#<*>}"
ping_ok "$NS_A" "$TUN_B4" 3 10 || netns_fail "no ping A -> B"
ping_ok "$NS_B" "$TUN_A4" 3 10 || netns_fail "no ping B -> A"
iperf3_server "$NS_B"
iperf3_client "$NS_A" "$TUN_B4" -t 3 >"$NETNS_TMP/iperf3.json" || netns_fail "iperf3 A -> B failed"
bps=$(iperf3_bps "$NETNS_TMP/iperf3.json")
[ "${bps%.*}" -gt 10000000 ] || netns_fail "iperf3 A -> B: $bps bit/s"
echo "   ping both ways; iperf3 A (epoll) -> B (io_uring): $((${bps%.*} / 1000000)) Mbit/s"

# 2. check says what run would do.
out=$(ip netns exec "$NS_A" "$NO_IO_URING" "$RINGTUN" check "$NETNS_TMP/ringtun-a.toml" 2>&1) ||
  netns_fail "check under the launcher failed: $out"
grep -q 'run would use the epoll backend' <<<"$out" || netns_fail "check does not say so: $out"
echo "2. check: $(grep 'epoll' <<<"$out")"

# 3. io_uring demanded where it is refused.
ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$LOG_A"
printf '\n[ring]\nbackend = "io_uring"\n' >>"$NETNS_TMP/ringtun-a.toml"
rc=0
netns_run_bounded 10 ip netns exec "$NS_A" "$NO_IO_URING" "$RINGTUN" run \
  "$NETNS_TMP/ringtun-a.toml" >"$NETNS_TMP/forced.log" 2>&1 || rc=$?
[ $rc -eq 1 ] || netns_fail "backend = \"io_uring\" under the launcher exited $rc"
grep -q 'io_uring is refused here.*EPERM' "$NETNS_TMP/forced.log" ||
  netns_fail "no clear message: $(cat "$NETNS_TMP/forced.log")"
echo "3. backend = \"io_uring\": exit 1, $(grep -o 'io_uring is refused here.*' "$NETNS_TMP/forced.log" | head -1)"
echo "PASS"
