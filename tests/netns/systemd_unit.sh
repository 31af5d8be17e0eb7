#!/usr/bin/env bash
# ringtun's real unit under a real systemd: systemd 252 booted as PID 1 of fresh namespaces
# (cgroup, pid, mount, net, uts, ipc) on a host whose PID 1 is not systemd, the generated
# ringtun@.service installed in it with ExecStart/ExecReload naming $RINGTUN, and the
# interface rt<pid>s (the instance) served by it. Its peers are wireguard-go in namespaces B
# and C, each joined to the systemd namespace S by a veth. Asserted:
#   0. the unit's user, ringtun, made by systemd-sysusers from the package's sysusers.d file;
#      CONFDIR root:ringtun 0750 with the files root:ringtun 0640, as the package and
#      ringtun.toml(5) have them;
#   1. systemctl start -> active, StatusText "running; 1 peers, ..." and, once a ping went
#      through the tunnel, "... 1 with a session"; the daemon runs as ringtun with only
#      CAP_NET_ADMIN (it dropped CAP_NET_BIND_SERVICE: no port below 1024), no new privileges,
#      a seccomp filter; wg (root) talks to its socket in /run/wireguard (root:ringtun 1775);
#   2. systemctl reload with peer C added to CONFDIR/IF.toml -> 0; C is a peer when it
#      returns (synchronous) and pings; B's latest handshake unchanged;
#   3. systemctl reload with a broken file (a /33 prefix at a known line) -> non-zero; the
#      unit stays active with both peers, B's handshake unchanged, traffic flowing; the
#      journal has FILE:LINE:COL at priority err (3);
#   4. kill -STOP of MainPID -> the watchdog (WatchdogSec=10) aborts it and Restart=on-failure
#      (RestartSec=2) brings a new MainPID, active within 14 s of the STOP;
#   5. systemd-analyze security (online, in the booted systemd) -> exposure <= 2.4 (what the
#      unit had running as root: it must not get worse);
#   6. systemctl stop -> inactive within 1 s, the TUN gone, the socket file removed by the
#      daemon (the sticky directory lets ringtun remove its own).
# Times are printed.
#
# How systemd boots here (after /work/shared/docs/control-notes.md section 5): a cgroup2
# subtree of our own (mkdir in the cgroup2 mount, the launcher moved into it), then
# `script` (a pty for /dev/console) running `unshare --cgroup --pid --fork --mount --net
# --uts --ipc --kill-child` and the boot script below as PID 1, which builds the root and
# execs /lib/systemd/systemd --unit=ringtun-test.target with container=ringtun-test. Unlike
# the recipe's DefaultDependencies=no test units, ringtun@.service keeps its default
# dependencies (sysinit.target, basic.target), so the root is fenced so that nothing
# systemd or its units do can reach the host:
#   - / is an overlay of the host's / with its upper layer on a tmpfs (no write reaches the
#     host's /etc, /var or /tmp); /run and /tmp are tmpfs;
#   - empty tmpfs over /etc/systemd/system, the vendor *.target.wants of sysinit, sockets,
#     timers, multi-user and getty, and the generators: none of the host's enabled units
#     (tmpfiles, sysctl, binfmt, modules-load, timesyncd, apt timers...) is pulled in;
#   - /proc/sys and /proc/sysrq-trigger read-only, /sys a read-only sysfs of the new netns,
#     /dev a tmpfs with null zero full random urandom tty, a devpts instance and a node
#     /dev/net/tun (0666, as Debian's udev rules make it); the bounding set without CAP_SYS_MODULE, CAP_SYS_TIME, CAP_SYS_RAWIO and
#     CAP_SYSLOG (global sysctls, modules, the clock and the kernel log stay the host's).
# The cleanup (EXIT trap) kills the whole cgroup subtree (cgroup.kill: systemd, the
# services, the launcher), removes it, and lib.sh deletes the namespaces; the mounts die
# with the mount namespace. Every wait is bounded; the whole namespace is also killed by
# `timeout` after SD_LIFETIME seconds should this script itself be killed.
#
# Needs root, a writable cgroup2 hierarchy (not the host systemd's: exit 77 when PID 1 is
# systemd), systemd 252+ at /lib/systemd/systemd, unshare, nsenter, script, setpriv,
# overlayfs, wireguard-go and wg (exit 77 otherwise); RINGTUN = the ringtun binary,
# RINGTUN_UNIT = the unit CMake generated.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test wireguard-go wg unshare nsenter script setpriv findmnt
: "${RINGTUN_UNIT:?the generated unit (build/systemd/ringtun@.service)}"
[ -r "$RINGTUN_UNIT" ] || netns_fail "no unit $RINGTUN_UNIT"

