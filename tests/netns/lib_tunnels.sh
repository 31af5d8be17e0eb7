# shellcheck shell=bash disable=SC2034  # sets variables for the tests that source it
# Tunnel endpoints for netns tests: keys, ringtun configs, wireguard-go and ringtun started in
# a namespace, and ready-made pairs over netns_pair's veth. Sourced by lib.sh (needs its
# NETNS_TMP, netns_track, wait_for_*); not meant to be sourced on its own.
#
# Tunnel addresses of every pair: A = TUN_A4/24 TUN_A6/64, B = TUN_B4/24 TUN_B6/64, MTU 1420,
# UDP port 51820 on both outer addresses.

TUN_MTU=1420
TUN_PORT=51820

# Writes $NETNS_TMP/NAME.key (mode 0600) and NAME.pub, with wg(8) or $KEYGEN (same format).
make_keypair() {
  local keygen=${KEYGEN:-wg}
  (umask 077 && "$keygen" genkey >"$NETNS_TMP/$1.key") || netns_fail "$keygen genkey"
  "$keygen" pubkey <"$NETNS_TMP/$1.key" >"$NETNS_TMP/$1.pub" || netns_fail "$keygen pubkey"
}

# Writes $NETNS_TMP/NAME.psk (mode 0600).
make_psk() {
  (umask 077 && wg genpsk >"$NETNS_TMP/$1.psk") || netns_fail "wg genpsk"
}

# Sets MTU, adds each ADDR (IPv6 without DAD) and brings IFNAME up.
link_setup() {
  local ns=$1 ifname=$2 mtu=$3 addr
  shift 3
  ip -n "$ns" link set dev "$ifname" mtu "$mtu" || return 1
  for addr in "$@"; do
    case $addr in
      *:*) ip -n "$ns" addr add "$addr" dev "$ifname" nodad || return 1 ;;
      *) ip -n "$ns" addr add "$addr" dev "$ifname" || return 1 ;;
    esac
  done
  ip -n "$ns" link set dev "$ifname" up
}

