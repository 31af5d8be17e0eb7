# shellcheck shell=bash
# Traffic through the test namespaces: ICMP echo, iperf3, and byte transfers checked with
# SHA-256 (a fixed amount, or a paced stream that runs while a test breaks the tunnel under
# it). Sourced by lib.sh (needs netns_run_bounded, netns_track, NETNS_TMP). Every command
# here is bounded in count and time, and only addresses inside our namespaces are used.

IPERF3_PORT=${IPERF3_PORT:-5201}
XFER_PORT=${XFER_PORT:-47000}

# Succeeds once COUNT (default 3) echo replies came back from ADDR within DEADLINE (default
# 10) seconds, sending at most 3*COUNT+2 requests 0.2 s apart (the first may wait for a
# handshake). Prints the summary on failure.
ping_ok() {
  local ns=$1 addr=$2 count=${3:-3} deadline=${4:-10} out rc=0
  out="$NETNS_TMP/ping.$$.out"
  netns_run_bounded $((deadline + 5)) ip netns exec "$ns" python3 "$NETNS_LIB_DIR/icmp_ping.py" \
    "$addr" --count "$count" --max-sent $((3 * count + 2)) --interval 0.2 \
    --deadline "$deadline" >"$out" 2>&1 || rc=$?
  [ $rc -eq 0 ] || netns_log "ping $addr from $ns: $(cat "$out")"
  return $rc
}

# Sends exactly COUNT (default 20) echo requests INTERVAL (default 0.05) s apart and prints
# the summary: "sent=N received=M loss=P% rtt_min=MS rtt_avg=MS rtt_max=MS". Fails when no
# reply came back.
ping_rtt() {
  local ns=$1 addr=$2 count=${3:-20} interval=${4:-0.05} out rc=0
  out="$NETNS_TMP/ping.$$.out"
  netns_run_bounded 30 ip netns exec "$ns" python3 "$NETNS_LIB_DIR/icmp_ping.py" "$addr" \
    --count 1 --max-sent "$count" --all-sent --interval "$interval" --deadline 20 >"$out" 2>&1 || rc=$?
  cat "$out"
  return $rc
}

# The value of KEY in a "k=v k=v" line on stdin.
kv_get() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

# Starts an iperf3 server in NS on PORT (default $IPERF3_PORT) and waits until it listens.
iperf3_server() {
  local ns=$1 port=${2:-$IPERF3_PORT} pid
  ip netns exec "$ns" iperf3 -s -p "$port" --idle-timeout 600 \
    >>"$NETNS_TMP/iperf3-server-$ns-$port.log" 2>&1 &
  pid=$!
  netns_track "$pid"
  netns_poll "grep -q . <<<\"\$(ip netns exec '$ns' ss -Hltn 'sport = :$port')\" ||
    ! netns_alive $pid" 5
  netns_alive "$pid" || netns_fail "iperf3 server did not start in $ns"
  grep -q . <<<"$(ip netns exec "$ns" ss -Hltn "sport = :$port")" ||
    netns_fail "iperf3 server in $ns does not listen on $port"
}

# Runs `iperf3 -c ADDR -p $IPERF3_PORT --json ARGS...` in NS; the JSON goes to stdout (send
# it to a file and read it with iperf3_field). Killed after the -t duration (default 10 s)
# plus 30 s.
iperf3_client() {
  local ns=$1 addr=$2 secs=10 prev=""
  shift 2
  for arg in "$@"; do
    case $prev in -t | --time) secs=${arg%.*} ;; esac
    prev=$arg
  done
  netns_run_bounded $((secs + 30)) ip netns exec "$ns" iperf3 -c "$addr" -p "$IPERF3_PORT" \
    --json --connect-timeout 5000 "$@"
}

# Prints FIELD... of an iperf3 JSON result file: sender_bps receiver_bps sender_bytes
# receiver_bytes retransmits seconds (sender/receiver follow the data, so -R swaps roles).
iperf3_field() { python3 "$NETNS_LIB_DIR/iperf3_json.py" "$@"; }

# Bits per second the receiver saw (or the sender, with "sender").
iperf3_bps() { iperf3_field "$1" "${2:-receiver}_bps"; }

