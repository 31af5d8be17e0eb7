# shellcheck shell=bash disable=SC2034  # sets TCP_a, TCP_b, TCP_KILL_USED for the tests
# ringtun's TCP transport as seen from a netns test: a TCP pair with extra [ring] settings,
# its "stats: tcp" counters read into associative arrays, the tunnel's TCP connection killed
# from outside, hostile connections from tcp_probe.py, memory use, and a timed SIGTERM. Source
# after lib.sh and lib_daemon.sh:
#
#   source "$here/lib.sh"
#   source "$here/lib_daemon.sh"
#   source "$here/lib_tcp.sh"
#   tcp_pair ring.tcp_max_connections=64     # A dials B's TCP port TUN_PORT
#   tcp_snapshot b                           # fills TCP_b[accepted], TCP_b[drop_malformed], ...
#   tcp_assert b connections -eq 1
#
# The counter names are those of daemon/loop_io.cpp (Loop::log_statistics, "stats: tcp"
# line) and daemon/stats.cpp (drops); a change there must change tcp_parse_stats.

declare -gA TCP_a=() TCP_b=()

# The side's PID, namespace and log: tcp_side_pid a, tcp_side_ns b, tcp_side_log a.
tcp_side_pid() { if [ "$1" = a ]; then echo "$RINGTUN_PID_A"; else echo "$RINGTUN_PID_B"; fi; }
tcp_side_ns() { if [ "$1" = a ]; then echo "$NS_A"; else echo "$NS_B"; fi; }
tcp_side_log() { echo "$NETNS_TMP/ringtun-$1.log"; }

# ringtun_pair tcp with EXTRA ringtun_config arguments for both sides. Waits for both TUNs
# and for one ping A -> B (which needs the TCP connection and a handshake over it). Sets
# RINGTUN_PID_A, RINGTUN_PID_B, RT_IF; logs in $NETNS_TMP/ringtun-{a,b}.log.
tcp_pair() {
  RT_IF=${RT_IF:-rtb0}
  make_keypair rta
  make_keypair rtb
  ringtun_side_config a tcp 4 "$@"
  ringtun_side_config b tcp 4 "$@"
  start_sides_b_then_a
  ping_ok "$NS_A" "$TUN_B4" 1 10 || netns_fail "no ping A -> B through the TCP tunnel"
}

# Reads a statistics block on stdin and prints "KEY VALUE" lines: every counter of the
# "stats: tcp" line (connections accepted dialed refused evicted connect_failures eof error
# stalled idle zero_length oversized malformed queue_drops no_connection rx_bytes rx_frames
# tx_bytes), closed = the sum of every close reason, drops = the drop total, drop_REASON for
# each listed drop reason, udp_rx_pkts, udp_tx_pkts, and peer_endpoint (of the last peer
# line: every test config has one peer).
tcp_parse_stats() {
  awk '
    /stats: udp rx / {
      for (i = 1; i < NF; i++) {
        if ($i == "rx" && $(i - 1) == "udp") print "udp_rx_pkts", $(i + 1)
        if ($i == "tx" && $(i - 1) == "udp") print "udp_tx_pkts", $(i + 1)
      }
    }
    /stats: tcp connections / {
      line = $0
      sub(/.*stats: tcp /, "", line)
      gsub(/[;,]/, "", line)
      n = split(line, t, " ")
      closed = 0
      for (i = 2; i <= n; i++) {
        if (t[i] !~ /^[0-9]+$/) continue
        key = t[i - 1]
        if (key == "rx") key = "rx_bytes"
        else if (key == "tx") key = "tx_bytes"
        else if (key == "B" && t[i + 1] == "frames") key = "rx_frames"
        print key, t[i]
        if (key ~ /^(eof|error|stalled|idle|evicted|zero_length|oversized|malformed)$/)
          closed += t[i]
      }
      print "closed", closed
    }
    /stats: drops [0-9]+:/ {
      line = $0
      sub(/.*stats: drops /, "", line)
      split(line, t, ":")
      print "drops", t[1]
      n = split(t[2], r, " ")
      for (i = 1; i <= n; i++) if (split(r[i], kv, "=") == 2) print "drop_" kv[1], kv[2]
    }
    /stats: peer\(.*\) endpoint / {
      for (i = 1; i < NF; i++) if ($i == "endpoint") endpoint = $(i + 1)
    }
    END { if (endpoint != "") print "peer_endpoint", endpoint }'
}

