#!/usr/bin/env bash
# wg-quick with ringtun as its userspace implementation: in namespace A,
# `WG_QUICK_USERSPACE_IMPLEMENTATION=... wg-quick up A.conf` (Address, ListenPort,
# PrivateKey, one peer: wireguard-go in namespace B, AllowedIPs without a default route)
# runs `IMPL IFNAME` as on a machine without the wireguard module. IMPL is a wrapper that
# runs `$RINGTUN IFNAME` (daemon mode, wireguard-go's command line) as a child subreaper, so
# it learns the launcher's exit status (which it returns to wg-quick) and, later, the
# daemon's. Then: the TUN is up with wg-quick's addresses, MTU 1420 and routes; ping both
# ways over IPv4 and IPv6 and a short iperf3 through it; `wg show` reports a handshake; a
# second daemon-mode `ringtun IFNAME` (namespace B) fails without touching the live socket;
# `wg-quick down` removes the interface and the daemon exits with status 0 within 1 s,
# leaving no socket. Then the same again (up, traffic, down) with a new daemon.
# With RINGTUN_BACKEND=epoll the daemon runs under tests/tools/no_io_uring and must say it
# runs the epoll backend.
# Needs root, /dev/net/tun, ip netns, wireguard-go, wg, wg-quick, iperf3 and no wireguard
# kernel module (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test wireguard-go wg wg-quick iperf3

# wg-quick uses the userspace implementation only when `ip link add type wireguard` fails
# and there is no wireguard module; a module on disk would be loaded by that very command.
[ -e /sys/module/wireguard ] &&
  netns_skip "the wireguard kernel module is loaded: wg-quick would not use ringtun"
[ -n "$(find "/lib/modules/$(uname -r)" -name 'wireguard.ko*' 2>/dev/null | head -n 1)" ] &&
  netns_skip "a wireguard kernel module is installed: wg-quick would load and use it"

EXIT_WITHIN_MS=1000
IFQ=$(netns_ifname q)
SOCK=/var/run/wireguard/$IFQ.sock
CONF=$NETNS_TMP/$IFQ.conf
LOG=$NETNS_TMP/wg-quick.log
IMPL=$NETNS_TMP/ringtun-impl
# wireguard-go's command line names no file, so no [ring] backend: RINGTUN_BACKEND=epoll runs
# the daemon where io_uring is refused (tests/tools/no_io_uring), and "auto" falls back.
IMPL_LAUNCHER=""
if [ "${RINGTUN_BACKEND:-}" = epoll ]; then
  IMPL_LAUNCHER=${NO_IO_URING:?path to the no_io_uring launcher}
fi
echo "$IFQ" >>"$NETNS_TMP/wg_ifnames"

# The implementation wg-quick runs as `IMPL IFNAME`: runs `$RT_IMPL_BINARY IFNAME` and exits
# with its status once it exits. A child of IMPL stays behind as subreaper (the daemon the
# launcher leaves is reparented to it) and appends "PID STATUS" to $RT_IMPL_STATE/daemon.rc
# for each process it reaps. Also writes argv, launcher.rc and reaper.pid there.
cat >"$IMPL" <<'EOF'
#!/usr/bin/env python3
import ctypes
import os
import sys

PR_SET_CHILD_SUBREAPER = 36
binary, state = os.environ["RT_IMPL_BINARY"], os.environ["RT_IMPL_STATE"]
os.makedirs(state, exist_ok=True)


def record(name, text, append=False):
    fd = os.open(os.path.join(state, name),
                 os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC), 0o644)
    os.write(fd, text.encode())
    os.close(fd)


record("argv", " ".join(sys.argv[1:]) + "\n")
r, w = os.pipe()
if os.fork() == 0:
    os.close(r)
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        os.write(w, b"\xfe")
        os._exit(1)
    record("reaper.pid", f"{os.getpid()}\n")
    launcher = os.fork()
    if launcher == 0:
        os.close(w)
        try:
            # RT_IMPL_LAUNCHER runs the daemon under tests/tools/no_io_uring (the epoll run).
            launch = [os.environ["RT_IMPL_LAUNCHER"]] if os.environ.get("RT_IMPL_LAUNCHER") else []
            os.execv((launch or [binary])[0], launch + [binary] + sys.argv[1:])
        finally:
            os._exit(127)
    _, status = os.waitpid(launcher, 0)
    rc = os.waitstatus_to_exitcode(status)
    record("launcher.rc", f"{rc}\n")
    os.write(w, bytes([rc & 0xFF]))
    os.close(w)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        record("daemon.rc", f"{pid} {os.waitstatus_to_exitcode(status)}\n", append=True)
    os._exit(0)
