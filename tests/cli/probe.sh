#!/usr/bin/env bash
# `ringtun probe` tells the truth about this host: its JSON parses and matches uname, the
# io_uring sysctl and the process's seccomp mode; the text names the backend; under the
# no_io_uring launcher (a seccomp filter refusing io_uring with EPERM, as Docker's default
# profile does) io_uring is refused for that reason and "auto" falls back to epoll. As root
# the TUN offloads are probed (in a network namespace of its own, so no interface appears on
# the host) and, dropped to nobody, reported unknown for want of CAP_NET_ADMIN.
set -euo pipefail
: "${RINGTUN:?path to the ringtun binary}"
: "${NO_IO_URING:?path to the no_io_uring launcher}"

fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Root runs the probe in a fresh network namespace where it can; anyone else as they are.
in_ns=()
if [ "$(id -u)" -eq 0 ] && unshare --net true 2>/dev/null; then in_ns=(unshare --net); fi

# --help and a bad option, as every command.
out=$("$RINGTUN" probe --help) || fail "probe --help: exit $?"
grep -q '^Usage: ringtun probe \[--json\]' <<<"$out" || fail "probe --help printed: $out"
set +e
"$RINGTUN" probe --bogus 2>/dev/null
rc=$?
set -e
[ $rc -eq 2 ] || fail "probe --bogus: exit $rc"

# check_json FILE EXPECTATIONS: the JSON in FILE against the host; python3 does the parsing.
check_json() {
  python3 - "$1" "$2" <<'PY'
import json, os, sys
path, mode = sys.argv[1], sys.argv[2]
with open(path) as f:
    d = json.load(f)
def need(cond, what):
    if not cond:
        sys.exit(f"FAIL ({mode}): {what}\n{json.dumps(d, indent=2)}")
k, u = d["kernel"], d["io_uring"]
need(k["release"] == os.uname().release, f"release {k['release']!r} != uname -r")
need(k["major"] == int(os.uname().release.split(".")[0]), "major version")
for key in ("permitted", "blocker", "failed_call", "errno", "reason", "sysctl_disabled",
            "sysctl_group", "seccomp_mode", "features", "features_error"):
    need(key in u, f"io_uring.{key} missing")
for key in ("tun_offloads", "udp_offloads", "ring", "backend"):
    need(key in d, f"{key} missing")
status = open("/proc/self/status").read()
seccomp = int(next(l.split(":")[1] for l in status.splitlines() if l.startswith("Seccomp:")))
try:
    sysctl = int(open("/proc/sys/kernel/io_uring_disabled").read())
except FileNotFoundError:
    sysctl = None
need(u["sysctl_disabled"] == sysctl, f"sysctl_disabled {u['sysctl_disabled']} != {sysctl}")
backend = d["backend"]["auto"]
if mode != "refused":  # plain, and the root or nobody checks of a plain run
    need(u["seccomp_mode"] == seccomp, f"seccomp_mode {u['seccomp_mode']} != {seccomp}")
    # Without a seccomp filter, root's permission is the sysctl's (1 admits CAP_SYS_ADMIN).
    if os.geteuid() == 0 and mode != "nobody" and seccomp == 0:
        need(u["permitted"] == (sysctl in (None, 0, 1)), f"permitted with sysctl {sysctl}")
    if u["permitted"]:
        f = u["features"]
        need(f is not None and f["opcodes"]["READ"] is True, "features and opcodes")
        need(f["feature_flags"]["EXT_ARG"] is True, "EXT_ARG")
        need(u["errno"] is None and u["blocker"] == "none", "no errno when permitted")
    if u["permitted"] and f["recvmsg_multishot"] and f["buffer_rings"]:
        need(backend == "io_uring", f"backend {backend} with io_uring permitted")
        need(d["ring"]["entries"] == 1024 and d["ring"]["sqpoll_idle_ms"] == 0, "[ring]")
        need(d["ring"]["tun_read"] == ("multishot" if f["read_multishot"] else "slots"),
             "tun_read follows READ_MULTISHOT")
    else:
        need(backend == "epoll" and d["ring"] is None, f"backend {backend} without io_uring")
else:  # under no_io_uring
    need(u["seccomp_mode"] == 2, f"seccomp_mode {u['seccomp_mode']} under the filter")
    need(u["permitted"] is False, "io_uring permitted under the filter")
    need(u["errno"] == "EPERM" and "EPERM" in u["reason"], f"reason {u['reason']!r}")
    need(u["failed_call"] == "io_uring_setup", f"failed_call {u['failed_call']}")
    if sysctl in (None, 0):
        need(u["blocker"] == "seccomp", f"blocker {u['blocker']}")
    need(u["features"] is None and d["ring"] is None, "features or [ring] without io_uring")
    need(backend == "epoll", f"backend {backend} under the filter")
    need("EPERM" in d["backend"]["reason"], "backend reason names EPERM")
t = d["tun_offloads"]
if mode == "root":
    need(t["known"] is True and t["csum"] is True and t["tso4"] is True, f"TUN offloads {t}")
if mode == "nobody":
    need(t["known"] is False and t["unknown_reason"] == "needs CAP_NET_ADMIN", f"TUN {t}")
    need(t["tso4"] is None, "unknown offloads are null")
PY
}

"${in_ns[@]}" "$RINGTUN" probe --json >"$tmp/plain.json" || fail "probe --json: exit $?"
check_json "$tmp/plain.json" plain
"${in_ns[@]}" "$NO_IO_URING" "$RINGTUN" probe --json >"$tmp/refused.json" ||
  fail "no_io_uring probe --json: exit $?"
check_json "$tmp/refused.json" refused

# The text names the backend the JSON names, and why when it is epoll.
backend=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["backend"]["auto"])' \
  "$tmp/plain.json")
text=$("${in_ns[@]}" "$RINGTUN" probe) || fail "probe: exit $?"
grep -q "^backend (auto) *$backend: " <<<"$text" || fail "probe text without backend $backend: $text"
text=$("${in_ns[@]}" "$NO_IO_URING" "$RINGTUN" probe) || fail "no_io_uring probe: exit $?"
grep -q '^io_uring  *refused: io_uring_setup: EPERM' <<<"$text" || fail "refused text: $text"
grep -q '^backend (auto) *epoll: io_uring refused' <<<"$text" || fail "epoll text: $text"
grep -q '^  seccomp  *2 (filter)' <<<"$text" || fail "seccomp text: $text"

if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/net/tun ]; then
  echo "probe: JSON and text match the host; TUN offloads not checked (needs root and /dev/net/tun)"
  exit 0
fi
check_json "$tmp/plain.json" root
# Without CAP_NET_ADMIN the TUN offloads are unknown, and said to be so. nobody needs a copy
# of the binary it can reach.
if command -v setpriv >/dev/null; then
  chmod 755 "$tmp"
  install -m 755 "$RINGTUN" "$tmp/ringtun"
  setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
    "$tmp/ringtun" probe --json >"$tmp/nobody.json" || fail "probe as nobody: exit $?"
  check_json "$tmp/nobody.json" nobody
fi
echo "probe: JSON and text match the host, io_uring refused under seccomp with epoll chosen," \
  "TUN offloads known as root and unknown without CAP_NET_ADMIN"