# Sends SIGUSR1 to SIDE's ringtun (a or b) and fills the associative array TCP_SIDE with
# tcp_parse_stats' keys (a drop reason not listed is 0). Fails the test when no statistics
# or no "stats: tcp" line come. Must run in the test's main shell (it sets a global).
tcp_snapshot() {
  local side=$1 block key value
  local -n _tcp_out="TCP_$side"
  block=$(ringtun_stats "$(tcp_side_pid "$side")" "$(tcp_side_log "$side")") ||
    netns_fail "no statistics from ringtun $side"
  grep -q 'stats: tcp connections ' <<<"$block" ||
    netns_fail "ringtun $side logged no 'stats: tcp' line: $block"
  _tcp_out=()
  # shellcheck disable=SC2004  # associative subscripts, not arithmetic
  while read -r key value; do _tcp_out[$key]=$value; done < <(tcp_parse_stats <<<"$block")
}

# Value of FIELD in the last snapshot of SIDE; drop_* reasons not listed are 0.
tcp_get() {
  local -n _tcp_in="TCP_$1"
  case $2 in
    drop_*) echo "${_tcp_in[$2]:-0}" ;;
    *) echo "${_tcp_in[$2]:?no field $2 in ringtun $1 stats}" ;;
  esac
}

# tcp_assert SIDE FIELD OP VALUE [WHAT]: fails unless FIELD of SIDE's last snapshot OP VALUE
# (an integer test(1) operator: -eq -ge -le -gt -lt -ne).
tcp_assert() {
  local side=$1 field=$2 op=$3 want=$4 what=${5:-} got
  got=$(tcp_get "$side" "$field")
  test "$got" "$op" "$want" ||
    netns_fail "ringtun $side: $field = $got, expected $op $want${what:+ ($what)}"
}

# Takes snapshots of SIDE every 0.2 s until FIELD OP VALUE holds, for up to SECS seconds.
# Returns 1 (the last snapshot stays in TCP_SIDE) when it never held.
tcp_wait() {
  local side=$1 field=$2 op=$3 want=$4 secs=$5 i
  for ((i = 0; i <= secs * 5; i++)); do
    tcp_snapshot "$side"
    test "$(tcp_get "$side" "$field")" "$op" "$want" && return 0
    sleep 0.2
  done
  return 1
}

# tcp_save SIDE NAME: copies SIDE's last snapshot into the associative array NAME (declared
# by the caller), for tcp_delta NAME SIDE FIELD: FIELD now minus FIELD then.
tcp_save() {
  local -n _tcp_src="TCP_$1" _tcp_dst="$2"
  local key
  _tcp_dst=()
  # shellcheck disable=SC2004  # associative subscripts, not arithmetic
  for key in "${!_tcp_src[@]}"; do _tcp_dst[$key]=${_tcp_src[$key]}; done
}
tcp_delta() {
  local -n _tcp_then="$1"
  local now
  now=$(tcp_get "$2" "$3")
  case $3 in
    drop_*) echo $((now - ${_tcp_then[$3]:-0})) ;;
    *) echo $((now - ${_tcp_then[$3]:?no field $3 in the saved snapshot})) ;;
  esac
}

# "LOCAL PEER" of each established TCP socket in NS matching the ss(8) FILTER; IPv4-mapped
# addresses (B's listener is dual-stack) as plain IPv4.
tcp_sockets() {
  ip netns exec "$1" ss -Htn state established "$2" 2>/dev/null |
    awk '{print $(NF - 1), $NF}' | sed -E 's/\[::ffff:([0-9.]+)\]/\1/g'
}