# Starts wireguard-go for IFNAME in NS, in the foreground (-f) so the PID stays ours; sets
# WGGO_PID. Debian's 0.0.20220316 needs no environment variable on Linux;
# WG_PROCESS_FOREGROUND=1 only silences its "use the kernel module" banner. Its UAPI socket
# is /var/run/wireguard/IFNAME.sock, shared by all namespaces: use netns_ifname for IFNAME.
# Log: LOGFILE or $NETNS_TMP/wggo-IFNAME.log; level $WGGO_LOG_LEVEL (verbose|error|silent).
# $WIREGUARD_GO names another build (default: wireguard-go from PATH).
start_wireguard_go() {
  local ns=$1 ifname=$2 log=${3:-$NETNS_TMP/wggo-$2.log}
  local sock="/var/run/wireguard/$ifname.sock"
  [ ${#ifname} -le 15 ] || netns_fail "interface name '$ifname' is too long"
  [ -e "$sock" ] && netns_fail "$sock exists: another wireguard-go uses the name $ifname"
  echo "$ifname" >>"$NETNS_TMP/wg_ifnames"
  ip netns exec "$ns" env WG_PROCESS_FOREGROUND=1 LOG_LEVEL="${WGGO_LOG_LEVEL:-verbose}" \
    "${WIREGUARD_GO:-wireguard-go}" -f "$ifname" >>"$log" 2>&1 &
  WGGO_PID=$!
  netns_track "$WGGO_PID"
  netns_poll "[ -S '$sock' ] || ! netns_alive $WGGO_PID" 10
  netns_alive "$WGGO_PID" && [ -S "$sock" ] && wait_for_link "$ns" "$ifname" 5 ||
    { tail -n 20 "$log" >&2; netns_fail "wireguard-go $ifname did not start in $ns"; }
}

# wg set IFNAME private-key … listen-port … peer PEER_PUB [endpoint ENDPOINT] allowed-ips …
# [preshared-key PSK_FILE]. ENDPOINT "" or "-": none (the peer is learnt from its handshake).
wg_configure() {
  local ns=$1 ifname=$2 key=$3 port=$4 pub=$5 endpoint=$6 allowed=$7 psk=${8:-}
  local args=(set "$ifname" private-key "$key" listen-port "$port" peer "$pub"
    allowed-ips "$allowed")
  [ -n "$endpoint" ] && [ "$endpoint" != - ] && args+=(endpoint "$endpoint")
  [ -n "$psk" ] && args+=(preshared-key "$psk")
  ip netns exec "$ns" wg "${args[@]}" || netns_fail "wg ${args[*]}"
}

# Writes a ringtun config with one peer. KEY=VALUE arguments; lists are comma-separated:
#   interface: name private_key_file listen_port listen_tcp_port address mtu control_socket user
# control_socket defaults to false here: the UAPI socket path (/var/run/wireguard/NAME.sock)
# is shared by every namespace, and the pairs use one name on both sides. Tests of the socket
# pass control_socket=true with a name from netns_ifname.
#   peer:      public_key preshared_key_file endpoint allowed_ips persistent_keepalive transport
#   ring.KEY=RAW_TOML_VALUE  goes to [ring] as written
#   offload.KEY=VALUE        goes to [offload] as a string (auto, on, off)
ringtun_config() {
  local out=$1 kv key value iface="" peer="" ring="" offload="" control=false
  shift
  for kv in "$@"; do
    key=${kv%%=*} value=${kv#*=}
    case $key in
      address | allowed_ips) value="[$(echo "$value" | sed 's/[^,][^,]*/"&"/g; s/,/, /g')]" ;;
      listen_port | listen_tcp_port | mtu | persistent_keepalive | ring.* | control_socket) ;;
      *) value="\"$value\"" ;;
    esac
    case $key in
      name | private_key_file | listen_port | listen_tcp_port | address | mtu | user)
        iface+="$key = $value"$'\n' ;;
      control_socket) control=$value ;;
      public_key | preshared_key_file | endpoint | allowed_ips | persistent_keepalive | transport)
        peer+="$key = $value"$'\n' ;;
      ring.*) ring+="${key#ring.} = $value"$'\n' ;;
      offload.*) offload+="${key#offload.} = $value"$'\n' ;;
      *) netns_fail "ringtun_config: unknown key $key" ;;
    esac
  done
  # RINGTUN_BACKEND (io_uring or epoll) runs every ringtun of a test on that backend.
  [ -n "${RINGTUN_BACKEND:-}" ] && ring="backend = \"$RINGTUN_BACKEND\""$'\n'"$ring"
  {
    printf '[interface]\n%scontrol_socket = %s\n' "$iface" "$control"
    [ -n "$ring" ] && printf '\n[ring]\n%s' "$ring"
    [ -n "$offload" ] && printf '\n[offload]\n%s' "$offload"
    printf '\n[[peer]]\n%s' "$peer"
  } >"$out"
}

# True when $RINGTUN has the `run` command.
ringtun_has_run() {
  [ -n "${RINGTUN:-}" ] && [ -x "$RINGTUN" ] &&
    grep -q '^  run' <<<"$("$RINGTUN" --help 2>/dev/null)"
}

netns_require_ringtun_run() {
  [ -n "${RINGTUN:-}" ] || netns_fail "RINGTUN (path to the ringtun binary) is not set"
  ringtun_has_run || netns_skip "$RINGTUN has no 'run' command yet"
}

# Starts `$RINGTUN run CONFIG` in NS in the background, stdout and stderr to LOGFILE; sets
# RINGTUN_PID (the daemon itself: ip netns exec execs it). A LAUNCHER command (e.g. prlimit
# --nofile=64:64) runs ringtun; it must exec it, so that the PID stays the daemon's.
#   start_ringtun NS CONFIG LOGFILE [LAUNCHER...]
start_ringtun() {
  local ns=$1 config=$2 log=$3
  shift 3
  : "${RINGTUN:?path to the ringtun binary}"
  ip netns exec "$ns" "$@" "$RINGTUN" run "$config" >>"$log" 2>&1 &
  RINGTUN_PID=$!
  netns_track "$RINGTUN_PID"
}

