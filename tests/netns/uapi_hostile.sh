#!/usr/bin/env bash
# Hostile clients of ringtun's UAPI socket while its tunnel carries a ping series: `ringtun
# run` in namespace A with peer B (wireguard-go in namespace B); from A, echo requests to B
# every 50 ms for the whole test. Against the socket meanwhile:
#   - malformed requests, answered as wireguard-go answers them (no reply and close for an
#     unknown operation, errno=-22 for bad values and a byte after get=1, -71 for a line
#     without '='), two requests on one connection, 4 KiB of random bytes and of NULs
#     (closed within 2 s);
#   - a line of 2000 bytes, with and without its newline: errno=-22 and closed within 2 s;
#   - a silent connection and one holding half a line: each closed after 8..13 s (the 10 s
#     idle bound), while `wg show` answers within 2 s;
#   - one set request of 1 MB of allowed_ip lines for peer B: errno=0, or closed with no
#     reply; then B's allowed IPs are put back with `wg set`;
#   - a client that sends gets (of a reply over 1 MB while B holds those allowed IPs) and
#     never reads: `wg show` still answers within 2 s and ping works;
#   - 100 connections held open: at most 16 stay open, the newest; `wg show` answers within
#     2 s while they are held.
# At the end `wg show` works, the tunnel pings, ringtun's VmRSS grew by less than 64 MiB, the
# ping series lost less than 5% with no gap over 1 s between replies, and ringtun stops
# cleanly on SIGTERM with its socket gone.
# Needs root, /dev/net/tun, ip netns, wireguard-go, wg (exit 77 otherwise); RINGTUN = the
# ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test wireguard-go wg

MAX_LOSS_PCT=5
MAX_GAP_MS=1000
MAX_RSS_GROWTH_KB=$((64 << 10))
WG_SHOW_SECS=2
LOG_A=$NETNS_TMP/ringtun-a.log
HOSTILE=$NETNS_TMP/uapi_hostile.py
PINGER=$NETNS_TMP/ping_series.py

RT_IF=$(netns_ifname r)
SOCK=/var/run/wireguard/$RT_IF.sock
echo "$RT_IF" >>"$NETNS_TMP/wg_ifnames"

# uapi_hostile.py SOCKET CASE [ARGS]: one line per check, "... ok" or "... FAIL: why"; exit 1
# when a check failed.
cat >"$HOSTILE" <<'EOF'
import base64
import os
import random
import select
import socket
import sys
import time