# The ss(8) filter for the tunnel's connection as seen from NS_A (a: the dialing socket) or
# NS_B (b: the accepted one).
tcp_tunnel_filter() {
  if [ "$1" = a ]; then
    echo "dst $OUTER_B4 and dport = :$TUN_PORT"
  else
    echo "src $OUTER_B4 and sport = :$TUN_PORT and dst $OUTER_A4"
  fi
}

# True while SIDE's namespace still has the socket "LOCAL PEER".
tcp_socket_present() {
  grep -qxF -- "$2" <<<"$(tcp_sockets "$(tcp_side_ns "$1")" "$(tcp_tunnel_filter "$1")")"
}

# Kills the tunnel's TCP connection on SIDE (a: A's dialing socket; b: B's accepted one).
# Method: `ss -K` (sock_destroy, needs CONFIG_INET_DIAG_DESTROY); when that kills nothing,
# or with TCP_KILL_METHOD=rst, a RST forged from the other namespace with the exact sequence
# number (tcp_rst.py), so that SIDE's socket is reset by its peer. Sets TCP_KILL_USED to the
# method that worked; fails the test when the connection survives.
tcp_kill_tunnel() {
  local side=$1 ns filter sock out="" i
  ns=$(tcp_side_ns "$side")
  filter=$(tcp_tunnel_filter "$side")
  sock=$(tcp_sockets "$ns" "$filter")
  [ "$(grep -c . <<<"$sock")" -eq 1 ] ||
    netns_fail "expected one tunnel connection in $ns ($filter), found: ${sock:-none}"
  if [ "${TCP_KILL_METHOD:-ss}" = ss ]; then
    out=$(ip netns exec "$ns" ss -K -Htn state established "$filter" 2>&1 || true)
    if netns_poll "! tcp_socket_present $side '$sock'" 1; then
      TCP_KILL_USED="ss -K"
      return 0
    fi
    netns_log "ss -K did not kill $sock in $ns (${out:-no output}); forging a RST instead"
  fi
  for ((i = 0; i < 20; i++)); do
    tcp_forge_rst "$side" "$sock" || true
    if netns_poll "! tcp_socket_present $side '$sock'" 1; then
      TCP_KILL_USED="forged RST (attempt $((i + 1)))"
      return 0
    fi
  done
  netns_fail "could not break the tunnel's TCP connection $sock in $ns"
}