os.close(w)
got = os.read(r, 1)
sys.exit(got[0] if got else 1)
EOF
chmod 755 "$IMPL"

netns_pair
make_keypair qa
make_keypair qb
WG_B=$(netns_ifname wb)
start_wireguard_go "$NS_B" "$WG_B"
wg_configure "$NS_B" "$WG_B" "$NETNS_TMP/qb.key" $TUN_PORT "$(cat "$NETNS_TMP/qa.pub")" \
  "$OUTER_A4:$TUN_PORT" "$TUN_A4/32,$TUN_A6/128"
link_setup "$NS_B" "$WG_B" $TUN_MTU "$TUN_B4/24" "$TUN_B6/64" || netns_fail "set up $WG_B"
(
  umask 077
  cat >"$CONF" <<EOF
[Interface]
Address = $TUN_A4/24, $TUN_A6/64
ListenPort = $TUN_PORT
PrivateKey = $(cat "$NETNS_TMP/qa.key")

[Peer]
PublicKey = $(cat "$NETNS_TMP/qb.pub")
Endpoint = $OUTER_B4:$TUN_PORT
AllowedIPs = $TUN_B4/32, $TUN_B6/128, 10.101.0.0/24
EOF
)
iperf3_server "$NS_B"

# wg-quick ACTION (up or down) in namespace A, its output and the daemon's log to LOG;
# STATE is the implementation's state directory for this round.
wg_quick() {
  local action=$1 state=$2 rc=0
  echo "---- wg-quick $action" >>"$LOG"
  netns_run_bounded 30 ip netns exec "$NS_A" env -u WG_PROCESS_FOREGROUND LOG_LEVEL=verbose \
    WG_QUICK_USERSPACE_IMPLEMENTATION="$IMPL" RT_IMPL_BINARY="$RINGTUN" RT_IMPL_STATE="$state" \
    RT_IMPL_LAUNCHER="$IMPL_LAUNCHER" \
    wg-quick "$action" "$CONF" >>"$LOG" 2>&1 || rc=$?
  [ $rc -eq 0 ] || { tail -n 20 "$LOG" >&2; netns_fail "wg-quick $action: status $rc"; }
}

# The processes the subreaper of STATE still has as children: the daemon(s).
daemon_pids() {
  local reaper
  reaper=$(cat "$1/reaper.pid" 2>/dev/null) || return 0
  ps -o pid= --ppid "$reaper" 2>/dev/null | tr -d ' ' || true
}