def connect(path, timeout=2.0, rcvbuf=0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(path)
    return s


def exchange(path, payload, timeout=2.0, until_close=False, settle=0.3):
    """Sends PAYLOAD and reads until the daemon closes, TIMEOUT passes or (unless
    UNTIL_CLOSE) a reply ending in a blank line has been followed by SETTLE s of silence.
    Returns (reply, closed, seconds)."""
    s = connect(path)
    t0 = time.monotonic()
    try:
        s.sendall(payload)
    except OSError:
        pass
    s.setblocking(False)
    data, closed, last = b"", False, t0
    while True:
        now = time.monotonic()
        if now - t0 > timeout:
            break
        if not until_close and data.endswith(b"\n\n") and now - last > settle:
            break
        ready, _, _ = select.select([s], [], [], 0.05)
        if not ready:
            continue
        try:
            chunk = s.recv(1 << 16)
        except BlockingIOError:
            continue
        except OSError:
            chunk = b""
        if not chunk:
            closed = True
            break
        data += chunk
        last = time.monotonic()
    s.close()
    return data, closed, time.monotonic() - t0


def report(name, ok, detail):
    print(f"{name}: {detail} {'ok' if ok else 'FAIL'}")
    return ok


def wait_file(path, secs):
    end = time.monotonic() + secs
    while not os.path.exists(path) and time.monotonic() < end:
        time.sleep(0.05)


def protocol(path):
    rng = random.Random(20240601)
    garbage = bytes(rng.randrange(256) for _ in range(4096))
    # name, payload, reply wanted (None: any), must the daemon close (within 2 s)?
    cases = [
        ("unknown operation", b"hello\n", b"", True),
        ("byte after get=1", b"get=1\nX", b"errno=-22\n\n", False),
        ("line without '='", b"set=1\nnoequals\n\n", b"errno=-71\n\n", False),
        ("listen_port=abc", b"set=1\nlisten_port=abc\n\n", b"errno=-22\n\n", False),
        ("unknown device key", b"set=1\nbogus_key=1\n\n", b"errno=-22\n\n", False),
        ("bad public_key", b"set=1\npublic_key=zz\n\n", b"errno=-22\n\n", False),
        ("4 KiB of random bytes", garbage, None, True),
        ("4 KiB of NULs", b"\0" * 4096, None, True),
        ("2000-byte line", b"set=1\nallowed_ip=" + b"1" * 1989 + b"\n\n",
         b"errno=-22\n\n", True),
        ("2000 bytes without newline", b"set=1\n" + b"a" * 2000, b"errno=-22\n\n", True),
    ]
    ok = True
    for name, payload, want, must_close in cases:
        reply, closed, secs = exchange(path, payload, until_close=must_close)
        good = (want is None or reply == want) and (closed or not must_close)
        ok &= report(name, good, f"reply {reply[:60]!r}, {'closed' if closed else 'open'}"
                     f" after {secs:.2f} s;")
    reply, closed, secs = exchange(path, b"get=1\n\nget=1\n\n")
    ok &= report("two gets on one connection", reply.count(b"errno=0\n\n") == 2,
                 f"{reply.count(b'errno=0')} replies;")
    return ok


def idle(path, low, high, ready):
    quiet = connect(path)
    half = connect(path)
    half.sendall(b"set=1\nlisten_po")
    t0 = time.monotonic()
    open(ready, "w").close()
    closed = {}
    while len(closed) < 2 and time.monotonic() - t0 < high + 3:
        live = [s for s in (quiet, half) if s not in closed]
        ready, _, _ = select.select(live, [], [], 0.1)
        for s in ready:
            try:
                chunk = s.recv(4096)
            except OSError:
                chunk = b""
            if not chunk:
                closed[s] = time.monotonic() - t0
    ok = True
    for name, s in (("silent connection", quiet), ("half a line", half)):
        secs = closed.get(s)
        ok &= report(f"idle {name}", secs is not None and low <= secs <= high,
                     "closed after " + (f"{secs:.1f} s" if secs is not None else "never") +
                     f" (want {low}..{high});")
        s.close()
    return ok


def bigset(path, pub_b64, size):
    key = base64.b64decode(pub_b64).hex()
    parts = [b"set=1\n", f"public_key={key}\n".encode()]
    total, n = 0, 0
    while total < size:
        line = f"allowed_ip=10.{200 + (n >> 16)}.{(n >> 8) & 255}.{n & 255}/32\n".encode()
        parts.append(line)
        total += len(line)
        n += 1
    parts.append(b"\n")
    payload = b"".join(parts)
    s = connect(path, timeout=30)
    t0 = time.monotonic()
    sent = "all"
    try:
        s.sendall(payload)
    except OSError as e:
        sent = f"part ({e.__class__.__name__})"
    reply, closed = b"", False
    try:
        while not reply.endswith(b"\n\n"):
            chunk = s.recv(4096)
            if not chunk:
                closed = True
                break
            reply += chunk
    except OSError:
        closed = True
    secs = time.monotonic() - t0
    s.close()
    good = reply == b"errno=0\n\n" or (closed and reply == b"")
    return report("1 MB set", good, f"{n} allowed_ip lines ({len(payload)} bytes), sent {sent},"
                  f" reply {reply[:40]!r}{' then closed' if closed else ''} after {secs:.1f} s;")


def noread(path, gets, ready, release):
    s = connect(path, rcvbuf=4096)
    s.sendall(b"get=1\n\n" * gets)
    open(ready, "w").close()
    wait_file(release, 20)
    s.close()
    return report("never reading", True, f"{gets} gets sent, nothing read;")


def many(path, n, keep, ready, release):
    socks, failed = [], 0
    for i in range(n):
        try:
            socks.append((i, connect(path, timeout=2)))
        except OSError:
            failed += 1
    time.sleep(1.0)
    survivors = []
    for i, s in socks:
        s.setblocking(False)
        try:
            is_open = s.recv(1) != b""
        except BlockingIOError:
            is_open = True
        except OSError:
            is_open = False
        if is_open:
            survivors.append(i)
    open(ready, "w").close()
    wait_file(release, 10)
    for _, s in socks:
        s.close()
    good = len(survivors) <= keep and all(i >= n - keep for i in survivors)
    return report(f"{n} connections", good, f"{failed} not connected, {len(survivors)} still"
                  f" open after 1 s: {survivors} (want at most the newest {keep});")


if __name__ == "__main__":
    sock, case, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    ok = {
        "protocol": lambda: protocol(sock),
        "idle": lambda: idle(sock, float(args[0]), float(args[1]), args[2]),
        "bigset": lambda: bigset(sock, args[0], int(args[1])),
        "noread": lambda: noread(sock, int(args[0]), args[1], args[2]),
        "many": lambda: many(sock, int(args[0]), int(args[1]), args[2], args[3]),
    }[case]()
    sys.exit(0 if ok else 1)
EOF

# ping_series.py LIBDIR ADDR INTERVAL DEADLINE STOPFILE: echo requests every INTERVAL s
# until STOPFILE exists (or DEADLINE s), then 1 s for late replies. Prints "sent=N
# received=M loss=P rtt_max=MS max_gap_ms=MS"; the gap is the longest time without a reply
# between the first request and the stop.
cat >"$PINGER" <<'EOF'
import os
import select
import socket
import sys
import time

sys.path.insert(0, sys.argv[1])
from icmp_ping import echo_request, parse_reply  # noqa: E402

addr, interval, deadline, stop = sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
v6 = ":" in addr
sock = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW,
                     socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
ident = os.getpid() & 0xFFFF
sent_at, rtts = {}, []
start = time.monotonic()
next_send, last_reply, max_gap, seq, stopped = start, start, 0.0, 0, None
while True:
    now = time.monotonic()
    if stopped is None and (now - start > deadline or os.path.exists(stop)):
        stopped = now
        max_gap = max(max_gap, now - last_reply)
    if stopped is not None and (now - stopped > 1.0 or not sent_at):
        break
    if stopped is None and now >= next_send:
        seq += 1
        sent_at[seq] = now
        try:
            sock.sendto(echo_request(v6, ident, seq & 0xFFFF), (addr, 0))
        except OSError:
            pass
        next_send = max(next_send + interval, now)
    ready, _, _ = select.select([sock], [], [], 0.01)
    if ready:
        packet, src = sock.recvfrom(65535)
        got = parse_reply(v6, packet, ident)
        if got in sent_at and src[0] == addr:
            t = time.monotonic()
            rtts.append((t - sent_at.pop(got)) * 1000.0)
            if stopped is None:
                max_gap = max(max_gap, t - last_reply)
            last_reply = t
loss = 100.0 * (seq - len(rtts)) / seq if seq else 100.0
print(f"sent={seq} received={len(rtts)} loss={loss:.1f} rtt_max={max(rtts, default=0):.1f}"
      f" max_gap_ms={max_gap * 1000:.0f}")
EOF

hostile() { netns_run_bounded 60 ip netns exec "$NS_A" python3 "$HOSTILE" "$SOCK" "$@"; }

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$RINGTUN_PID_A/status"; }

# `wg show RT_IF` answers within WG_SHOW_SECS and lists peer B.
wg_show_answers() {
  local what=$1 t0 ms rc=0 out="$NETNS_TMP/wg-show.out"
  t0=$(now_ms)
  netns_run_bounded 10 ip netns exec "$NS_A" wg show "$RT_IF" >"$out" 2>&1 || rc=$?
  ms=$(($(now_ms) - t0))
  [ $rc -eq 0 ] || netns_fail "$what: wg show $RT_IF failed ($rc): $(head -c 300 "$out")"
  grep -qF "peer: $PUB_B" "$out" || netns_fail "$what: wg show does not list peer B"
  [ $ms -le $((WG_SHOW_SECS * 1000)) ] || netns_fail "$what: wg show took $ms ms"
  echo "$what: wg show answered in $ms ms"
}

# Runs hostile CASE ARGS... in the background until it wrote READY; sets HOSTILE_PID.
hostile_hold() {
  local ready=$1
  shift
  ip netns exec "$NS_A" python3 "$HOSTILE" "$SOCK" "$@" >"$ready.out" 2>&1 &
  HOSTILE_PID=$!
  netns_track "$HOSTILE_PID"
  netns_poll "[ -e '$ready' ] || ! netns_alive $HOSTILE_PID" 15
  [ -e "$ready" ] || netns_fail "hostile $1 did not get ready: $(cat "$ready.out")"
}

# Waits up to SECS for HOSTILE_PID and prints its output; fails when it failed.
hostile_join() {
  local what=$1 secs=$2 rc=0
  netns_poll "! netns_alive $HOSTILE_PID" "$secs" || netns_fail "$what: client still runs"
  wait "$HOSTILE_PID" || rc=$?
  cat "$3"
  [ $rc -eq 0 ] || netns_fail "$what: ringtun did not behave (see above)"
}

netns_pair
ringtun_wggo_pair_with_socket
# utime + stime of PID in milliseconds.
cpu_ms() {
  local st
  st=$(cat "/proc/$1/stat") || return 1
  st=${st##*) }
  # shellcheck disable=SC2086  # split the stat fields; utime and stime are fields 14 and 15
  set -- $st
  echo $(((${12} + ${13}) * 1000 / $(getconf CLK_TCK)))
}

PUB_B=$(cat "$NETNS_TMP/rtb.pub")
ping_ok "$NS_A" "$TUN_B4" 3 10 || netns_fail "no ping A -> B"
rss0=$(rss_kb)

ip netns exec "$NS_A" python3 "$PINGER" "$NETNS_LIB_DIR" "$TUN_B4" 0.05 90 "$NETNS_TMP/ping.stop" \
  >"$NETNS_TMP/ping-series.out" 2>&1 &
PING_PID=$!
netns_track $PING_PID

# Two idle connections, closed by the idle bound while the rest goes on.
hostile_hold "$NETNS_TMP/idle.ready" idle 8 13 "$NETNS_TMP/idle.ready"
IDLE_PID=$HOSTILE_PID
wg_show_answers "two idle connections held"

hostile protocol || netns_fail "malformed requests: ringtun did not answer as expected"
hostile bigset "$PUB_B" $((1 << 20)) || netns_fail "1 MB set: ringtun did not answer as expected"
netns_alive "$RINGTUN_PID_A" || netns_fail "ringtun died on the 1 MB set"
n=$(ip netns exec "$NS_A" wg show "$RT_IF" allowed-ips | awk '{print NF - 1}')
echo "peer B holds $n allowed IPs after the 1 MB set"

hostile_hold "$NETNS_TMP/noread.ready" noread 20 "$NETNS_TMP/noread.ready" "$NETNS_TMP/noread.release"
noread_ms=$(now_ms)
wg_show_answers "a client not reading its replies"
ping_ok "$NS_A" "$TUN_B4" 3 5 || netns_fail "no ping while a client does not read"

ip netns exec "$NS_A" wg set "$RT_IF" peer "$PUB_B" allowed-ips "$TUN_B4/32,$TUN_B6/128" ||
  netns_fail "wg set: cannot put B's allowed IPs back"
[ "$(ip netns exec "$NS_A" wg show "$RT_IF" allowed-ips | awk '{print NF - 1}')" = 2 ] ||
  netns_fail "B does not hold exactly its 2 allowed IPs again"

HOSTILE_PID=$IDLE_PID
hostile_join "idle connections" 20 "$NETNS_TMP/idle.ready.out"

# The reader that never reads is still held, its reply stuck in a send, past the 10 s idle
# bound: that is not idleness, and must cost no CPU (it once made every wait zero: a spin).
while [ $(($(now_ms) - noread_ms)) -lt 11000 ]; do sleep 0.2; done
cpu0=$(cpu_ms "$RINGTUN_PID_A")
sleep 3
spent=$(($(cpu_ms "$RINGTUN_PID_A") - cpu0))
echo "a client not reading for over 10 s: ringtun used $spent ms of CPU in 3 s"
[ "$spent" -lt 1000 ] || netns_fail "ringtun spins while a client does not read its reply"
touch "$NETNS_TMP/noread.release"
hostile_join "never reading" 5 "$NETNS_TMP/noread.ready.out"

hostile_hold "$NETNS_TMP/many.ready" many 100 16 "$NETNS_TMP/many.ready" "$NETNS_TMP/many.release"
wg_show_answers "100 connections held"
touch "$NETNS_TMP/many.release"
hostile_join "100 connections" 5 "$NETNS_TMP/many.ready.out"

# Afterwards.
wg_show_answers "after everything"
ping_ok "$NS_A" "$TUN_B4" 3 5 || netns_fail "no ping A -> B after everything"
rss1=$(rss_kb)
echo "ringtun VmRSS: $rss0 kB before, $rss1 kB after ($(((rss1 - rss0) / 1024)) MiB more)"
[ $((rss1 - rss0)) -lt $MAX_RSS_GROWTH_KB ] ||
  netns_fail "ringtun's VmRSS grew by $((rss1 - rss0)) kB (limit $MAX_RSS_GROWTH_KB kB)"
touch "$NETNS_TMP/ping.stop"
netns_poll "! netns_alive $PING_PID" 5 || netns_fail "the ping series did not stop"
wait $PING_PID || netns_fail "ping series failed: $(cat "$NETNS_TMP/ping-series.out")"
series=$(cat "$NETNS_TMP/ping-series.out")
echo "ping series through the tunnel during all of it: $series"
loss=$(kv_get loss <<<"$series") gap=$(kv_get max_gap_ms <<<"$series")
[ "$(kv_get sent <<<"$series")" -gt 100 ] || netns_fail "the ping series sent too little"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < $MAX_LOSS_PCT else 1)" "$loss" ||
  netns_fail "the ping series lost $loss% (limit $MAX_LOSS_PCT%)"
[ "$gap" -le $MAX_GAP_MS ] || netns_fail "the ping series had a gap of $gap ms without replies"

ringtun_stop "$NS_A" "$RINGTUN_PID_A" "$LOG_A"
[ ! -e "$SOCK" ] || netns_fail "$SOCK left behind after SIGTERM"
netns_cleanup
netns_assert_clean
echo "uapi_hostile: ok"
