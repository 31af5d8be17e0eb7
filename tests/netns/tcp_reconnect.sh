#!/usr/bin/env bash
# The TCP connection under a ringtun tunnel killed mid-transfer: a paced stream A -> B runs
# while the connection is destroyed three times — A's socket with `ss -K`, B's socket with
# `ss -K`, and A's socket by a forged RST (the fallback for kernels without sock_destroy, so
# it stays tested). Each time A must re-dial at once (its backoff was reset by the traffic),
# B must accept the new connection and drop the dead one, the stream must resume within a
# bound and ping work both ways; at the end the stream's SHA-256 must match on both ends.
# Needs root, /dev/net/tun, ip netns (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test

# A's dialer retries at once after a close (its next attempt was due long ago) and the
# session survives, so the first frame on the new connection authenticates it. The inner
# TCP stream then resumes at its next retransmission: its RTO is ~0.2 s and has not backed
# off far in so short an outage.
RECONNECT_SECS=2
RESUME_SECS=5
STREAM_RATE=$((4 << 20))
STREAM_TIMEOUT=60

# Kills the tunnel's connection on SIDE with METHOD (ss or rst) and checks the recovery.
kill_and_recover() {
  local side=$1 method=$2 got t0 reconnect_ms resume_ms
  declare -A a0 b0
  tcp_snapshot a
  tcp_snapshot b
  tcp_save a a0
  tcp_save b b0
  got=$(stream_progress)
  t0=$(now_ms)
  TCP_KILL_METHOD=$method tcp_kill_tunnel "$side"
  tcp_wait a dialed -gt "${a0[dialed]}" $RECONNECT_SECS ||
    netns_fail "kill on $side ($TCP_KILL_USED): A did not re-dial within ${RECONNECT_SECS}s"
  reconnect_ms=$(($(now_ms) - t0))
  stream_wait_progress $((got + (1 << 20))) $RESUME_SECS ||
    netns_fail "kill on $side ($TCP_KILL_USED): the stream did not resume within" \
      "${RESUME_SECS}s ($got -> $(stream_progress) bytes)"
  resume_ms=$(($(now_ms) - t0))
  echo "kill on $side by $TCP_KILL_USED: re-dialed within $reconnect_ms ms, stream resumed" \
    "after $resume_ms ms ($got -> $(stream_progress) bytes)"

  # A closed the dead connection once and dialed once; B accepted the new one and dropped
  # the old one (its RST or abort is an error, never a protocol or idle close). A forged RST
  # resets A's socket only: unless B sent on it before A's new connection took over (then A
  # answered with a RST), B's stays half-open, authenticated and silent until TCP keepalive
  # finds it dead; the end of the test checks that.
  if [ "$method" = rst ]; then
    tcp_snapshot b
    tcp_assert b connections -le 2 "kill on $side: the new connection and maybe the old one"
  else
    tcp_wait b connections -eq 1 5 ||
      netns_fail "kill on $side: ringtun b has $(tcp_get b connections) connections, expected 1"
    [ "$(tcp_delta b0 b closed)" -eq 1 ] ||
      netns_fail "kill on $side: B closed $(tcp_delta b0 b closed) connections, expected 1"
  fi
  tcp_snapshot a
  [ "$(tcp_delta a0 a dialed)" -eq 1 ] ||
    netns_fail "kill on $side: A dialed $(tcp_delta a0 a dialed) times, expected once"
  [ "$(tcp_delta a0 a closed)" -eq 1 ] ||
    netns_fail "kill on $side: A closed $(tcp_delta a0 a closed) connections, expected 1"
  tcp_assert a connections -eq 1
  tcp_assert a connect_failures -eq "${a0[connect_failures]}"
  [ "$(tcp_delta b0 b accepted)" -eq 1 ] ||
    netns_fail "kill on $side: B accepted $(tcp_delta b0 b accepted) connections, expected 1"
  for field in zero_length oversized malformed stalled idle evicted; do
    tcp_assert b "$field" -eq "${b0[$field]}" "kill on $side"
  done
  ping_ok "$NS_A" "$TUN_B4" 3 10 && ping_ok "$NS_B" "$TUN_A4" 3 10 ||
    netns_fail "kill on $side: no ping both ways after the reconnect"
}

netns_pair
tcp_pair
ping_ok "$NS_B" "$TUN_A4" 3 10 || netns_fail "no ping B -> A through the TCP tunnel"
stream_start "$NS_A" "$NS_B" "$TUN_B4" $STREAM_RATE $STREAM_TIMEOUT
kill_and_recover a ss
kill_and_recover b ss
kill_and_recover a rst

stream_stop "across the reconnects"

# The half-open connection left by the forged RST: ringtun's sockets probe after 15 s idle
# (TCP_KEEPIDLE), A's kernel answers the probe with a RST, and B closes it as an error.
t0=$(now_ms)
tcp_wait b connections -eq 1 25 ||
  netns_fail "ringtun b kept a half-open connection for 25 s (TCP keepalive is 15 s)"
tcp_assert b error -eq 3 "the three dead connections, closed as errors"
tcp_assert b closed -eq 3
echo "b: back to one connection $(($(now_ms) - t0)) ms after the stream ended"

ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log"
ringtun_stop "$NS_B" "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log"
netns_cleanup
netns_assert_clean
echo "tcp_reconnect: ok"
