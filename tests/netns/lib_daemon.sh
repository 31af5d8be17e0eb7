# shellcheck shell=bash
# ringtun as seen from a test: its SIGUSR1 statistics parsed into numbers, and a checked stop
# (exit 0, the "stopped" line, TUN and UDP port released). Source after lib.sh:
#
#   source "$here/lib.sh"
#   source "$here/lib_daemon.sh"
#   block=$(ringtun_stats "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log") || netns_fail ...
#   stats_drop unknown_index <<<"$block"
#
# Formats read here are those of daemon/loop_io.cpp (Loop::log_statistics) and
# daemon/stats.cpp (log_device_statistics); a change there must change these parsers.

# Number of lines of FILE matching the extended regex RE (0 when FILE is missing).
count_lines() {
  local n
  n=$(grep -Ec -- "$2" "$1" 2>/dev/null) || true
  echo "${n:-0}"
}

# Sends SIGUSR1 to PID and prints the statistics block it logs to LOG (the lines from the new
# "stats: udp rx" line on). Fails when the block does not appear within 5 s.
ringtun_stats() {
  local pid=$1 log=$2 before_drops before_peers
  before_drops=$(count_lines "$log" 'stats: drops ')
  before_peers=$(count_lines "$log" 'stats: peer\(')
  kill -USR1 "$pid" 2>/dev/null || { netns_log "cannot signal ringtun $pid"; return 1; }
  # The peer lines come after the drops line; every test config has exactly one peer.
  netns_poll "[ \$(count_lines '$log' 'stats: drops ') -gt $before_drops ] &&
    [ \$(count_lines '$log' 'stats: peer\\(') -gt $before_peers ]" 5 ||
    { netns_log "ringtun $pid logged no statistics after SIGUSR1"; return 1; }
  awk '/stats: udp rx /{block=""} /stats: /{block=block $0 "\n"} END{printf "%s", block}' "$log"
}

# Drop reasons for datagrams from the network (daemon/drops.hpp); the others are TUN-side
# (no_route for the IPv6 multicast a fresh TUN sends, ...) or local.
RINGTUN_NET_DROPS="malformed invalid_mac1 decrypt_failed unknown_peer invalid_public_key
  replayed_timestamp initiation_flood unexpected_message replayed_counter counter_exhausted
  malformed_inner unknown_index session_expired source_mismatch under_load_cookie
  rate_limited"

# "reason=count ..." of the network drop reasons that are non-zero in a block on stdin.
stats_net_drops() {
  local block reason n out=""
  block=$(cat)
  for reason in $RINGTUN_NET_DROPS; do
    n=$(stats_drop "$reason" <<<"$block")
    [ "$n" -eq 0 ] || out+="$reason=$n "
  done
  echo "${out% }"
}

# Count of drop REASON in a statistics block on stdin (0 when not listed).
stats_drop() {
  local n
  n=$(grep -E 'stats: drops ' | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p")
  echo "${n:-0}"
}

# "udp rx N pkts", "udp tx N pkts", "tun write N pkts" of a block on stdin: WHAT is one of
# udp_rx udp_tx tun_write; prints the packet count.
stats_packets() {
  local what=${1//_/ }
  grep -E 'stats: udp rx ' | tail -n 1 | sed -E "s/.*$what ([0-9]+) pkts.*/\1/"
}

# "handshakes initiated N completed M" and "cookie replies N": WHAT is initiated, completed
# or cookie_replies.
stats_handshakes() {
  case $1 in
    cookie_replies)
      grep -E 'stats: tun rx ' | tail -n 1 | sed -E 's/.*cookie replies ([0-9]+).*/\1/' ;;
    *) grep -E 'stats: tun rx ' | tail -n 1 | sed -E "s/.*$1 ([0-9]+).*/\1/" ;;
  esac
}

# Resident memory of PID in KiB (VmRSS); 0 once the process is gone (or a zombie), so that a
# sampler can go on past a daemon's death and report it.
rss_kib() {
  local kib
  kib=$(awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null) || true
  echo "${kib:-0}"
}

# The value of the sample NAME with the labels K=V (summed when several match) that ringtun's
# metrics endpoint HOST:PORT, scraped from inside NS, serves; fails the test when the scrape
# does not answer 200 or the sample is missing.
#   metrics_value NS HOST PORT NAME [K=V...]
metrics_value() {
  local ns=$1 host=$2 port=$3 out="$NETNS_TMP/metrics-$1.txt" r
  shift 3
  r=$(ip netns exec "$ns" python3 "$NETNS_LIB_DIR/metrics_client.py" scrape "$host" "$port" \
    "$out") || netns_fail "cannot scrape the metrics of $host:$port in $ns"
  grep -q "status=200" <<<"$r" || netns_fail "metrics of $host:$port in $ns: $r"
  python3 "$NETNS_LIB_DIR/metrics_client.py" value "$out" "$@" ||
    netns_fail "metrics of $host:$port in $ns: no sample $*"
}

# True when neither RT_IF nor a socket bound to UDP port TUN_PORT is left in NS.
ringtun_released() {
  ! ip -n "$1" link show dev "$RT_IF" >/dev/null 2>&1 &&
    [ -z "$(ip netns exec "$1" ss -Hlun "sport = :$TUN_PORT" 2>/dev/null)" ]
}

# The end of a test of a ringtun pair: both ringtuns (RINGTUN_PID_A, RINGTUN_PID_B) must still
# run, and stop cleanly (ringtun_stop).
ringtun_pair_stop() {
  local side pid_var
  for side in A B; do
    pid_var=RINGTUN_PID_$side
    netns_alive "${!pid_var}" || netns_fail "ringtun $side died"
  done
  ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$NETNS_TMP/ringtun-a.log"
  ringtun_stop "$NS_B" "$RINGTUN_PID_B" "$NETNS_TMP/ringtun-b.log"
}

# Stops the ringtun PID running in NS with SIGNAL (default TERM) and asserts a clean exit
# within TIMEOUT (default 5) seconds: status 0 and a new "IF: stopped" line in LOG; then
# waits up to 2 s for its TUN and UDP port to go away (fails otherwise).
#
# The wait is tolerance, not the contract: until commit e129cce ringtun left both to the
# kernel's asynchronous io_uring teardown (they outlived the process by ~30-60 ms).
# sigterm.sh asserts that they are gone once the process has exited; the other tests only
# need them gone before a restart.
ringtun_stop() {
  local ns=$1 pid=$2 log=$3 sig=${4:-TERM} timeout=${5:-5} rc=0 re before
  re="$RT_IF: stopped, [0-9]+ in-flight requests cancelled"
  before=$(count_lines "$log" "$re")
  stop_process "$pid" "$timeout" "$sig" || rc=$?
  [ $rc -ne 124 ] || netns_fail "ringtun $pid did not exit within ${timeout}s of SIG$sig"
  [ $rc -eq 0 ] || netns_fail "ringtun $pid exited with status $rc after SIG$sig"
  netns_poll "ringtun_released '$ns'" 2 ||
    netns_fail "ringtun $pid exited but its $RT_IF or UDP port $TUN_PORT is still there in $ns"
  [ "$(count_lines "$log" "$re")" -gt "$before" ] ||
    netns_fail "ringtun $pid did not log '$RT_IF: stopped' ($log)"
}