# Sends BYTES random bytes over TCP from NS_FROM to ADDR:$XFER_PORT (ADDR must be an address
# of NS_TO) and compares the SHA-256 computed by the sender with the receiver's. Bounded by
# $XFER_TIMEOUT (default 60) seconds. Prints "transfer: BYTES bytes sha256 HEX" on success.
transfer_sha256() {
  local from=$1 to=$2 addr=$3 bytes=$4 t=${XFER_TIMEOUT:-60}
  local tag="$NETNS_TMP/xfer.$RANDOM" rpid rc=0 sent got
  ip netns exec "$to" python3 "$NETNS_LIB_DIR/tcp_xfer.py" recv "$addr" "$XFER_PORT" \
    --timeout "$t" --ready "$tag.ready" >"$tag.recv" 2>&1 &
  rpid=$!
  netns_track "$rpid"
  netns_poll "[ -e '$tag.ready' ] || ! netns_alive $rpid" 5
  [ -e "$tag.ready" ] || { netns_log "receiver: $(cat "$tag.recv")"; return 1; }
  netns_run_bounded $((t + 5)) ip netns exec "$from" python3 "$NETNS_LIB_DIR/tcp_xfer.py" send \
    "$addr" "$XFER_PORT" "$bytes" --timeout "$t" >"$tag.send" 2>&1 || rc=$?
  stop_process "$rpid" $((t + 5)) 0 || rc=$((rc ? rc : $?))
  sent=$(cat "$tag.send") got=$(cat "$tag.recv")
  if [ $rc -ne 0 ] || [ "$sent" != "$got" ] || [ "$(kv_get bytes <<<"$sent")" != "$bytes" ]; then
    netns_log "transfer of $bytes bytes to $addr failed (rc $rc): sent '$sent', received '$got'"
    return 1
  fi
  echo "transfer: $bytes bytes sha256 $(kv_get sha256 <<<"$sent")"
}

# A paced stream of random bytes over TCP, for tests that restart or break the tunnel while it
# runs; one at a time, in $NETNS_TMP/stream.*. stream_start FROM TO ADDR RATE TIMEOUT starts
# the receiver on ADDR:$XFER_PORT in namespace TO (ADDR must be one of its addresses) and the
# sender in FROM at about RATE bytes/s, both bounded by TIMEOUT seconds, and fails unless more
# than 1 MiB arrives within 10 s. Sets STREAM_RECV_PID and STREAM_SEND_PID.
stream_start() {
  local from=$1 to=$2 addr=$3 rate=$4 t=$5 s="$NETNS_TMP/stream"
  ip netns exec "$to" python3 "$NETNS_LIB_DIR/tcp_xfer.py" recv "$addr" "$XFER_PORT" \
    --progress "$s.progress" --ready "$s.ready" --timeout "$t" >"$s.recv" 2>&1 &
  STREAM_RECV_PID=$!
  netns_track "$STREAM_RECV_PID"
  netns_poll "[ -e '$s.ready' ] || ! netns_alive $STREAM_RECV_PID" 5
  [ -e "$s.ready" ] || netns_fail "stream receiver did not start: $(cat "$s.recv")"
  ip netns exec "$from" python3 "$NETNS_LIB_DIR/tcp_xfer.py" send "$addr" "$XFER_PORT" \
    --rate "$rate" --stop "$s.stop" --timeout "$t" >"$s.send" 2>&1 &
  STREAM_SEND_PID=$!
  netns_track "$STREAM_SEND_PID"
  stream_wait_progress $((1 << 20)) 10 ||
    netns_fail "the stream did not start: $(stream_progress) bytes"
}

# Bytes the stream's receiver has got so far (0 before the connection).
stream_progress() { cat "$NETNS_TMP/stream.progress" 2>/dev/null || echo 0; }

# Waits up to SECS seconds until more than AT_LEAST bytes of the stream have arrived; gives
# up early when the receiver has exited.
stream_wait_progress() {
  local at_least=$1 secs=$2
  netns_poll "[ \$(stream_progress) -gt $at_least ] || ! netns_alive $STREAM_RECV_PID" "$secs" &&
    [ "$(stream_progress)" -gt "$at_least" ]
}

# Stops the stream: the sender finishes once the stop file exists (within 20 s), the receiver
# at EOF (within 10 s more). Fails unless both exit 0 and what arrived (byte count and
# SHA-256) is what was sent; WHAT ends that message ("across the restarts"). Prints
# "stream: bytes=N sha256=HEX".
stream_stop() {
  local what=$1 s="$NETNS_TMP/stream" rc=0 sent got
  touch "$s.stop"
  stop_process "$STREAM_SEND_PID" 20 0 || rc=$?
  [ $rc -eq 0 ] || netns_fail "stream sender failed (rc $rc): $(cat "$s.send")"
  rc=0
  stop_process "$STREAM_RECV_PID" 10 0 || rc=$?
  [ $rc -eq 0 ] || netns_fail "stream receiver failed (rc $rc): $(cat "$s.recv")"
  sent=$(cat "$s.send") got=$(cat "$s.recv")
  [ -n "$sent" ] && [ "$sent" = "$got" ] ||
    netns_fail "stream differs $what: sent '$sent', received '$got'"
  echo "stream: $sent"
}

# Non-idle CPU time of the whole machine so far, in clock ticks (/proc/stat "cpu" line:
# user nice system irq softirq steal; guest time is already counted in user).
cpu_busy_ticks() {
  local _cpu user nice system _idle _iowait irq softirq steal _rest
  read -r _cpu user nice system _idle _iowait irq softirq steal _rest </proc/stat
  echo $((user + nice + system + irq + softirq + steal))
}