# One attempt of the RST fallback against SIDE's socket "LOCAL PEER": in the other
# namespace, waits for that side's next segment on the connection and sends the RST that
# follows it in sequence.
tcp_forge_rst() {
  local side=$1 local_addr=${2% *} peer_addr=${2#* } from_ns
  if [ "$side" = a ]; then from_ns=$NS_B; else from_ns=$NS_A; fi
  netns_run_bounded 5 ip netns exec "$from_ns" python3 "$NETNS_LIB_DIR/tcp_rst.py" veth0 \
    "${peer_addr%:*}" "${peer_addr##*:}" "${local_addr%:*}" "${local_addr##*:}" --timeout 2 \
    >/dev/null
}

# The setup of a flood test: NS_A and NS_B (netns_pair), SOURCE a second address of A's veth
# (where the flood comes from), keys, and the configs of a TCP pair (A dials B; EXTRA
# ringtun_config arguments for B's). Starts nothing. Sets RT_IF.
#   tcp_flood_setup SOURCE [EXTRA...]
tcp_flood_setup() {
  local source=$1
  shift
  netns_pair
  ip -n "$NS_A" addr add "$source/24" dev veth0 || netns_fail "cannot add $source"
  RT_IF=rtb0
  make_keypair rta
  make_keypair rtb
  ringtun_side_config a tcp 4
  ringtun_side_config b tcp 4 "$@"
}

# Starts `tcp_probe.py flood` in NS against ADDR:TUN_PORT with ARGS (see tcp_probe.py);
# progress in $NETNS_TMP/flood-NAME.progress, result in flood-NAME.out, stopped by touching
# flood-NAME.stop. Sets FLOOD_PID.
tcp_flood_start() {
  local name=$1 ns=$2 addr=$3 f="$NETNS_TMP/flood-$1"
  shift 3
  ip netns exec "$ns" python3 "$NETNS_LIB_DIR/tcp_probe.py" flood "$addr" "$TUN_PORT" \
    --progress "$f.progress" --stop "$f.stop" "$@" >"$f.out" 2>&1 &
  FLOOD_PID=$!
  netns_track "$FLOOD_PID"
}

# KEY of flood NAME's progress line ("opened=N failed=N open=N closed_by_peer=N"); 0 before
# the first one.
tcp_flood_progress() {
  local v
  v=$(kv_get "$2" 2>/dev/null <"$NETNS_TMP/flood-$1.progress") || true
  echo "${v:-0}"
}

# Stops flood NAME (PID) and waits up to 10 s for its summary; fails when it failed.
tcp_flood_stop() {
  local name=$1 pid=$2 rc=0
  touch "$NETNS_TMP/flood-$name.stop"
  stop_process "$pid" 10 0 || rc=$?
  [ $rc -eq 0 ] || netns_fail "flood $name failed (rc $rc): $(cat "$NETNS_TMP/flood-$name.out")"
}

# Sends SIGTERM to SIDE's ringtun and asserts that it exits with status 0 within MS
# milliseconds and logs "IF: stopped, N in-flight requests cancelled"; then waits up to 2 s
# until its TUN, UDP port and TCP listener are gone. Sets TCP_STOP_MS (SIGTERM to exit).
tcp_stop_within() {
  local side=$1 ms=$2 pid ns log re before t0 rc=0 i
  pid=$(tcp_side_pid "$side") ns=$(tcp_side_ns "$side") log=$(tcp_side_log "$side")
  re="$RT_IF: stopped, [0-9]+ in-flight requests cancelled"
  before=$(count_lines "$log" "$re")
  t0=${EPOCHREALTIME/./}
  kill -TERM "$pid" || netns_fail "cannot signal ringtun $side ($pid)"
  for ((i = 0; i < 500; i++)); do
    netns_alive "$pid" || break
    sleep 0.01
  done
  TCP_STOP_MS=$(((${EPOCHREALTIME/./} - t0) / 1000))
  if netns_alive "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    netns_fail "ringtun $side ($pid) still ran 5 s after SIGTERM"
  fi
  wait "$pid" 2>/dev/null || rc=$?
  [ $rc -eq 0 ] || netns_fail "ringtun $side exited with status $rc after SIGTERM"
  [ "$TCP_STOP_MS" -le "$ms" ] ||
    netns_fail "ringtun $side took ${TCP_STOP_MS} ms to exit after SIGTERM (limit $ms ms)"
  [ "$(count_lines "$log" "$re")" -gt "$before" ] ||
    netns_fail "ringtun $side did not log '$RT_IF: stopped, N in-flight requests cancelled'"
  # The drain completed: no request armed after the cancel-all outlived it (a connect or send
  # completing during the drain must not arm a receive or the next send), and every buffer
  # and slot came back.
  local line
  line=$(grep -E 'shutdown: [0-9]+ requests in flight' "$log" | tail -n 1)
  grep -Eq ' 0 left; 0 TUN and 0 UDP buffers held, 0 tx slots in use' <<<"$line" ||
    netns_fail "ringtun $side: requests, buffers or slots left at shutdown: $line"
  netns_poll "ringtun_released '$ns' &&
    [ -z \"\$(ip netns exec '$ns' ss -Hltn 'sport = :$TUN_PORT' 2>/dev/null)\" ]" 2 ||
    netns_fail "ringtun $side exited but its TUN, UDP port or TCP listener is still there"
}
