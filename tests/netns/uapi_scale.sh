#!/usr/bin/env bash
# `wg setconf` with 100,000 peers (a key, an endpoint and an allowed IP each: 15 MB of UAPI
# lines) applies to a running ringtun within the control socket's limits, `wg show` then lists
# every one of them, and a limit of the control socket that a request runs into is named as
# ringtun's in the log (a line over 1,024 bytes: the protocol can only answer errno=-22).
# Before the peers were found through a table, the same setconf ran into the connection's
# 60 s limit with 9,911 peers applied (a scan of every peer for each one added).
# Needs root, /dev/net/tun, ip netns, wg (exit 77 otherwise); RINGTUN = the ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test wg

NS="${NETNS_ID}u"
netns_add "$NS"
IF=$(netns_ifname u)
SOCK=/var/run/wireguard/$IF.sock
LOG=$NETNS_TMP/ringtun.log
echo "$IF" >>"$NETNS_TMP/wg_ifnames"
make_keypair u
cat >"$NETNS_TMP/u.toml" <<EOF
[interface]
name = "$IF"
private_key_file = "$NETNS_TMP/u.key"
listen_port = 51840
control_socket = true
table = "off"
EOF
# RINGTUN_BACKEND (the .epoll variant): the same on the epoll loop.
[ -z "${RINGTUN_BACKEND:-}" ] || printf '\n[ring]\nbackend = "%s"\n' "$RINGTUN_BACKEND" >>"$NETNS_TMP/u.toml"
start_ringtun "$NS" "$NETNS_TMP/u.toml" "$LOG"
PID=$RINGTUN_PID
netns_poll "[ -S '$SOCK' ] || ! netns_alive $PID" 10
[ -S "$SOCK" ] || { tail -n 20 "$LOG" >&2; netns_fail "ringtun serves no $SOCK"; }

{
  printf '[Interface]\nPrivateKey = %s\nListenPort = 51840\n' "$(cat "$NETNS_TMP/u.key")"
  python3 "$NETNS_LIB_DIR/../tools/scale_peers.py" 100000 --wg
} >"$NETNS_TMP/peers.conf"
last_ip=$(grep AllowedIPs "$NETNS_TMP/peers.conf" | tail -n 1 | sed 's/.* = //')
t0=$(now_ms)
netns_run_bounded 300 ip netns exec "$NS" wg setconf "$IF" "$NETNS_TMP/peers.conf" ||
  netns_fail "wg setconf with 100,000 peers failed; $(grep -v created "$LOG" | tail -n 3)"
echo "wg setconf, 100,000 peers: $(($(now_ms) - t0)) ms"
t0=$(now_ms)
netns_run_bounded 120 ip netns exec "$NS" wg show "$IF" allowed-ips >"$NETNS_TMP/shown" ||
  netns_fail "wg show failed"
echo "wg show: $(($(now_ms) - t0)) ms"
n=$(wc -l <"$NETNS_TMP/shown")
[ "$n" -eq 100000 ] || netns_fail "wg show lists $n peers, not 100000"
grep -q "	$last_ip\$" "$NETNS_TMP/shown" || netns_fail "the last peer's allowed IP $last_ip is not shown"

# A line longer than the control socket takes: errno=-22, and the log says whose limit it was.
reply=$(python3 - "$SOCK" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"set=1\nlisten_port=" + b"1" * 2000 + b"\n\n")
print(s.recv(4096).decode().strip())
EOF
)
[ "$reply" = "errno=-22" ] || netns_fail "a 2,000-byte line got '$reply', not errno=-22"
wait_for_log "$LOG" "uapi: a line longer than ringtun's limit of 1024 bytes" 5 "$PID" ||
  netns_fail "the log does not name the line limit as ringtun's"
echo "uapi_scale: ok"
