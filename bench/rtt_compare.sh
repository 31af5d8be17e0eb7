#!/usr/bin/env bash
# The round trip of two ringtun builds side by side: a single-peer tunnel of each (namespaces
# a/b and c/d), every daemon and the pinger on one CPU, and tests/netns/rtt_pairs.py
# alternating echoes between them, ROUNDS times with the builds swapping namespaces each
# round, so that where a tunnel runs cancels out. Prints rtt_pairs.py's line per round.
# (bench/run.sh's ping RTT is the average of 20 echoes per setup, minutes apart: too coarse to
# tell two builds apart.)
#   RINGTUN=NEW RINGTUN_BASELINE=OLD bench/rtt_compare.sh [ROUNDS (4)] [PAIRS (2000)]
# Needs root, /dev/net/tun, ip netns and taskset (exit 77 otherwise).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-4} pairs=${2:-2000}
: "${RINGTUN:?the build to measure}" "${RINGTUN_BASELINE:?the build to compare with}"
NEW=$RINGTUN OLD=$RINGTUN_BASELINE
source "$repo/tests/netns/lib.sh"
netns_ringtun_test taskset
RT_IF=rtc0
netns_pair c d
OTHER_A=$NS_A OTHER_B=$NS_B
netns_pair
make_keypair rta
make_keypair rtb
ringtun_side_config a
ringtun_side_config b
# Starts BIN in NS with side SIDE's configuration; prints its PID once its TUN has ADDR.
start_side() {
  local bin=$1 ns=$2 side=$3 addr=$4 log=$NETNS_TMP/$2.log
  RINGTUN=$bin start_ringtun "$ns" "$NETNS_TMP/ringtun-$side.toml" "$log"
  wait_for_ringtun "$ns" "$RINGTUN_PID" "$log" "$addr"
  echo "$RINGTUN_PID"
}
# One round: BIN_FIRST in a/b, BIN_SECOND in c/d.
round() {
  local pids=() pid out
  pids+=("$(start_side "$1" "$NS_B" b "$TUN_B4")" "$(start_side "$1" "$NS_A" a "$TUN_A4")")
  pids+=("$(start_side "$2" "$OTHER_B" b "$TUN_B4")" "$(start_side "$2" "$OTHER_A" a "$TUN_A4")")
  ping_ok "$NS_A" "$TUN_B4" 3 15 && ping_ok "$OTHER_A" "$TUN_B4" 3 15 ||
    netns_fail "no ping through one of the tunnels"
  for pid in "${pids[@]}"; do taskset -a -p -c 0 "$pid" >/dev/null; done
  out=$(netns_run_bounded 300 taskset -c 0 python3 "$NETNS_LIB_DIR/rtt_pairs.py" "$NS_A" \
    "$TUN_B4" "$OTHER_A" "$TUN_B4" --pairs "$pairs") || netns_fail "rtt_pairs.py: $out"
  echo "$3: $out"
  # Started in command substitutions, the daemons are not this shell's children: no exit
  # status to wait for, only their going.
  for pid in "${pids[@]}"; do
    stop_process "$pid" 10 || true
    ! netns_alive "$pid" || netns_fail "ringtun $pid did not stop"
  done
}
for ((i = 1; i <= rounds; i++)); do
  if ((i % 2)); then round "$NEW" "$OLD" "round $i: a=new b=baseline"
  else round "$OLD" "$NEW" "round $i: a=baseline b=new"; fi
done
netns_cleanup
