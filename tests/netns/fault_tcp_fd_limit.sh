#!/usr/bin/env bash
# ringtun's TCP listener at the process's file-descriptor limit: B runs under prlimit with
# RLIMIT_NOFILE = FD_LIMIT (a limit set from the start: a multishot accept keeps the limit it
# was armed with) and a per-source cap on unauthenticated connections above it
# (tcp_max_connections / 8), and from a second address of NS_A tcp_probe.py keeps opening
# idle connections, so B's accepts fail with EMFILE. Then ringtun A, which connected once
# before the flood, starts again and dials B. Asserted: A completes its handshake over TCP
# within HANDSHAKE_MS of its TUN coming up,
# the tunnel carries pings both ways, B evicted flood connections to make room, and B is
# still running.
# Defect (issue 12): at EMFILE the listener only paused and tried again, evicting nothing, so
# the legitimate connection waited in the backlog until the flood's connections were closed
# as idle (15 s) and those queued before it were accepted: ~20 s, or never while the flood
# went on (no handshake within 30 s).
# Needs root, /dev/net/tun, ip netns, prlimit (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test prlimit

FD_LIMIT=48
MAX_CONN=512         # a per-source cap of 64: above FD_LIMIT, so only the limit stops the flood
FLOOD_SRC=10.99.0.5
FLOOD_CONNS=100000   # more than it opens before it is stopped
FLOOD_RATE=300       # connections a second: a steady flood, far above SPARE_FDS
HANDSHAKE_MS=2000
WAIT_SECS=30         # how long a failing run is watched, to print what it would have taken

tcp_flood_setup $FLOOD_SRC ring.tcp_max_connections=$MAX_CONN
log_a="$NETNS_TMP/ringtun-a.log" log_b="$NETNS_TMP/ringtun-b.log"
start_ringtun "$NS_B" "$NETNS_TMP/ringtun-b.toml" "$log_b" prlimit --nofile=$FD_LIMIT:$FD_LIMIT
RINGTUN_PID_B=$RINGTUN_PID
wait_for_ringtun "$NS_B" "$RINGTUN_PID_B" "$log_b" "$TUN_B4"
echo "B holds $(find "/proc/$RINGTUN_PID_B/fd" -mindepth 1 -maxdepth 1 | wc -l) descriptors" \
  "under RLIMIT_NOFILE $FD_LIMIT"
# A connects once before the flood, as to a daemon that has been running. (In the sanitizer
# build this also matters: the first time UBSan checks a virtual call's dynamic type it probes
# the vtable's memory through a pipe, which at the descriptor limit fails and reads as an
# invalid vptr.)
start_ringtun "$NS_A" "$NETNS_TMP/ringtun-a.toml" "$log_a"
RINGTUN_PID_A=$RINGTUN_PID
wait_for_ringtun "$NS_A" "$RINGTUN_PID_A" "$log_a" "$TUN_A4"
ping_ok "$NS_A" "$TUN_B4" 3 10 || netns_fail "no ping A -> B before the flood"
ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$log_a"

tcp_flood_start main "$NS_A" "$OUTER_B4" --source "$FLOOD_SRC" --idle $FLOOD_CONNS \
  --rate $FLOOD_RATE --timeout $((WAIT_SECS + 40))
flood_pid=$FLOOD_PID
wait_for_log "$log_b" 'tcp: accept failed: Too many open files' 10 "$RINGTUN_PID_B" ||
  netns_fail "B's accepts never reached the descriptor limit: $(cat "$NETNS_TMP/flood-main.progress" 2>/dev/null)"
echo "flood from $FLOOD_SRC: $(cat "$NETNS_TMP/flood-main.progress"); B is at its descriptor limit"
tcp_snapshot b
# shellcheck disable=SC2034  # read through namerefs by tcp_delta
declare -A before_a=()
tcp_save b before_a

start_ringtun "$NS_A" "$NETNS_TMP/ringtun-a.toml" "$log_a"
RINGTUN_PID_A=$RINGTUN_PID
wait_for_ringtun "$NS_A" "$RINGTUN_PID_A" "$log_a" "$TUN_A4"
t0=$(now_ms)
ms=$(handshake_after "$RINGTUN_PID_A" "$log_a" 0 "$t0" $WAIT_SECS) ||
  netns_fail "A completed no handshake with B within ${WAIT_SECS}s while B was at its descriptor limit"
tcp_snapshot b
echo "A's handshake over TCP after $ms ms; B: evicted $(tcp_delta before_a b evicted) while A" \
  "connected, accepted $(tcp_get b accepted), connections $(tcp_get b connections);" \
  "flood: $(cat "$NETNS_TMP/flood-main.progress")"
fault_bound "TCP handshake of a legitimate peer with the listener at its descriptor limit" \
  "$ms" $HANDSHAKE_MS
tcp_assert b evicted -gt 0 "B made room at its descriptor limit"
ping_ok "$NS_A" "$TUN_B4" 3 5 && ping_ok "$NS_B" "$TUN_A4" 3 5 ||
  netns_fail "the tunnel does not carry pings both ways while B is at its descriptor limit"
netns_alive "$flood_pid" || netns_fail "the flood ended early: $(cat "$NETNS_TMP/flood-main.out")"
tcp_flood_stop main "$flood_pid"
ringtun_pair_stop
netns_cleanup
netns_assert_clean
echo "fault_tcp_fd_limit: ok"
