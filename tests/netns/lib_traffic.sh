# shellcheck shell=bash
# Traffic through the test namespaces: ICMP echo, iperf3, and a byte transfer checked with
# SHA-256. Sourced by lib.sh (needs netns_run_bounded, netns_track, NETNS_TMP). Every command
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

# Non-idle CPU time of the whole machine so far, in clock ticks (/proc/stat "cpu" line:
# user nice system irq softirq steal; guest time is already counted in user).
cpu_busy_ticks() {
  local _cpu user nice system _idle _iowait irq softirq steal _rest
  read -r _cpu user nice system _idle _iowait irq softirq steal _rest </proc/stat
  echo $((user + nice + system + irq + softirq + steal))
}