SYSTEMD=/lib/systemd/systemd
SD_LIFETIME=180        # the namespace is killed after this many seconds whatever happens
START_BOUND_MS=10000   # systemctl start (the issue bounds only the later steps)
WATCHDOG_BOUND_MS=14000  # WatchdogSec + RestartSec + 2 s
STOP_BOUND_MS=1000
EXPOSURE_MAX=2.4  # the unit's as root; as ringtun it is 2.0

# ---- can systemd boot here? ---------------------------------------------------------------
[ -x "$SYSTEMD" ] || netns_skip "systemd is not installed ($SYSTEMD)"
sd_version=$("$SYSTEMD" --version 2>/dev/null | sed -n '1s/^systemd \([0-9]*\).*/\1/p')
[ "${sd_version:-0}" -ge 252 ] ||
  netns_skip "$SYSTEMD is not systemd 252 or later ('$sd_version')"
[ "$(cat /proc/1/comm 2>/dev/null)" != systemd ] ||
  netns_skip "PID 1 is systemd: this test boots its own systemd only where PID 1 is not" \
    "systemd (it would need a cgroup from the host's systemd, which it never touches)"
grep -qw overlay /proc/filesystems || modprobe -n overlay 2>/dev/null ||
  netns_skip "no overlayfs"
CG_MOUNT=$(findmnt -rn -t cgroup2 -o TARGET | head -n 1)
[ -n "$CG_MOUNT" ] || netns_skip "no cgroup2 hierarchy mounted"
cg_self=$(sed -n 's/^0:://p' /proc/self/cgroup)
CG="$CG_MOUNT${cg_self%/}/ringtun-sd-$NETNS_ID"
mkdir "$CG" 2>/dev/null || netns_skip "cannot create a cgroup2 subtree (no delegation): $CG"
SD_PID="" SD_LAUNCHER=""

# Kills everything in the subtree (systemd, its services, the launcher) and removes it.
sd_cleanup() {
  local i left
  [ -d "$CG" ] || return 0
  if [ -e "$CG/cgroup.kill" ]; then
    echo 1 >"$CG/cgroup.kill" 2>/dev/null
  else
    find "$CG" -name cgroup.procs -exec cat {} + 2>/dev/null |
      while read -r i; do kill -KILL "$i" 2>/dev/null; done
  fi
  if [ -n "$SD_LAUNCHER" ]; then
    netns_poll "! netns_alive $SD_LAUNCHER" 5 || kill -KILL "$SD_LAUNCHER" 2>/dev/null
  fi
  for ((i = 0; i < 50; i++)); do
    left=$(find "$CG" -name cgroup.procs -exec cat {} + 2>/dev/null)
    [ -z "$left" ] && break
    sleep 0.1
  done
  find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null
  [ -d "$CG" ] && netns_log "could not remove the cgroup $CG (left: $left)"
  return 0
}
netns_on_cleanup sd_cleanup
# shellcheck disable=SC2016  # expanded by the inner sh
timeout 5 sh -c 'echo $$ >"$1/cgroup.procs"' sh "$CG" 2>/dev/null ||
  netns_skip "cannot move a process into the cgroup2 subtree $CG (no delegation)"
timeout 5 unshare --cgroup --pid --fork --mount --net --uts --ipc --kill-child=SIGKILL true \
  2>/dev/null || netns_skip "unshare cannot create cgroup, pid, mount, net, uts and ipc namespaces"

