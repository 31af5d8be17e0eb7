# shellcheck shell=bash
# Network-namespace test library: two namespaces over veth, processes started inside them,
# and a cleanup that always runs. Sourced by tests/netns/*.sh and bench/run.sh:
#
#   source "$(dirname "$0")/lib.sh"
#   netns_require wireguard-go iperf3     # exit 77 (CTest skip) without root, TUN, netns, tools
#   netns_pair                            # NS_A 10.99.0.1/24 fd99::1/64 <-veth-> NS_B .2 / ::2
#   netns_pair c d                        # another such pair, in namespaces ending c and d
#
# Sourcing registers EXIT/INT/TERM/HUP traps that kill every process started through the lib
# and delete every namespace it created, also on failure or Ctrl-C. Do not replace those
# traps; add extra cleanup with netns_on_cleanup. Traffic goes only to loopback or to
# addresses inside the namespaces made here; every wait and every command is time-bounded.
#
# Names are unique per run (NETNS_ID = rt<pid>), so parallel runs do not collide. That matters
# for wireguard-go: its UAPI socket /var/run/wireguard/IFNAME.sock is not per namespace.
#
# Also sourced from here: lib_tunnels.sh (keys, configs, wireguard-go and ringtun pairs),
# lib_traffic.sh (ping, iperf3, byte transfers and paced streams with SHA-256), lib_daemon.sh
# (ringtun's statistics and stopping), lib_tcp.sh (the TCP transport's tests) and
# lib_faults.sh (the fault suite: traffic timed through an outage, bounds asserted).

if [ -n "${NETNS_LIB_LOADED:-}" ]; then return 0; fi
NETNS_LIB_LOADED=1
NETNS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

NETNS_ID="rt$$"
NETNS_OWNER=$BASHPID
NETNS_TMP=$(mktemp -d "/tmp/ringtun-$NETNS_ID.XXXXXX")
NETNS_CLEANED=0
NETNS_FG_PID=""
NETNS_HOOKS=()
# Outer (veth) and tunnel addresses used by netns_pair and the tunnel pairs.
OUTER_A4=10.99.0.1 OUTER_B4=10.99.0.2 OUTER_A6=fd99::1 OUTER_B6=fd99::2
TUN_A4=10.100.0.1 TUN_B4=10.100.0.2 TUN_A6=fd00:100::1 TUN_B6=fd00:100::2
# A third namespace, NS_C, joined to NS_A or NS_B by netns_add_c: the A-C or B-C veth and C's
# tunnel address.
# shellcheck disable=SC2034  # TUN_C4 is for the tests
OUTER_A4_C=10.98.0.1 OUTER_B4_C=10.98.0.2 OUTER_C4=10.98.0.3 TUN_C4=10.100.0.3
NS_A="" NS_B="" NS_C=""

netns_log() { echo "[netns] $*" >&2; }
netns_fail() {
  echo "FAIL: $*" >&2
  exit 1
}
netns_skip() {
  echo "SKIP: $*" >&2
  exit 77
}

# Runs CMD... (one string, eval'd) during cleanup, before processes are killed.
netns_on_cleanup() { NETNS_HOOKS+=("$1"); }