# Starts ringtun for side SIDE (a, b, c) in NS_<SIDE> from CONFIG (default, or when "":
# $NETNS_TMP/ringtun-SIDE.toml, what ringtun_side_config writes), logging to
# $NETNS_TMP/ringtun-SIDE.log, under LAUNCHER as start_ringtun runs it (e.g. prlimit
# --nofile=64:64); sets RINGTUN_PID_<SIDE>. Does not wait: ringtun_side_wait does.
#   ringtun_side_start SIDE [CONFIG [LAUNCHER...]]
ringtun_side_start() {
  local side=$1 config=${2:-} ns=NS_${1^^}
  shift $(($# < 2 ? $# : 2))
  start_ringtun "${!ns}" "${config:-$NETNS_TMP/ringtun-$side.toml}" \
    "$NETNS_TMP/ringtun-$side.log" "$@"
  printf -v "RINGTUN_PID_${side^^}" %s "$RINGTUN_PID"
}

# wait_for_ringtun for side SIDE started by ringtun_side_start: until RINGTUN_PID_<SIDE> has
# put TUN_<SIDE>4 on RT_IF in NS_<SIDE> (TIMEOUT as there).
#   ringtun_side_wait SIDE [TIMEOUT]
ringtun_side_wait() {
  local side=${1^^}
  local ns=NS_$side pid=RINGTUN_PID_$side addr=TUN_${side}4
  wait_for_ringtun "${!ns}" "${!pid}" "$NETNS_TMP/ringtun-$1.log" "${!addr}" "${2:-10}"
}

# Waits up to TIMEOUT (default 10) seconds until the ringtun PID has put ADDR on RT_IF in
# NS; fails with the log's tail when it exits first or does not get there.
wait_for_ringtun() {
  local ns=$1 pid=$2 log=$3 addr=$4 timeout=${5:-10}
  netns_poll "grep -q ' $addr/' <<<\"\$(ip -n '$ns' -o addr show dev '$RT_IF' 2>/dev/null)\" ||
    ! netns_alive $pid" "$timeout"
  if ! netns_alive "$pid" || ! wait_for_addr "$ns" "$RT_IF" "$addr" 0; then
    tail -n 20 "$log" >&2
    netns_fail "ringtun (pid $pid) did not bring up $RT_IF with $addr in $ns"
  fi
}

# wireguard-go in both namespaces (WG_A in NS_A, WG_B in NS_B), configured for each other.
# With PSK_FILE both use it. Sets WG_A, WG_B, WGGO_PID_A, WGGO_PID_B.
wggo_pair() {
  local psk=${1:-}
  WG_A=$(netns_ifname wa) WG_B=$(netns_ifname wb)
  make_keypair wga
  make_keypair wgb
  start_wireguard_go "$NS_A" "$WG_A"
  WGGO_PID_A=$WGGO_PID
  start_wireguard_go "$NS_B" "$WG_B"
  WGGO_PID_B=$WGGO_PID
  wg_configure "$NS_A" "$WG_A" "$NETNS_TMP/wga.key" $TUN_PORT "$(cat "$NETNS_TMP/wgb.pub")" \
    "$OUTER_B4:$TUN_PORT" "$TUN_B4/32,$TUN_B6/128" "$psk"
  wg_configure "$NS_B" "$WG_B" "$NETNS_TMP/wgb.key" $TUN_PORT "$(cat "$NETNS_TMP/wga.pub")" \
    "$OUTER_A4:$TUN_PORT" "$TUN_A4/32,$TUN_A6/128" "$psk"
  link_setup "$NS_A" "$WG_A" $TUN_MTU "$TUN_A4/24" "$TUN_A6/64" || netns_fail "set up $WG_A"
  link_setup "$NS_B" "$WG_B" $TUN_MTU "$TUN_B4/24" "$TUN_B6/64" || netns_fail "set up $WG_B"
}

# Writes $NETNS_TMP/ringtun-SIDE.toml for side a or b of a pair; TRANSPORT udp or tcp (for
# tcp, A's peer entry says transport = "tcp" and B listens on TCP; B has no endpoint for A);
# the endpoint is the other side's outer address of FAMILY 4 or 6 ("[fd99::2]:51820").
# EXTRA ringtun_config arguments (e.g. ring.tcp_max_connections=64) are added as they are;
# an EXTRA mtu=N replaces the default TUN_MTU.
#   ringtun_side_config SIDE [TRANSPORT (udp) [FAMILY (4) [EXTRA...]]]
ringtun_side_config() {
  local side=$1 transport=${2:-udp} family=${3:-4} other ip4 ip6 peer4 peer6 outer
  shift $(($# < 3 ? $# : 3))
  case $family in 4 | 6) ;; *) netns_fail "ringtun_side_config: family '$family'" ;; esac
  if [ "$side" = a ]; then
    other=b ip4=$TUN_A4 ip6=$TUN_A6 peer4=$TUN_B4 peer6=$TUN_B6
  else
    other=a ip4=$TUN_B4 ip6=$TUN_B6 peer4=$TUN_A4 peer6=$TUN_A6
  fi
  outer=OUTER_${other^^}$family
  outer=${!outer}
  [ "$family" = 4 ] || outer="[$outer]"
  local args=(name="$RT_IF" private_key_file="$NETNS_TMP/rt$side.key" listen_port="$TUN_PORT"
    address="$ip4/24,$ip6/64" public_key="$(cat "$NETNS_TMP/rt$other.pub")"
    allowed_ips="$peer4/32,$peer6/128")
  [[ " $* " == *" mtu="* ]] || args+=(mtu="$TUN_MTU")
  # Side A serves `wg` when RT_CONTROL_A=1 (RT_IF must then be a netns_ifname).
  [ "$side" = a ] && [ "${RT_CONTROL_A:-0}" = 1 ] && args+=(control_socket=true)
  if [ "$transport" = tcp ]; then
    if [ "$side" = a ]; then
      args+=(endpoint="$outer:$TUN_PORT" transport=tcp)
    else
      args+=(listen_tcp_port="$TUN_PORT")
    fi
  else
    args+=(endpoint="$outer:$TUN_PORT")
  fi
  ringtun_config "$NETNS_TMP/ringtun-$side.toml" "${args[@]}" "$@"
}

# ringtun in both namespaces, TUN RT_IF (default rtb0); TRANSPORT udp (default) or tcp; the
# endpoints on the outer addresses of FAMILY 4 (default) or 6; EXTRA ringtun_config arguments
# for both sides. Waits until both TUNs carry their addresses. Sets RINGTUN_PID_A,
# RINGTUN_PID_B; logs in $NETNS_TMP/ringtun-a.log and ringtun-b.log.
#   ringtun_pair [TRANSPORT [FAMILY [EXTRA...]]]
ringtun_pair() {
  local transport=${1:-udp} family=${2:-4}
  shift $(($# < 2 ? $# : 2))
  RT_IF=${RT_IF:-rtb0}
  make_keypair rta
  make_keypair rtb
  ringtun_side_config a "$transport" "$family" "$@"
  ringtun_side_config b "$transport" "$family" "$@"
  ringtun_side_start b
  ringtun_side_start a
  ringtun_side_wait a
  ringtun_side_wait b
}

# ringtun_wggo_pair with ringtun's UAPI socket on (RT_IF must then be a netns_ifname); waits
# until it serves /var/run/wireguard/RT_IF.sock.
ringtun_wggo_pair_with_socket() {
  local sock="/var/run/wireguard/$RT_IF.sock"
  ringtun_wggo_pair control_socket=true
  netns_poll "[ -S '$sock' ] || ! netns_alive $RINGTUN_PID_A" 5
  [ -S "$sock" ] || netns_fail "ringtun run serves no socket $sock"
}

# Starts ringtun B, then A, from the configs ringtun_side_config wrote
# ($NETNS_TMP/ringtun-{a,b}.toml), each waiting for its TUN to carry its address, so that A's
# first packets find B listening. Sets RINGTUN_PID_A, RINGTUN_PID_B.
start_sides_b_then_a() {
  ringtun_side_start b
  ringtun_side_wait b
  ringtun_side_start a
  ringtun_side_wait a
}

# ringtun in NS_A (RT_IF), wireguard-go in NS_B (WG_B), over UDP; EXTRA ringtun_config
# arguments for A (e.g. control_socket=true). Sets RINGTUN_PID_A, WGGO_PID_B.
ringtun_wggo_pair() {
  RT_IF=${RT_IF:-rtb0}
  WG_B=$(netns_ifname wb)
  make_keypair rta
  make_keypair rtb
  start_wireguard_go "$NS_B" "$WG_B"
  WGGO_PID_B=$WGGO_PID
  wg_configure "$NS_B" "$WG_B" "$NETNS_TMP/rtb.key" $TUN_PORT "$(cat "$NETNS_TMP/rta.pub")" \
    "$OUTER_A4:$TUN_PORT" "$TUN_A4/32,$TUN_A6/128"
  link_setup "$NS_B" "$WG_B" $TUN_MTU "$TUN_B4/24" "$TUN_B6/64" || netns_fail "set up $WG_B"
  ringtun_side_config a udp 4 "$@"
  ringtun_side_start a
  ringtun_side_wait a
}