# ---- the boot script (PID 1 until it execs systemd) ---------------------------------------
SD_DIR=$NETNS_TMP/sd
mkdir -p "$SD_DIR/mnt" "$SD_DIR/units"
cat >"$SD_DIR/boot.sh" <<'EOF'
#!/bin/bash
# PID 1 of the new namespaces: the fenced root (see systemd_unit.sh), then systemd.
set -eu
work=$1 log_level=$2
read -r hostpid _ </proc/self/stat   # still the host's /proc: our PID out there
echo "$hostpid" >"$work/pid1.tmp" && mv "$work/pid1.tmp" "$work/pid1"
mount --make-rprivate /
mount -t tmpfs -o mode=0755 sdroot "$work/mnt"
mkdir "$work/mnt/upper" "$work/mnt/work" "$work/mnt/root"
R=$work/mnt/root
mount -t overlay -o "lowerdir=/,upperdir=$work/mnt/upper,workdir=$work/mnt/work" overlay "$R"
[ "$(findmnt -n -o FSTYPE "$R")" = overlay ] || { echo "boot: no overlay on $R" >&2; exit 1; }
# Nothing of the host's enabled units, vendor target wants or generators.
for d in etc/systemd/system usr/lib/systemd/system-generators \
  usr/lib/systemd/system/sysinit.target.wants usr/lib/systemd/system/sockets.target.wants \
  usr/lib/systemd/system/timers.target.wants usr/lib/systemd/system/multi-user.target.wants \
  usr/lib/systemd/system/getty.target.wants; do
  [ -d "$R/$d" ] && mount -t tmpfs -o mode=0755 empty "$R/$d"
done
: >"$R/etc/fstab"
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
for p in sys sysrq-trigger; do
  [ -e "$R/proc/$p" ] || continue
  mount --bind "$R/proc/$p" "$R/proc/$p"
  mount -o remount,bind,ro "$R/proc/$p"
done
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
mount -t cgroup2 -o nsdelegate cgroup2 "$R/sys/fs/cgroup"
mount -t tmpfs -o mode=0755,nosuid dev "$R/dev"
for n in null zero full random urandom tty; do
  : >"$R/dev/$n"
  mount --bind "/dev/$n" "$R/dev/$n"
done
mkdir "$R/dev/pts" "$R/dev/shm" "$R/dev/net"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
ln -s /proc/self/fd "$R/dev/fd"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$R/dev/shm"
mknod -m 0666 "$R/dev/net/tun" c 10 200
: >"$R/dev/console"
mount --bind "$(tty)" "$R/dev/console"
mount -t tmpfs -o mode=0755,nosuid,nodev run "$R/run"
mkdir -p "$R/run/systemd/system" "$R/run/sysusers.d"
cp -r "$work/units/." "$R/run/systemd/system/"
cp "$work/sysusers.conf" "$R/run/sysusers.d/ringtun.conf"
mount -t tmpfs -o mode=1777,nosuid,nodev tmp "$R/tmp"
[ -e "$work/ringtun" ] && { mkdir -p "$R/usr/local/libexec/ringtun-test"; cp "$work/ringtun" "$R/usr/local/libexec/ringtun-test/"; }
cd "$R"
mkdir .oldroot
pivot_root . .oldroot
cd /
umount -l /.oldroot
rmdir /.oldroot
export container=ringtun-test
exec /lib/systemd/systemd --unit=ringtun-test.target --log-target=console --log-color=no \
  --log-level="$log_level" --show-status=no
EOF

cat >"$SD_DIR/units/ringtun-test.target" <<'EOF'
[Unit]
Description=ringtun test: systemd booted in namespaces
DefaultDependencies=no
Wants=systemd-journald.socket systemd-journald-dev-log.socket systemd-journald.service
After=systemd-journald.socket systemd-journald-dev-log.socket systemd-journald.service
EOF

