# shellcheck shell=bash
# The fault suite's measurements (tests/netns/fault_*.sh): traffic that keeps flowing while a
# test breaks something, the time until it flows again, and the bound that time must meet.
# Sourced by lib.sh (needs netns_track, netns_poll, now_ms, NETNS_TMP, stop_process):
#
#   ping_watch_start v4 "$NS_A" "$TUN_B4" 60      # an echo request every 0.1 s, each reply logged
#   t0=$(now_ms); ...break and repair something...
#   ms=$(ping_watch_recovery v4 "$t0" 10) || netns_fail "no reply within 10 s"
#   fault_bound "traffic after the link came up" "$ms" 1000
#
# Every figure a fault test asserts is printed as one line, "fault: WHAT: N ms (bound B ms)",
# so that a run's figures can be collected with grep '^fault: '.

# The bounds of a recovery once a fault is over (fault_recovered): traffic on a session that
# outlived the fault flows again at once (within FAULT_RESUME_MS); a new handshake of A comes
# with its next retry, REKEY_TIMEOUT (5 s) plus up to 333 ms of jitter, and 1.5 s of margin.
FAULT_RESUME_MS=1000
FAULT_RETRY_MS=$((5000 + 333 + 1500))

# The start of most fault tests: NS_A and NS_B, a ringtun pair over them (RT_IF rtb0), and
# pings A -> B every 0.1 s for SECS seconds (watch v4), answered before it returns.
fault_pair_with_pings() {
  netns_pair
  ringtun_pair
  ping_ok "$NS_A" "$TUN_B4" 3 10 || netns_fail "no ping A -> B through the tunnel"
  ping_watch_start v4 "$NS_A" "$TUN_B4" "$1"
  netns_poll "[ \$(ping_watch_replies v4) -gt 5 ]" 5 || netns_fail "the pings got no reply"
}

# Starts icmp_ping.py in NS against ADDR: a request every INTERVAL (default 0.1) seconds for
# SECS seconds, each reply appended to $NETNS_TMP/pingwatch-NAME.txt as "RECEIVED_MS SEQ
# RTT_MS". Several may run at once under different NAMEs.
ping_watch_start() {
  local name=$1 ns=$2 addr=$3 secs=$4 interval=${5:-0.1} log="$NETNS_TMP/pingwatch-$1.txt"
  : >"$log"
  ip netns exec "$ns" python3 "$NETNS_LIB_DIR/icmp_ping.py" "$addr" --count 1000000 \
    --interval "$interval" --deadline "$secs" --log "$log" \
    >"$NETNS_TMP/pingwatch-$name.out" 2>&1 &
  netns_track $!
}

# Milliseconds from T0 (a now_ms value) until the first echo request of watch NAME sent at or
# after T0 was answered: how long after an event the traffic flowed again (replies to requests
# sent before it do not count). Waits up to SECS seconds; returns 1 (printing nothing) when no
# such reply came.
ping_watch_recovery() {
  local name=$1 t0=$2 secs=$3 first=""
  local log="$NETNS_TMP/pingwatch-$name.txt"
  netns_poll "first=\$(awk -v t=$t0 '\$1 - \$3 >= t {print \$1; exit}' '$log'); [ -n \"\$first\" ]" \
    "$secs" || return 1
  echo $((first - t0))
}

# The longest gap in milliseconds between two replies of watch NAME received from T0 to T1
# (now_ms values): the outage a fault caused, as the traffic saw it.
ping_watch_longest_gap() {
  awk -v a="$2" -v b="$3" '$1 >= a && $1 <= b {if (prev != "" && $1 - prev > gap) gap = $1 - prev;
    prev = $1} END {print gap + 0}' "$NETNS_TMP/pingwatch-$1.txt"
}

# Replies of watch NAME received so far.
ping_watch_replies() { count_lines "$NETNS_TMP/pingwatch-$1.txt" .; }

# Prints "fault: WHAT: MS ms (bound BOUND ms)" and fails the test when MS exceeds BOUND.
fault_bound() {
  local what=$1 ms=$2 bound=$3
  echo "fault: $what: $ms ms (bound $bound ms)"
  [ "$ms" -le "$bound" ] || netns_fail "$what took $ms ms (bound $bound ms)"
}

# Waits up to SECS seconds until ringtun's TUN RT_IF and its UDP port are gone from NS after
# the process was killed (the kernel's io_uring teardown releases them asynchronously), so
# that a restart finds both free.
wait_released() {
  netns_poll "ringtun_released '$1'" "$2" ||
    netns_fail "$RT_IF or UDP port $TUN_PORT still in $1 ${2}s after ringtun was killed"
}

# Handshakes ringtun PID (logging to LOG) has completed so far, from its SIGUSR1 statistics
# (its log names only the first one and a peer answering again; rekeys are debug).
handshake_count() {
  local block
  block=$(ringtun_stats "$1" "$2") || return 1
  stats_handshakes completed <<<"$block"
}

# Milliseconds from T0 until ringtun PID (logging to LOG) has completed more than BEFORE
# handshakes; asks every 0.1 s for up to SECS seconds. Returns 1 when none came.
handshake_after() {
  local pid=$1 log=$2 before=$3 t0=$4 secs=$5
  netns_poll "[ \$(handshake_count $pid '$log') -gt $before ]" "$secs" || return 1
  echo $(($(now_ms) - t0))
}

# Once a fault is over at T_END (now_ms): waits up to 10 s for the first reply of watch v4
# to a request sent after T_END and up to 15 s for A (RINGTUN_PID_A) to complete more than
# BEFORE handshakes, prints both and bounds them by FAULT_RESUME_MS and FAULT_RETRY_MS.
#   fault_recovered WHAT T_END BEFORE     # WHAT: "the outer link came up", ...
fault_recovered() {
  local what=$1 t_end=$2 before=$3 ms hs
  ms=$(ping_watch_recovery v4 "$t_end" 10) || netns_fail "no ping answered within 10 s of $what"
  hs=$(handshake_after "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log" "$before" "$t_end" 15) ||
    netns_fail "A completed no handshake within 15 s of $what"
  echo "after $what: pings answered again after $ms ms, A's handshake after $hs ms"
  fault_bound "traffic after $what" "$ms" $FAULT_RESUME_MS
  fault_bound "handshake after $what" "$hs" $FAULT_RETRY_MS
}

# The end of a fault test of a ringtun pair: pings B -> A and A -> B over IPv6 answered, both
# daemons still running and stopping cleanly, nothing left behind; prints "NAME: ok".
#   fault_pair_finish NAME WHEN        # WHEN: "after the restarts", ...
fault_pair_finish() {
  ping_ok "$NS_B" "$TUN_A4" 3 5 && ping_ok "$NS_A" "$TUN_B6" 3 5 ||
    netns_fail "no ping B -> A or over IPv6 $2"
  ringtun_pair_stop
  netns_cleanup
  netns_assert_clean
  echo "$1: ok"
}