# "rt<pid><SUFFIX>": an interface or object name unique to this run (interface names <= 15).
# SUFFIX must start with a letter, so rt12 + "a" never looks like another run's rt123.
netns_ifname() {
  local name="${NETNS_ID}$1"
  [[ $1 =~ ^[a-z] ]] || netns_fail "netns_ifname: '$1' does not start with a letter"
  [ ${#name} -le 15 ] || netns_fail "interface name '$name' is longer than 15 characters"
  echo "$name"
}

# Exits 77 unless root, /dev/net/tun, `ip netns`, veth and TUN creation all work and every
# CMD given is installed.
netns_require() {
  local cmd probe="${NETNS_ID}probe"
  [ "$(id -u)" -eq 0 ] || netns_skip "needs root"
  [ -c /dev/net/tun ] || netns_skip "no /dev/net/tun"
  for cmd in ip python3 timeout "$@"; do
    command -v "$cmd" >/dev/null || netns_skip "$cmd is not installed"
  done
  ip netns add "$probe" 2>/dev/null || netns_skip "cannot create network namespaces"
  echo "$probe" >>"$NETNS_TMP/namespaces"
  ip -n "$probe" link add p0 type veth peer name p1 2>/dev/null || netns_skip "cannot create veth"
  ip -n "$probe" tuntap add mode tun name t0 2>/dev/null || netns_skip "cannot create a TUN device"
  ip netns del "$probe"
}

# Creates namespace NAME with lo up, remembered for cleanup.
netns_add() {
  echo "$1" >>"$NETNS_TMP/namespaces"
  ip netns add "$1" || netns_fail "ip netns add $1"
  ip -n "$1" link set lo up
}

# NS_A and NS_B joined by veth0 <-> veth0, with OUTER_* addresses (IPv6 without DAD). Their
# names end in SUFFIX_A and SUFFIX_B (default a and b; another pair beside the first, e.g.
# `netns_pair c d`, gets the same addresses in namespaces of its own).
netns_pair() {
  NS_A="${NETNS_ID}${1:-a}"
  NS_B="${NETNS_ID}${2:-b}"
  netns_add "$NS_A"
  netns_add "$NS_B"
  ip -n "$NS_A" link add veth0 type veth peer name veth0 netns "$NS_B" ||
    netns_fail "cannot create the veth pair"
  ip -n "$NS_A" addr add "$OUTER_A4/24" dev veth0
  ip -n "$NS_A" addr add "$OUTER_A6/64" dev veth0 nodad
  ip -n "$NS_B" addr add "$OUTER_B4/24" dev veth0
  ip -n "$NS_B" addr add "$OUTER_B6/64" dev veth0 nodad
  ip -n "$NS_A" link set veth0 up
  ip -n "$NS_B" link set veth0 up
  wait_for_carrier "$NS_A" veth0 5 && wait_for_carrier "$NS_B" veth0 5 ||
    netns_fail "veth0 did not come up"
}

# NS_C joined to NS_<SIDE> (a, the default, or b) by veth1 <-> veth1 (SIDE OUTER_<SIDE>4_C/24,
# C OUTER_C4/24); after netns_pair.
#   netns_add_c [SIDE]
netns_add_c() {
  local side=${1:-a}
  local ns=NS_${side^^} addr=OUTER_${side^^}4_C
  NS_C="${NETNS_ID}c"
  netns_add "$NS_C"
  ip -n "${!ns}" link add veth1 type veth peer name veth1 netns "$NS_C" ||
    netns_fail "cannot create the veth pair ${side^^}-C"
  ip -n "${!ns}" addr add "${!addr}/24" dev veth1
  ip -n "$NS_C" addr add "$OUTER_C4/24" dev veth1
  ip -n "${!ns}" link set veth1 up
  ip -n "$NS_C" link set veth1 up
  wait_for_carrier "${!ns}" veth1 5 && wait_for_carrier "$NS_C" veth1 5 ||
    netns_fail "veth1 did not come up"
}

# Remembers a background PID for cleanup.
netns_track() { echo "$1" >>"$NETNS_TMP/pids"; }

# True while PID exists and is not a zombie.
netns_alive() {
  local st
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  st=${st##*) }
  [ "${st%% *}" != Z ]
}

# Sends SIGNAL (default TERM) to PID and waits up to TIMEOUT (default 5) seconds for it to
# exit. Returns its exit status when it is our child, 124 when it had to be SIGKILLed.
stop_process() {
  local pid=$1 timeout=${2:-5} sig=${3:-TERM} i rc=0
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 10; i++)); do
    netns_alive "$pid" || break
    sleep 0.1
  done
  if netns_alive "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 124
  fi
  wait "$pid" 2>/dev/null || rc=$?
  return $rc
}

# Runs CMD... for at most SECS seconds (SIGKILL 3 s later) in the background and waits for
# it, so a signal to this shell is handled at once. Returns CMD's status, 124 on timeout.
netns_run_bounded() {
  local secs=$1 rc=0
  shift
  timeout -k 3 "$secs" "$@" &
  NETNS_FG_PID=$!
  wait "$NETNS_FG_PID" || rc=$?
  NETNS_FG_PID=""
  return $rc
}

# Polls CONDITION (eval'd) every 0.1 s for up to TIMEOUT seconds.
netns_poll() {
  local cond=$1 timeout=$2 i
  for ((i = 0; i <= timeout * 10; i++)); do
    eval "$cond" && return 0
    sleep 0.1
  done
  return 1
}

# Wall-clock milliseconds, for measuring how long something took.
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# Waits until LOGFILE has a line matching REGEX (grep -E). With PID, fails early when that
# process exits. Prints the log's tail on failure.
wait_for_log() {
  local log=$1 re=$2 timeout=$3 pid=${4:-} i
  for ((i = 0; i <= timeout * 10; i++)); do
    grep -Eq -- "$re" "$log" 2>/dev/null && return 0
    if [ -n "$pid" ] && ! netns_alive "$pid"; then
      netns_log "process $pid exited before logging /$re/; $log:"
      tail -n 20 "$log" >&2 2>/dev/null
      return 1
    fi
    sleep 0.1
  done
  netns_log "no /$re/ in $log after ${timeout}s; its tail:"
  tail -n 20 "$log" >&2 2>/dev/null
  return 1
}

wait_for_link() {
  netns_poll "ip -n '$1' link show dev '$2' >/dev/null 2>&1" "$3" ||
    { netns_log "no link $2 in $1 after ${3}s"; return 1; }
}

wait_for_carrier() {
  netns_poll "grep -q LOWER_UP <<<\"\$(ip -n '$1' link show dev '$2' 2>/dev/null)\"" "$3" ||
    { netns_log "link $2 in $1 not up after ${3}s"; return 1; }
}

# Waits until IFNAME in NS carries ADDR (no prefix length).
wait_for_addr() {
  netns_poll "grep -q ' $3/' <<<\"\$(ip -n '$1' -o addr show dev '$2' 2>/dev/null)\"" "$4" ||
    { netns_log "no address $3 on $2 in $1 after ${4}s"; return 1; }
}

# True when PID is a child of this shell or runs in one of our namespaces: a remembered PID
# may have been reused by an unrelated process, which must never be signalled.
netns_ours() {
  local st ns
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  st=${st##*) }
  # shellcheck disable=SC2086  # split the stat fields
  set -- "$1" $st
  [ "$2" != Z ] || return 1
  [ "$3" = "$NETNS_OWNER" ] && return 0
  ns=$(ip netns identify "$1" 2>/dev/null) || return 1
  [ -n "$ns" ] && grep -qxF "$ns" "$NETNS_TMP/namespaces" 2>/dev/null
}

netns_namespaces() { sort -u "$NETNS_TMP/namespaces" 2>/dev/null; }

netns_kill_all() {
  local pid pids=() ns i left
  [ -n "$NETNS_FG_PID" ] && pids+=("$NETNS_FG_PID")
  [ -f "$NETNS_TMP/pids" ] && mapfile -t -O ${#pids[@]} pids <"$NETNS_TMP/pids"
  for pid in "${pids[@]}"; do
    netns_ours "$pid" && kill -TERM "$pid" 2>/dev/null
  done
  for ((i = 0; i < 50; i++)); do
    left=0
    for pid in "${pids[@]}"; do netns_alive "$pid" && netns_ours "$pid" && left=1; done
    [ $left -eq 0 ] && break
    sleep 0.1
  done
  for ns in $(netns_namespaces); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
  done
  for pid in "${pids[@]}"; do
    netns_ours "$pid" && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  for ((i = 0; i < 30; i++)); do
    left=0
    for ns in $(netns_namespaces); do
      [ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && left=1
    done
    [ $left -eq 0 ] && break
    sleep 0.1
  done
  return 0
}

# Kills what the lib started, deletes its namespaces, wireguard-go sockets and temp files.
# Idempotent; runs from the EXIT trap and may also be called directly.
netns_cleanup() {
  [ "$NETNS_CLEANED" = 1 ] && return 0
  [ "$BASHPID" = "$NETNS_OWNER" ] || return 0
  NETNS_CLEANED=1
  local hook ns ifname errexit=0
  case $- in *e*) errexit=1 && set +e ;; esac
  for hook in "${NETNS_HOOKS[@]}"; do eval "$hook" || true; done
  netns_kill_all
  for ns in $(netns_namespaces); do
    [ -e "/var/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null
  done
  if [ -f "$NETNS_TMP/wg_ifnames" ]; then
    while read -r ifname; do rm -f "/var/run/wireguard/$ifname.sock"; done <"$NETNS_TMP/wg_ifnames"
  fi
  if [ "${NETNS_KEEP_TMP:-0}" = 1 ]; then
    netns_log "kept $NETNS_TMP"
  else
    rm -rf "$NETNS_TMP"
  fi
  [ $errexit -eq 1 ] && set -e
  return 0
}

# After netns_cleanup: fails when a namespace, process, socket or temp dir of ours is left.
netns_assert_clean() {
  local ns ifname
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    case $ns in "$NETNS_ID"[a-z]*) netns_fail "namespace $ns left behind" ;; esac
  done
  if grep -q ": ${NETNS_ID}[a-z]" <<<"$(ip -o link show 2>/dev/null)"; then
    netns_fail "an interface $NETNS_ID... left behind in the host namespace"
  fi
  for ifname in /var/run/wireguard/"$NETNS_ID"[a-z]*.sock; do
    [ -e "$ifname" ] && netns_fail "wireguard-go socket $ifname left behind"
  done
  if [ "${NETNS_KEEP_TMP:-0}" != 1 ] && [ -d "$NETNS_TMP" ]; then
    netns_fail "temp dir $NETNS_TMP left behind"
  fi
  return 0
}

# On failure, show the tail of every log the run wrote (CTest prints it with
# --output-on-failure; NETNS_DUMP_LOGS=0 turns that off), then clean up and keep the exit
# status.
netns_exit_trap() {
  local rc=$1 log
  trap - EXIT INT TERM HUP
  # Ctrl-C also kills a reader such as `| grep`; writing to it must not end the cleanup.
  trap '' PIPE
  set +e
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ "${NETNS_DUMP_LOGS:-1}" = 1 ] &&
    [ "$BASHPID" = "$NETNS_OWNER" ]; then
    for log in "$NETNS_TMP"/*.log; do
      [ -s "$log" ] || continue
      echo "---- ${log##*/} (last 30 lines)" >&2
      tail -n 30 "$log" >&2
    done
  fi
  netns_cleanup
  exit "$rc"
}

trap 'netns_exit_trap $?' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

source "$NETNS_LIB_DIR/lib_tunnels.sh"
source "$NETNS_LIB_DIR/lib_traffic.sh"
source "$NETNS_LIB_DIR/lib_daemon.sh"
source "$NETNS_LIB_DIR/lib_tcp.sh"
source "$NETNS_LIB_DIR/lib_faults.sh"

# The opening of every ringtun test: exit 77 unless the namespaces, TUN, each CMD given and a
# ringtun with `run` are available; keys are made with ringtun itself.
netns_ringtun_test() {
  netns_require "$@"
  netns_require_ringtun_run
  KEYGEN=$RINGTUN
}