round() {
  local n=$1 state="$NETNS_TMP/impl-$1" pid link hs t0 ms down_ms rc json bps
  wg_quick up "$state"
  [ "$(cat "$state/argv")" = "$IFQ" ] ||
    netns_fail "round $n: wg-quick ran the implementation with '$(cat "$state/argv")'"
  [ "$(cat "$state/launcher.rc")" = 0 ] || netns_fail "round $n: launcher status $(cat "$state/launcher.rc")"
  pid=$(daemon_pids "$state")
  [ -n "$pid" ] && [ "$(wc -w <<<"$pid")" -eq 1 ] ||
    netns_fail "round $n: want one daemon left by the launcher, got '$pid'"
  [ "$(ip netns identify "$pid")" = "$NS_A" ] || netns_fail "round $n: daemon $pid not in $NS_A"
  [ -S "$SOCK" ] || netns_fail "round $n: no socket $SOCK"
  link=$(ip -n "$NS_A" -o link show dev "$IFQ") || netns_fail "round $n: no $IFQ"
  grep -q " mtu 1420 " <<<"$link" && grep -qE '<([^>]*,)?UP[,>]' <<<"$link" ||
    netns_fail "round $n: $IFQ is not up with MTU 1420: $link"
  wait_for_addr "$NS_A" "$IFQ" "$TUN_A4" 0 && wait_for_addr "$NS_A" "$IFQ" "$TUN_A6" 0 ||
    netns_fail "round $n: wg-quick's addresses are not on $IFQ"
  grep -q "10.101.0.0/24 dev $IFQ" <<<"$(ip -n "$NS_A" -4 route show)" ||
    netns_fail "round $n: no route 10.101.0.0/24 dev $IFQ (from the peer's allowed IPs)"
  echo "round $n: wg-quick up: daemon $pid, $IFQ up, mtu 1420, addresses and routes set"

  ping_ok "$NS_A" "$TUN_B4" 3 10 && ping_ok "$NS_A" "$TUN_B6" 3 10 &&
    ping_ok "$NS_B" "$TUN_A4" 3 10 && ping_ok "$NS_B" "$TUN_A6" 3 10 ||
    netns_fail "round $n: no ping both ways through $IFQ"
  json="$NETNS_TMP/iperf3-$n.json"
  iperf3_client "$NS_A" "$TUN_B4" -t 2 >"$json" || netns_fail "round $n: iperf3 failed"
  bps=$(iperf3_bps "$json") || netns_fail "round $n: no iperf3 result"
  [ "$bps" -gt 1000000 ] || netns_fail "round $n: iperf3 carried only $bps bit/s"
  hs=$(ip netns exec "$NS_A" wg show "$IFQ" latest-handshakes | awk '{print $2}')
  [ "${hs:-0}" -gt 0 ] || netns_fail "round $n: wg show $IFQ reports no handshake"
  grep -q "latest handshake" <<<"$(ip netns exec "$NS_A" wg show "$IFQ")" ||
    netns_fail "round $n: wg show $IFQ lists no latest handshake"
  echo "round $n: ping both ways (IPv4, IPv6), iperf3 $((bps / 1000000)) Mbit/s," \
    "handshake at $hs ($(($(date +%s) - hs)) s ago)"

  if [ "$n" = 1 ]; then
    # A second daemon-mode launcher for the same name must fail and leave the socket alone.
    local inode
    inode=$(stat -c %i "$SOCK")
    rc=0
    timeout -k 2 5 ip netns exec "$NS_B" env -u WG_PROCESS_FOREGROUND "$RINGTUN" "$IFQ" \
      >>"$NETNS_TMP/second.log" 2>&1 || rc=$?
    [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $rc -ne 137 ] ||
      netns_fail "a second 'ringtun $IFQ': status $rc, want a prompt failure"
    [ "$(stat -c %i "$SOCK" 2>/dev/null)" = "$inode" ] ||
      netns_fail "a second 'ringtun $IFQ' replaced or removed the live socket"
    netns_alive "$pid" || netns_fail "the daemon died when a second one was launched"
    ping_ok "$NS_A" "$TUN_B4" 1 5 || netns_fail "no ping after the second launcher"
    echo "second launcher for $IFQ: status $rc; the first daemon still serves"
  fi

  t0=$(now_ms)
  wg_quick down "$state"
  down_ms=$(($(now_ms) - t0))
  ! ip -n "$NS_A" link show dev "$IFQ" >/dev/null 2>&1 || netns_fail "round $n: $IFQ still exists"
  t0=$(now_ms)
  netns_poll "grep -q '^$pid ' '$state/daemon.rc' 2>/dev/null" 1 ||
    netns_fail "round $n: daemon $pid still runs ${EXIT_WITHIN_MS} ms after wg-quick down"
  ms=$(($(now_ms) - t0))
  rc=$(awk -v p="$pid" '$1 == p {print $2}' "$state/daemon.rc")
  [ "$rc" = 0 ] || netns_fail "round $n: daemon $pid exited with status $rc after wg-quick down"
  [ "$ms" -le $EXIT_WITHIN_MS ] || netns_fail "round $n: daemon took $ms ms to exit"
  [ ! -e "$SOCK" ] || netns_fail "round $n: $SOCK left behind"
  echo "round $n: wg-quick down ($down_ms ms): $IFQ gone, daemon exited 0 within $ms ms" \
    "of its end, socket gone"
}

round 1
round 2
if [ -n "$IMPL_LAUNCHER" ]; then
  grep -q 'running the epoll backend: io_uring refused' "$LOG" ||
    netns_fail "the daemon did not say it runs the epoll backend: $(grep -m1 'loop:' "$LOG")"
  echo "epoll: $(grep -m1 -o 'running the epoll backend: [^(]*' "$LOG")"
fi
netns_cleanup
netns_assert_clean
echo "wg_quick: ok"