# The unit under test: CMake's, its binary replaced by $RINGTUN. The service cannot see
# /tmp, /var/tmp, /home or /root (PrivateTmp=, ProtectHome=), nor the host's /run (a tmpfs
# there): a binary in one of those is copied into the overlay.
RT_REAL=$(realpath "$RINGTUN")
RT_BIN=$RT_REAL
case $RT_BIN in
  /tmp/* | /var/tmp/* | /home/* | /root/* | /run/*)
    cp "$RT_BIN" "$SD_DIR/ringtun"
    RT_BIN=/usr/local/libexec/ringtun-test/ringtun ;;
esac
SBIN=$(sed -n 's|^ExecStart=\(.*\)/ringtun run .*|\1|p' "$RINGTUN_UNIT")
[ -n "$SBIN" ] || netns_fail "no ExecStart=.../ringtun run in $RINGTUN_UNIT"
# The configuration directory the unit reads: ringtun/ in the build prefix's SYSCONFDIR
# (/usr/local/etc/ringtun for build/'s /usr/local, /etc/ringtun for /usr).
CONF_DIR=$(sed -n 's|^ExecStart=.* \(/[^ ]*\)/%i\.toml$|\1|p' "$RINGTUN_UNIT")
[ -n "$CONF_DIR" ] || netns_fail "no ExecStart=... DIR/%i.toml in $RINGTUN_UNIT"
sed "s|$SBIN/ringtun |$RT_BIN |" "$RINGTUN_UNIT" >"$SD_DIR/units/ringtun@.service"
echo "unit: $RINGTUN_UNIT installed as /run/systemd/system/ringtun@.service, changed lines:"
diff "$RINGTUN_UNIT" "$SD_DIR/units/ringtun@.service" | sed -n 's/^> /  /p' || true
# An ASan build: LeakSanitizer checks at exit by ptrace-attaching to the process's threads,
# which SystemCallFilter=@system-service denies (EPERM), so every exit of the daemon and of
# `ringtun reload` would be "LeakSanitizer has encountered a fatal error", status 1. For this
# test only, a drop-in turns leak detection off (no sandboxing setting is changed); the other
# netns tests run the same binary with leak detection outside systemd.
if grep -aq __asan_init "$RT_REAL"; then
  mkdir "$SD_DIR/units/ringtun@.service.d"
  cat >"$SD_DIR/units/ringtun@.service.d/asan.conf" <<'EOF'
# systemd_unit.sh, ASan builds only: LeakSanitizer needs ptrace, which the unit's
# SystemCallFilter=@system-service denies.
[Service]
Environment=ASAN_OPTIONS=detect_leaks=0
EOF
  echo "ASan build: test-only drop-in /run/systemd/system/ringtun@.service.d/asan.conf:"
  sed 's/^/  /' "$SD_DIR/units/ringtun@.service.d/asan.conf"
fi

# The unit's user, declared as the package declares it (installed to sysusers.d).
cp "$RINGTUN_SRC/packaging/sysusers/ringtun.conf" "$SD_DIR/sysusers.conf"

# ---- boot -----------------------------------------------------------------------------------
SD_CONSOLE=$NETNS_TMP/systemd-console.log
(
  echo "$BASHPID" >"$CG/cgroup.procs" || exit 1
  exec timeout -s KILL "$SD_LIFETIME" script -qefc "unshare --cgroup --pid --fork --mount \
--net --uts --ipc --kill-child=SIGKILL setpriv \
--bounding-set=-sys_module,-sys_time,-sys_rawio,-syslog bash $SD_DIR/boot.sh $SD_DIR ${SD_LOG_LEVEL:-info}" \
    "$SD_CONSOLE"
) </dev/null >/dev/null 2>&1 &
SD_LAUNCHER=$!
disown "$SD_LAUNCHER"  # the cleanup kills it: no "Killed" job report
t_boot=$(now_ms)
netns_poll "[ -s '$SD_DIR/pid1' ] || ! netns_alive $SD_LAUNCHER" 10
[ -s "$SD_DIR/pid1" ] || netns_fail "the namespace's PID 1 did not start"
SD_PID=$(cat "$SD_DIR/pid1")
grep -Eq "^NSpid:[[:space:]]+${SD_PID}[[:space:]]+1$" "/proc/$SD_PID/status" ||
  netns_fail "process $SD_PID is not PID 1 of a new pid namespace"

# CMD... inside systemd's namespaces (mount, pid, net, ...), bounded by SD_T (20) seconds.
sd() { timeout -k 2 "${SD_T:-20}" nsenter -t "$SD_PID" -a -- "$@"; }

netns_poll "[ \"\$(sd systemctl is-active ringtun-test.target 2>/dev/null)\" = active ] ||
  ! netns_alive $SD_PID" 30
[ "$(sd systemctl is-active ringtun-test.target 2>/dev/null)" = active ] ||
  netns_fail "systemd did not boot in the namespaces (console: $SD_CONSOLE)"
echo "booted: $(sd systemctl --version | head -n 1) as PID 1 of new namespaces in" \
  "$(($(now_ms) - t_boot)) ms; $(sd systemctl is-system-running 2>&1)"

# S: systemd's network namespace, named for ip -n and ip netns exec.
NS_S="${NETNS_ID}s"
echo "$NS_S" >>"$NETNS_TMP/namespaces"
ip netns attach "$NS_S" "$SD_PID" || netns_fail "ip netns attach $NS_S $SD_PID"

# ---- network: S - veth0 - B (wireguard-go), S - veth1 - C (wireguard-go) --------------------
NS_B="${NETNS_ID}b" NS_C="${NETNS_ID}c"
OUTER_S4_C=10.98.0.1 OUTER_C4=10.98.0.3 TUN_C4=10.100.0.3
netns_add "$NS_B"
netns_add "$NS_C"
ip -n "$NS_S" link add veth0 type veth peer name veth0 netns "$NS_B" || netns_fail "veth S-B"
ip -n "$NS_S" link add veth1 type veth peer name veth1 netns "$NS_C" || netns_fail "veth S-C"
ip -n "$NS_S" addr add "$OUTER_A4/24" dev veth0
ip -n "$NS_B" addr add "$OUTER_B4/24" dev veth0
ip -n "$NS_S" addr add "$OUTER_S4_C/24" dev veth1
ip -n "$NS_C" addr add "$OUTER_C4/24" dev veth1
for l in "$NS_S veth0" "$NS_B veth0" "$NS_S veth1" "$NS_C veth1"; do
  ip -n "${l% *}" link set "${l#* }" up
done
for l in "$NS_S veth0" "$NS_B veth0" "$NS_S veth1" "$NS_C veth1"; do
  wait_for_carrier "${l% *}" "${l#* }" 5 || netns_fail "${l#* } in ${l% *} did not come up"
done

make_keypair rts
make_keypair rtb
make_keypair rtc
PUB_S=$(cat "$NETNS_TMP/rts.pub") PUB_B=$(cat "$NETNS_TMP/rtb.pub") PUB_C=$(cat "$NETNS_TMP/rtc.pub")
WG_B=$(netns_ifname wb) WG_C=$(netns_ifname wc)
start_wireguard_go "$NS_B" "$WG_B"
wg_configure "$NS_B" "$WG_B" "$NETNS_TMP/rtb.key" $TUN_PORT "$PUB_S" "$OUTER_A4:$TUN_PORT" \
  "$TUN_A4/32"
link_setup "$NS_B" "$WG_B" $TUN_MTU "$TUN_B4/24" || netns_fail "set up $WG_B"
start_wireguard_go "$NS_C" "$WG_C"
wg_configure "$NS_C" "$WG_C" "$NETNS_TMP/rtc.key" $TUN_PORT "$PUB_S" "$OUTER_S4_C:$TUN_PORT" \
  "$TUN_A4/32"
link_setup "$NS_C" "$WG_C" $TUN_MTU "$TUN_C4/24" || netns_fail "set up $WG_C"

# ---- ringtun's files in the booted system -----------------------------------------------------
RT_IF=$(netns_ifname s)
UNIT="ringtun@$RT_IF.service"
ETC_TOML=$CONF_DIR/$RT_IF.toml
cat >"$NETNS_TMP/b.toml" <<EOF
[interface]
name = "$RT_IF"
private_key_file = "$CONF_DIR/$RT_IF.key"
listen_port = $TUN_PORT
address = ["$TUN_A4/24"]
mtu = $TUN_MTU
control_socket = true

[[peer]]
public_key = "$PUB_B"
endpoint = "$OUTER_B4:$TUN_PORT"
allowed_ips = ["$TUN_B4/32"]
EOF
cp "$NETNS_TMP/b.toml" "$NETNS_TMP/bc.toml"
cat >>"$NETNS_TMP/bc.toml" <<EOF

[[peer]]
public_key = "$PUB_C"
endpoint = "$OUTER_C4:$TUN_PORT"
allowed_ips = ["$TUN_C4/32"]
EOF
# Broken: C's prefix /33, at a known line.
sed "s|\"$TUN_C4/32\"|\"$TUN_C4/33\"|" "$NETNS_TMP/bc.toml" >"$NETNS_TMP/broken.toml"
BROKEN_LINE=$(grep -n "$TUN_C4/33" "$NETNS_TMP/broken.toml" | cut -d: -f1)
[ -n "$BROKEN_LINE" ] || netns_fail "no /33 in the broken file"

# ---- 0. the unit's user and its files ---------------------------------------------------------
# What the package's postinst does: systemd-sysusers with its sysusers.d file (the overlay's
# /etc/passwd, not the host's), CONFDIR root:ringtun 0750.
sd systemd-sysusers ringtun.conf || netns_fail "systemd-sysusers ringtun.conf"
RT_UID=$(sd id -u ringtun) || netns_fail "systemd-sysusers made no user ringtun"
sd install -d -o root -g ringtun -m 0750 "$CONF_DIR" || netns_fail "cannot make $CONF_DIR"
echo "0. systemd-sysusers: $(sd getent passwd ringtun); $CONF_DIR $(sd stat -c '%A %U:%G' "$CONF_DIR")"
# Writes FILE (on this side) to PATH inside the booted system: root's, group ringtun, 0640.
# shellcheck disable=SC2016  # expanded by the inner sh
sd_put() {
  sd sh -c 'umask 077 && cat >"$1" && chgrp ringtun "$1" && chmod 0640 "$1"' sh "$2" <"$1"
}
sd_put "$NETNS_TMP/rts.key" "$CONF_DIR/$RT_IF.key" || netns_fail "cannot write the key"
sd_put "$NETNS_TMP/b.toml" "$ETC_TOML" || netns_fail "cannot write $ETC_TOML"

prop() { sd systemctl show -p "$1" --value "$UNIT"; }
wg_s() { sd wg show "$RT_IF" "$@"; }
hs_of() { wg_s latest-handshakes | awk -v k="$1" '$1 == k {print $2}'; }
peers() { wg_s peers | sort | tr '\n' ' '; }
# On failure, the unit's journal and state go to the logs lib.sh prints.
sd_fail() {
  { sd journalctl -u "$UNIT" --no-pager -o short-monotonic; sd systemctl status "$UNIT"; } \
    >"$NETNS_TMP/unit-journal.log" 2>&1 || true
  netns_fail "$@"
}
# ping_ok from S, with the failure's context.
ping_s() { ping_ok "$NS_S" "$1" 3 10 || sd_fail "$2: no ping from S to $1 through $RT_IF"; }

# ---- 1. start --------------------------------------------------------------------------------
t0=$(now_ms)
SD_T=40 sd systemctl start "$UNIT" || sd_fail "systemctl start $UNIT failed"
start_ms=$(($(now_ms) - t0))
[ "$(prop ActiveState)" = active ] || sd_fail "$UNIT is $(prop ActiveState) after start"
status=$(prop StatusText)
[[ $status == "running; 1 peers"* ]] || sd_fail "StatusText after start: '$status'"
echo "1. systemctl start: ${start_ms} ms, MainPID $(prop MainPID), StatusText '$status'"
[ "$start_ms" -le $START_BOUND_MS ] || sd_fail "start took ${start_ms} ms"
# The sandbox is in force: user ringtun, only CAP_NET_ADMIN (bit 12: the daemon dropped
# CAP_NET_BIND_SERVICE, bit 10, which the unit grants for ports below 1024), nothing ambient
# left, no new privileges, a seccomp filter.
caps=$(sd grep -E '^(Uid|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' "/proc/$(prop MainPID)/status" |
  tr -s '\t ' ' ' | tr '\n' ' ')
want="Uid: $RT_UID $RT_UID $RT_UID $RT_UID CapEff: 0000000000001000 CapBnd: 0000000000001400 "
want+="CapAmb: 0000000000000000 NoNewPrivs: 1 Seccomp: 2 "
[[ $caps == *"$want"* ]] ||
  sd_fail "the daemon does not run sandboxed as the unit says: $caps (wanted $want)"
echo "   the daemon's /proc/PID/status: $caps"
sock=/run/wireguard/$RT_IF.sock
echo "   $(sd stat -c '%n %A %U:%G' /run/wireguard "$sock" | tr '\n' ';' | sed 's/;$//');" \
  "wg show (root): $(wg_s peers | wc -l) peer"
ip -n "$NS_S" link show dev "$RT_IF" >/dev/null || sd_fail "no TUN $RT_IF in S"
ping_s "$TUN_B4" "1"
t0=$(now_ms)
netns_poll "[[ \"\$(prop StatusText)\" == 'running; 1 peers, 1 with a session'* ]]" 12 ||
  sd_fail "StatusText never showed the session: '$(prop StatusText)'"
echo "   StatusText '$(prop StatusText)' $(($(now_ms) - t0)) ms after the ping"

# ---- 2. reload with peer C added ------------------------------------------------------------------
HS_B=$(hs_of "$PUB_B")
[ "${HS_B:-0}" -gt 0 ] || sd_fail "no handshake with B: '$HS_B'"
# A new handshake with B would show as another second.
sleep 1.1
sd_put "$NETNS_TMP/bc.toml" "$ETC_TOML"
t0=$(now_ms)
rc=0
out=$(sd systemctl reload "$UNIT" 2>&1) || rc=$?
reload_ms=$(($(now_ms) - t0))
[ $rc -eq 0 ] || sd_fail "systemctl reload (peer C added) exited $rc: $out"
got=$(peers)
[[ " $got " == *" $PUB_C "* ]] || sd_fail "C is not a peer when reload returned: $got"
ping_s "$TUN_B4" "2"
ping_s "$TUN_C4" "2"
hs_b=$(hs_of "$PUB_B") hs_c=$(hs_of "$PUB_C")
[ "$hs_b" = "$HS_B" ] || sd_fail "reload: B's latest handshake moved from $HS_B to $hs_b"
[ "${hs_c:-0}" -gt 0 ] || sd_fail "reload: no handshake with C"
echo "2. systemctl reload (C added): rc 0 in ${reload_ms} ms; B's latest handshake $HS_B" \
  "before, $hs_b after; C listed, handshake $hs_c; StatusText '$(prop StatusText)'"

# ---- 3. reload with a broken file ---------------------------------------------------------------
sd_put "$NETNS_TMP/broken.toml" "$ETC_TOML"
pid_before=$(prop MainPID)
t0=$(now_ms)
rc=0
out=$(sd systemctl reload "$UNIT" 2>&1) || rc=$?
reload_ms=$(($(now_ms) - t0))
[ $rc -ne 0 ] || sd_fail "systemctl reload of a broken file exited 0"
[ "$(prop ActiveState)" = active ] || sd_fail "$UNIT is $(prop ActiveState) after the bad reload"
[ "$(prop MainPID)" = "$pid_before" ] || sd_fail "MainPID changed in the bad reload"
want_peers=$(printf '%s\n' "$PUB_B" "$PUB_C" | sort | tr '\n' ' ')
[ "$(peers)" = "$want_peers" ] || sd_fail "peers after the bad reload: $(peers)"
ping_s "$TUN_B4" "3"
ping_s "$TUN_C4" "3"
hs_b=$(hs_of "$PUB_B")
[ "$hs_b" = "$HS_B" ] || sd_fail "bad reload: B's latest handshake moved from $HS_B to $hs_b"
err_re="$ETC_TOML:$BROKEN_LINE:[0-9]+"
netns_poll "grep -Eq '$err_re' <<<\"\$(sd journalctl -u '$UNIT' -p err..err --no-pager -o cat)\"" 5 ||
  sd_fail "no $ETC_TOML:$BROKEN_LINE:COL at priority err (3) in the journal"
echo "3. systemctl reload (broken file): rc $rc in ${reload_ms} ms; still active, MainPID" \
  "$pid_before, peers kept, pings B and C, B's latest handshake $hs_b"
echo "   journalctl -u $UNIT -p err:"
sd journalctl -u "$UNIT" -p err --no-pager -o cat | grep -E "$err_re" | sed 's/^/     /'
echo "   StatusText '$(prop StatusText)'"
sd_put "$NETNS_TMP/bc.toml" "$ETC_TOML"

# ---- 4. watchdog ------------------------------------------------------------------------------------
old=$(prop MainPID)
[ "$old" -gt 0 ] || sd_fail "no MainPID"
# The worst case: STOP just after a WATCHDOG=1 (systemd's WatchdogTimestamp moves), so the
# full WatchdogSec passes before systemd acts.
wd=$(prop WatchdogTimestampMonotonic)
netns_poll "[ \"\$(prop WatchdogTimestampMonotonic)\" != '$wd' ]" 8 ||
  sd_fail "no WATCHDOG=1 within 8 s (WatchdogTimestampMonotonic stays $wd)"
seen="" restarted=""
t0=$(now_ms)
sd kill -STOP "$old" || sd_fail "kill -STOP $old"
while [ $(($(now_ms) - t0)) -lt 25000 ]; do
  s=$(sd systemctl show -p ActiveState,SubState,MainPID,Result,ExecMainCode,ExecMainStatus "$UNIT" |
    tr '\n' ' ')
  if [ -z "$seen" ] && [[ $s != *"ActiveState=active "* || $s == *"Result=watchdog"* ]]; then
    seen="$s @$(($(now_ms) - t0)) ms"
  fi
  if [[ $s == *"ActiveState=active "* ]] && [[ $s == *"SubState=running "* ]] &&
    [[ $s != *"MainPID=$old "* ]] && [[ $s != *"MainPID=0 "* ]]; then
    restarted=$(($(now_ms) - t0))
    break
  fi
  sleep 0.1
done
[ -n "$restarted" ] || sd_fail "not restarted within 25 s of the STOP: $s (first change: $seen)"
echo "4. kill -STOP $old right after a WATCHDOG=1: active again with MainPID $(prop MainPID)" \
  "after ${restarted} ms (bound ${WATCHDOG_BOUND_MS} ms); on the way: $seen"
[[ $seen == *Result=watchdog* || $seen == *ExecMainStatus=6* ]] ||
  sd_fail "the daemon did not end by the watchdog (Result=watchdog or SIGABRT): $seen"
grep -q "$UNIT: Watchdog timeout" "$SD_CONSOLE" ||
  sd_fail "systemd logged no '$UNIT: Watchdog timeout'"
grep -E "$UNIT: (Watchdog timeout|Main process exited|Scheduled restart)" "$SD_CONSOLE" |
  tr -d '\r' | sed 's/^/   systemd: /'
[ "$restarted" -le $WATCHDOG_BOUND_MS ] ||
  sd_fail "restart took ${restarted} ms after the STOP (bound ${WATCHDOG_BOUND_MS} ms)"
[ "$(prop NRestarts)" = 1 ] || sd_fail "NRestarts is $(prop NRestarts)"
! sd kill -0 "$old" 2>/dev/null || sd_fail "the stopped daemon $old is still there"
ping_s "$TUN_B4" "4"
ping_s "$TUN_C4" "4"

# ---- 5. systemd-analyze security --------------------------------------------------------------------
out=$(sd systemd-analyze security "$UNIT" 2>&1) || true
exposure=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' <<<"$out")
[ -n "$exposure" ] || sd_fail "no exposure from systemd-analyze security: $out"
echo "5. systemd-analyze security $UNIT (online): exposure $exposure (max $EXPOSURE_MAX)"
awk -v s="$exposure" -v m=$EXPOSURE_MAX 'BEGIN { exit !(s <= m) }' ||
  { echo "$out"; sd_fail "exposure $exposure is above $EXPOSURE_MAX"; }

# ---- 6. stop ------------------------------------------------------------------------------------
t0=$(now_ms)
sd systemctl stop "$UNIT" || sd_fail "systemctl stop failed"
stop_ms=$(($(now_ms) - t0))
state=$(prop ActiveState)
gone=yes
ip -n "$NS_S" link show dev "$RT_IF" >/dev/null 2>&1 && gone=no
sock_left=no
sd test -e "$sock" && sock_left=yes
echo "6. systemctl stop: ${stop_ms} ms, ActiveState $state, Result $(prop Result), TUN gone: $gone," \
  "socket file left: $sock_left"
[ "$state" = inactive ] || sd_fail "$UNIT is $state after stop"
[ "$stop_ms" -le $STOP_BOUND_MS ] || sd_fail "stop took ${stop_ms} ms"
[ $gone = yes ] || sd_fail "$RT_IF is still there after stop"
[ $sock_left = no ] || sd_fail "the daemon left $sock behind"

echo "systemd unit under systemd $sd_version: ok"
