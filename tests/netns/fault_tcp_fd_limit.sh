#!/usr/bin/env bash
# ringtun's TCP listener at the process's file-descriptor limit: B runs under prlimit with
# RLIMIT_NOFILE = FD_LIMIT (a limit set from the start: a multishot accept keeps the limit it
# was armed with) and a per-source cap on unauthenticated connections above it
# (tcp_max_connections / 8), and from a second address of NS_A tcp_probe.py keeps opening
# idle connections, so B's accepts fail with EMFILE. Then ringtun A, which connected once
# before the flood, starts again and dials B, while it pings B every 0.1 s. Asserted: A
# completes a handshake over TCP and its pings are answered within RECOVERY_MS of its TUN
# coming up (timed by the replies, not by polling its statistics), the tunnel carries pings
# both ways, B evicted flood connections to make room since before A started, and B is still
# running.
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
RECOVERY_MS=2000
WAIT_SECS=30         # how long a failing run is watched, to print what it would have taken

tcp_flood_setup $FLOOD_SRC ring.tcp_max_connections=$MAX_CONN
log_a="$NETNS_TMP/ringtun-a.log" log_b="$NETNS_TMP/ringtun-b.log"
ringtun_side_start b "" prlimit --nofile=$FD_LIMIT:$FD_LIMIT
ringtun_side_wait b
echo "B holds $(find "/proc/$RINGTUN_PID_B/fd" -mindepth 1 -maxdepth 1 | wc -l) descriptors" \
  "under RLIMIT_NOFILE $FD_LIMIT"
# A connects once before the flood, as to a daemon that has been running. (In the sanitizer
# build this also matters: the first time UBSan checks a virtual call's dynamic type it probes
# the vtable's memory through a pipe, which at the descriptor limit fails and reads as an
# invalid vptr.)
ringtun_side_start a
ringtun_side_wait a
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

# Pings from now on (lost while A is down), so that A's first packet, and with it its
# connection and first initiation, follows its TUN at once.
ping_watch_start v4 "$NS_A" "$TUN_B4" $((WAIT_SECS + 20))
ringtun_side_start a
ringtun_side_wait a
t0=$(now_ms)
ms=$(ping_watch_recovery v4 "$t0" $WAIT_SECS) ||
  netns_fail "no ping A -> B answered within ${WAIT_SECS}s while B was at its descriptor limit"
hs=$(handshake_after "$RINGTUN_PID_A" "$log_a" 0 "$t0" 5) ||
  netns_fail "A's pings were answered but its statistics show no handshake"
tcp_snapshot b
evicted=$(tcp_delta before_a b evicted)
echo "A's first ping answered $ms ms after its TUN came up (handshake over TCP seen in its" \
  "statistics after $hs ms); B: evicted $evicted while A connected, accepted" \
  "$(tcp_get b accepted), connections $(tcp_get b connections);" \
  "flood: $(cat "$NETNS_TMP/flood-main.progress")"
fault_bound "traffic over TCP of a legitimate peer with the listener at its descriptor limit" \
  "$ms" $RECOVERY_MS
[ "$evicted" -gt 0 ] ||
  netns_fail "B evicted no connection since before A started (it made no room at its limit)"
ping_ok "$NS_A" "$TUN_B4" 3 5 && ping_ok "$NS_B" "$TUN_A4" 3 5 ||
  netns_fail "the tunnel does not carry pings both ways while B is at its descriptor limit"
netns_alive "$flood_pid" || netns_fail "the flood ended early: $(cat "$NETNS_TMP/flood-main.out")"
tcp_flood_stop main "$flood_pid"
ringtun_pair_stop
netns_cleanup
netns_assert_clean
echo "fault_tcp_fd_limit: ok"
