#!/usr/bin/env bash
# `wg` against ringtun's UAPI socket, side by side with wireguard-go: in namespace A,
# `ringtun -f IFR` (wireguard-go's command line) and `wireguard-go -f IFG` get the same
# `wg setconf` file (private key, fwmark, four peers: with and without preshared key, IPv4
# and IPv6 endpoints, persistent keepalive, several IPv4 and IPv6 allowed IPs, one of them not
# masked) and then the same `wg set` / `wg addconf` / `wg setconf` changes: a peer added,
# a peer's endpoint, keepalive, preshared key and allowed IPs changed, a peer removed,
# allowed IPs cleared, replaced and moved between peers, fwmark set and cleared, the
# device's own public key as a peer, a new private key, a private key whose public key is a
# peer's, a busy listen port (both fail with "Address already in use"), a new listen port,
# the same one again. After each step `wg showconf`, `wg show IF dump` and the raw UAPI get
# reply (key order included) must be the same for both, except what cannot be (listen
# port, handshake times, transfer counters; peers and allowed IPs are compared as sets).
# Also: the TUN ringtun creates (MTU 1420, down, no addresses), the socket's mode
# srwx------, `wg show IF private-key`/`public-key`, a second `ringtun -f IFR` in another
# namespace refused without touching the live socket, and the exits: socket deleted -> exit
# 0 with its TUN gone; SIGTERM -> exit 0 with socket and TUN gone.
# Needs root, /dev/net/tun, ip netns, wireguard-go, wg (exit 77 otherwise); RINGTUN = the
# ringtun binary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
netns_ringtun_test wireguard-go wg

IFR=$(netns_ifname r) IFG=$(netns_ifname g)
SOCK_R=/var/run/wireguard/$IFR.sock
PORT_R=51830 PORT_G=51831 BUSY_PORT=51832 NEW_PORT_R=51833 NEW_PORT_G=51834
LOG_R=$NETNS_TMP/ringtun-r.log
NORM=$NETNS_TMP/uapi_norm.py
EXPECT_PORT_R="" EXPECT_PORT_G=""

# Normal forms of what `wg` and the socket report, for comparing two daemons:
#   showconf (stdin)   [Interface] without ListenPort; AllowedIPs sorted; peers sorted
#   dump (stdin)       `wg show IF dump` without listen port, handshake time and transfer;
#                      allowed IPs sorted; peers sorted
#   get SOCKET         the raw reply to get=1 in wire order, with the values of listen_port,
#                      last_handshake_time_*, tx_bytes and rx_bytes replaced by *, each
#                      peer's allowed_ip values sorted in place, peers sorted
cat >"$NORM" <<'EOF'
import socket
import sys


def showconf(text):
    blocks = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("["):
            blocks.append([line])
            continue
        key, _, value = line.partition(" = ")
        if key == "ListenPort":
            continue
        if key == "AllowedIPs":
            value = ", ".join(sorted(value.split(", ")))
        blocks[-1].append(f"{key} = {value}")
    iface = ["\n".join(b) for b in blocks if b[0] == "[Interface]"]
    peers = sorted("\n".join(b) for b in blocks if b[0] != "[Interface]")
    return "\n".join(iface + peers)


def dump(text):
    lines = text.splitlines()
    f = lines[0].split("\t")
    out = ["\t".join(["interface", f[0], f[1], f[3]])]
    peers = []
    for line in lines[1:]:
        f = line.split("\t")
        peers.append("\t".join([f[0], f[1], f[2], ",".join(sorted(f[3].split(","))), f[7]]))
    return "\n".join(out + sorted(peers))


def get(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    s.sendall(b"get=1\n\n")
    buf = b""
    while not buf.endswith(b"\n\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    if not buf.endswith(b"\n\n"):
        return "INCOMPLETE REPLY: " + repr(buf[-200:])
    hidden = {"listen_port", "last_handshake_time_sec", "last_handshake_time_nsec",
              "tx_bytes", "rx_bytes"}
    device, peers, trailer = [], [], []
    for line in buf.decode().split("\n"):
        if not line:
            continue
        key, eq, value = line.partition("=")
        if not eq:
            trailer.append("LINE WITHOUT '=': " + line)
            continue
        if key == "errno":
            trailer.append(line)
            continue
        if key == "public_key":
            peers.append([])
        if key in hidden:
            value = "*"
        (peers[-1] if peers else device).append([key, value])
    for peer in peers:
        at = [i for i, kv in enumerate(peer) if kv[0] == "allowed_ip"]
        for i, value in zip(at, sorted(peer[i][1] for i in at)):
            peer[i][1] = value
    text = ["=".join(kv) for kv in device]
    text += sorted("\n".join("=".join(kv) for kv in p) for p in peers)
    return "\n".join(text + trailer)


if __name__ == "__main__":
    if sys.argv[1] == "get":
        print(get(sys.argv[2]))
    else:
        print({"showconf": showconf, "dump": dump}[sys.argv[1]](sys.stdin.read()))
EOF

# Starts `$RINGTUN -f IFNAME` in NS; sets RINGTUN_PID (ip netns exec and env exec it, so the
# PID is the daemon's and it is our child).
start_ringtun_fg() {
  local ns=$1 ifname=$2 log=$3 sock=/var/run/wireguard/$2.sock
  [ -e "$sock" ] && netns_fail "$sock exists: another daemon uses the name $ifname"
  echo "$ifname" >>"$NETNS_TMP/wg_ifnames"
  ip netns exec "$ns" env LOG_LEVEL=verbose "$RINGTUN" -f "$ifname" >>"$log" 2>&1 &
  RINGTUN_PID=$!
  netns_track "$RINGTUN_PID"
  netns_poll "[ -S '$sock' ] || ! netns_alive $RINGTUN_PID" 10
  netns_alive "$RINGTUN_PID" && [ -S "$sock" ] && wait_for_link "$ns" "$ifname" 5 ||
    { tail -n 20 "$log" >&2; netns_fail "ringtun -f $ifname did not start in $ns"; }
}

wg_a() { ip netns exec "$NS_A" wg "$@"; }

# wg SUBCOMMAND IFNAME ARGS... on both interfaces; fails naming the one that refused.
wg_both() {
  local sub=$1 ifname
  shift
  for ifname in "$IFR" "$IFG"; do
    wg_a "$sub" "$ifname" "$@" || netns_fail "wg $sub $ifname $*: failed"
  done
}

snapshot() {
  case $1 in
    showconf) wg_a showconf "$2" | python3 "$NORM" showconf ;;
    dump) wg_a show "$2" dump | python3 "$NORM" dump ;;
    get) python3 "$NORM" get "/var/run/wireguard/$2.sock" ;;
  esac
}

# The listen port IFNAME reports must be WANT ("random": any but 0).
check_port() {
  local what=$1 ifname=$2 want=$3 got
  got=$(wg_a show "$ifname" listen-port) || netns_fail "$what: wg show $ifname listen-port"
  if [ "$want" = random ]; then
    [ "${got:-0}" -gt 0 ] || netns_fail "$what: $ifname listens on port '$got', want a random one"
  else
    [ "$got" = "$want" ] || netns_fail "$what: $ifname listens on port '$got', want $want"
  fi
}

# After step WHAT: both report the same configuration, with PEERS peers and the expected
# listen ports.
compare() {
  local what=$1 peers=$2 form r g n
  for form in showconf dump get; do
    r=$(snapshot "$form" "$IFR") || netns_fail "$what: no $form from ringtun ($IFR)"
    g=$(snapshot "$form" "$IFG") || netns_fail "$what: no $form from wireguard-go ($IFG)"
    if [ "$r" != "$g" ]; then
      netns_log "$what: $form differs (- ringtun, + wireguard-go):"
      diff -u <(echo "$r") <(echo "$g") >&2 || true
      netns_fail "$what: ringtun and wireguard-go differ in $form"
    fi
  done
  n=$(wg_a show "$IFG" peers | grep -c . || true)
  [ "$n" -eq "$peers" ] || netns_fail "$what: wireguard-go has $n peers, the step meant $peers"
  check_port "$what" "$IFR" "$EXPECT_PORT_R"
  check_port "$what" "$IFG" "$EXPECT_PORT_G"
  echo "$what: same showconf, dump and get reply ($peers peers)"
}

# Private and public key wg shows for IFNAME are those of key pair NAME.
check_keys() {
  local what=$1 ifname=$2 name=$3
  [ "$(wg_a show "$ifname" private-key)" = "$(cat "$NETNS_TMP/$name.key")" ] ||
    netns_fail "$what: wg show $ifname private-key is not $name.key"
  [ "$(wg_a show "$ifname" public-key)" = "$(cat "$NETNS_TMP/$name.pub")" ] ||
    netns_fail "$what: wg show $ifname public-key is not $name.pub"
}

# The wg config (setconf format) with listen port PORT.
write_conf() {
  cat >"$1" <<EOF
[Interface]
PrivateKey = $(cat "$NETNS_TMP/dev.key")
ListenPort = $2
FwMark = 0x1234

[Peer]
PublicKey = $(cat "$NETNS_TMP/p1.pub")
PresharedKey = $(cat "$NETNS_TMP/p1.psk")
Endpoint = $OUTER_B4:40001
PersistentKeepalive = 25
AllowedIPs = 10.200.1.0/24, 10.200.2.7/32, fd00:200:1::/48, fd00:200:2::7/128

[Peer]
PublicKey = $(cat "$NETNS_TMP/p2.pub")
Endpoint = [$OUTER_B6]:40002
AllowedIPs = 10.201.0.0/16, fd00:201::/64, 10.7.7.7/24

[Peer]
PublicKey = $(cat "$NETNS_TMP/p3.pub")
PresharedKey = $(cat "$NETNS_TMP/p3.psk")
AllowedIPs = fd00:202::1/128

[Peer]
PublicKey = $(cat "$NETNS_TMP/p4.pub")
Endpoint = $OUTER_B4:40004
PersistentKeepalive = 7
EOF
}

# Peers' endpoints are B's outer addresses on ports where nothing listens: handshake
# attempts (keepalive) stay inside our namespaces.
netns_pair
for k in dev dev2 p1 p2 p3 p4 p5 p6; do make_keypair "$k"; done
for k in p1 p3 p5; do make_psk "$k"; done

start_ringtun_fg "$NS_A" "$IFR" "$LOG_R"
PID_R=$RINGTUN_PID
start_wireguard_go "$NS_A" "$IFG"

# What `ringtun IF` creates: the TUN with MTU 1420, down, without addresses; the socket
# srwx------ root.
link=$(ip -n "$NS_A" -o link show dev "$IFR")
grep -q " mtu 1420 " <<<"$link" || netns_fail "$IFR: not MTU 1420: $link"
! grep -qE '<([^>]*,)?UP[,>]' <<<"$link" || netns_fail "$IFR is up before anyone set it up: $link"
[ -z "$(ip -n "$NS_A" -o addr show dev "$IFR")" ] || netns_fail "$IFR has addresses"
mode=$(stat -c '%A %U' "$SOCK_R")
[ "$mode" = "srwx------ root" ] || netns_fail "$SOCK_R is '$mode', want 'srwx------ root'"
grep -qx "$IFR" <<<"$(wg_a show interfaces | tr ' ' '\n')" ||
  netns_fail "wg show interfaces does not list $IFR"
echo "ringtun -f $IFR: TUN mtu 1420, down, no addresses; socket $mode"

# wireguard-go binds (and so can fail to bind) only while its link is up.
ip -n "$NS_A" link set dev "$IFR" up
# As kernel WireGuard's: no IPv6 link-local address once up, no queue discipline of its own.
details=$(ip -n "$NS_A" -d -o link show dev "$IFR")
grep -q "addrgenmode none" <<<"$details" || netns_fail "$IFR: addrgenmode is not none: $details"
grep -q " qdisc noqueue " <<<"$details" || netns_fail "$IFR: has a queue discipline: $details"
[ -z "$(ip -n "$NS_A" -6 -o addr show dev "$IFR")" ] || netns_fail "$IFR got an IPv6 address"
echo "$IFR up: addrgenmode none, qdisc noqueue, no IPv6 link-local"
ip -n "$NS_A" link set dev "$IFG" up

write_conf "$NETNS_TMP/r.conf" $PORT_R
write_conf "$NETNS_TMP/g.conf" $PORT_G
EXPECT_PORT_R=$PORT_R EXPECT_PORT_G=$PORT_G
wg_a setconf "$IFR" "$NETNS_TMP/r.conf" || netns_fail "wg setconf $IFR failed"
wg_a setconf "$IFG" "$NETNS_TMP/g.conf" || netns_fail "wg setconf $IFG failed"
compare "setconf" 4
check_keys "setconf" "$IFR" dev
# The file's key, port and fwmark as given, one allowed IP masked as wireguard-go does.
grep -q "^FwMark = 0x1234$" <<<"$(wg_a showconf "$IFR")" || netns_fail "setconf: fwmark lost"
grep -q "10.7.7.0/24" <<<"$(wg_a show "$IFR" allowed-ips)" ||
  netns_fail "setconf: 10.7.7.7/24 is not reported as 10.7.7.0/24"

p() { cat "$NETNS_TMP/$1.pub"; }
wg_both set peer "$(p p5)" preshared-key "$NETNS_TMP/p5.psk" endpoint "$OUTER_B4:40005" \
  persistent-keepalive 15 allowed-ips 10.205.0.0/16,fd00:205::/64
compare "peer added" 5
wg_both set peer "$(p p1)" endpoint "[$OUTER_B6]:41001" persistent-keepalive off \
  preshared-key /dev/null allowed-ips 10.210.0.0/24,fd00:210::/64
compare "endpoint, keepalive, preshared key and allowed IPs changed" 5
wg_both set peer "$(p p2)" remove
compare "peer removed" 4
# p3's allowed IPs cleared; p4 gets three, one of them taken from p5.
wg_both set peer "$(p p3)" allowed-ips "" peer "$(p p4)" \
  allowed-ips 10.204.0.0/16,fd00:204::/64,10.205.0.0/16
compare "allowed IPs cleared, replaced, moved" 4
grep -q "10.205.0.0/16" <<<"$(wg_a show "$IFR" allowed-ips | grep "^$(p p5)")" &&
  netns_fail "10.205.0.0/16 still belongs to p5 after p4 took it"
cat >"$NETNS_TMP/add.conf" <<EOF
[Peer]
PublicKey = $(p p3)
AllowedIPs = 10.203.0.0/24

[Peer]
PublicKey = $(p p6)
Endpoint = [$OUTER_B6]:40006
AllowedIPs = 10.206.0.1/32
EOF
wg_both addconf "$NETNS_TMP/add.conf"
compare "addconf" 5
# The mark is on ringtun's UDP socket itself (SO_MARK), not only in its replies.
socket_mark() {
  ip netns exec "$NS_A" ss -Huanpe "sport = :$PORT_R" 2>/dev/null |
    grep -o 'fwmark:0x[0-9a-f]*' || true
}
wg_both set fwmark 0x99
compare "fwmark 0x99" 5
[ "$(socket_mark)" = fwmark:0x99 ] ||
  netns_fail "fwmark 0x99: ringtun's UDP socket has '$(socket_mark)'"
wg_both set fwmark off
compare "fwmark off" 5
[ -z "$(socket_mark)" ] || netns_fail "fwmark off: ringtun's UDP socket still has $(socket_mark)"
# A peer with the device's own public key is ignored (wireguard-go: a dummy peer).
wg_both set peer "$(p dev)" allowed-ips 10.250.0.1/32
compare "own public key as a peer" 5
wg_both set private-key "$NETNS_TMP/dev2.key"
compare "new private key" 5
check_keys "new private key" "$IFR" dev2
# A private key whose public key is a peer's removes that peer.
wg_both set private-key "$NETNS_TMP/p5.key"
compare "private key of peer p5" 4
grep -q "$(p p5)" <<<"$(wg_a show "$IFR" peers)" && netns_fail "p5 is still a peer of $IFR"
check_keys "private key of peer p5" "$IFR" p5

# A listen port in use: both refuse it with EADDRINUSE.
ip netns exec "$NS_A" python3 -c '
import socket, sys, time
port = int(sys.argv[1])
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s4.bind(("0.0.0.0", port))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
s6.bind(("::", port))
open(sys.argv[2], "w").close()
time.sleep(30)
' $BUSY_PORT "$NETNS_TMP/busy.ready" &
holder=$!
netns_track $holder
netns_poll "[ -e '$NETNS_TMP/busy.ready' ] || ! netns_alive $holder" 5
[ -e "$NETNS_TMP/busy.ready" ] || netns_fail "could not hold UDP port $BUSY_PORT"
for ifname in "$IFR" "$IFG"; do
  rc=0
  out=$(wg_a set "$ifname" listen-port $BUSY_PORT 2>&1) || rc=$?
  [ $rc -ne 0 ] && grep -q "Address already in use" <<<"$out" ||
    netns_fail "wg set $ifname listen-port $BUSY_PORT (busy): status $rc, '$out'"
  echo "busy listen port on $ifname: $out"
done
stop_process $holder 2 || true
EXPECT_PORT_R=$NEW_PORT_R EXPECT_PORT_G=$NEW_PORT_G
wg_a set "$IFR" listen-port $NEW_PORT_R || netns_fail "wg set $IFR listen-port $NEW_PORT_R"
wg_a set "$IFG" listen-port $NEW_PORT_G || netns_fail "wg set $IFG listen-port $NEW_PORT_G"
compare "new listen port" 4
wg_a set "$IFR" listen-port $NEW_PORT_R || netns_fail "wg set $IFR listen-port (unchanged) failed"
wg_a set "$IFG" listen-port $NEW_PORT_G || netns_fail "wg set $IFG listen-port (unchanged) failed"
compare "same listen port again" 4
for port in $NEW_PORT_R $PORT_R; do
  n=$(ip netns exec "$NS_A" ss -Hlun "sport = :$port" | grep -c . || true)
  if [ "$port" = $NEW_PORT_R ]; then
    [ "$n" -gt 0 ] || netns_fail "nothing listens on UDP port $port after wg set listen-port"
  else
    [ "$n" -eq 0 ] || netns_fail "UDP port $port is still bound after moving to $NEW_PORT_R"
  fi
done

# setconf replaces everything; then a file with only a private key: no peers, random port.
EXPECT_PORT_R=$PORT_R EXPECT_PORT_G=$PORT_G
wg_a setconf "$IFR" "$NETNS_TMP/r.conf" || netns_fail "wg setconf $IFR failed"
wg_a setconf "$IFG" "$NETNS_TMP/g.conf" || netns_fail "wg setconf $IFG failed"
compare "setconf again" 4
check_keys "setconf again" "$IFR" dev
printf '[Interface]\nPrivateKey = %s\n' "$(cat "$NETNS_TMP/dev2.key")" >"$NETNS_TMP/bare.conf"
EXPECT_PORT_R=random EXPECT_PORT_G=random
wg_both setconf "$NETNS_TMP/bare.conf"
compare "setconf without peers or port" 0

# A second `ringtun -f IFR` (another namespace, so the TUN name is free there) must fail
# and leave the live socket alone.
inode=$(stat -c %i "$SOCK_R")
rc=0
timeout -k 2 5 ip netns exec "$NS_B" "$RINGTUN" -f "$IFR" >>"$NETNS_TMP/ringtun-second.log" 2>&1 ||
  rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $rc -ne 137 ] ||
  netns_fail "a second ringtun -f $IFR: status $rc, want a prompt failure"
[ "$(stat -c %i "$SOCK_R" 2>/dev/null)" = "$inode" ] ||
  netns_fail "a second ringtun -f $IFR replaced or removed the live socket"
ip -n "$NS_B" link show dev "$IFR" >/dev/null 2>&1 && netns_fail "the refused ringtun left $IFR in $NS_B"
check_keys "after the refused second daemon" "$IFR" dev2
echo "second ringtun -f $IFR: exit status $rc ($(tail -n 1 "$NETNS_TMP/ringtun-second.log"))"

# Its socket deleted: ringtun exits 0 and its TUN goes.
rm -f "$SOCK_R"
netns_poll "! netns_alive $PID_R" 2 || netns_fail "ringtun $PID_R still runs 2 s after its socket was deleted"
rc=0
wait "$PID_R" || rc=$?
[ $rc -eq 0 ] || netns_fail "ringtun exited with status $rc after its socket was deleted"
netns_poll "! ip -n '$NS_A' link show dev '$IFR' >/dev/null 2>&1" 2 ||
  netns_fail "$IFR still exists after ringtun exited"
echo "socket deleted: ringtun exited 0, $IFR gone"

# SIGTERM: exit 0, socket and TUN gone.
start_ringtun_fg "$NS_A" "$IFR" "$LOG_R"
rc=0
stop_process "$RINGTUN_PID" 5 TERM || rc=$?
[ $rc -eq 0 ] || netns_fail "ringtun -f $IFR: status $rc after SIGTERM"
[ ! -e "$SOCK_R" ] || netns_fail "$SOCK_R left behind after SIGTERM"
netns_poll "! ip -n '$NS_A' link show dev '$IFR' >/dev/null 2>&1" 2 ||
  netns_fail "$IFR still exists after SIGTERM"
echo "SIGTERM: ringtun exited 0, socket and $IFR gone"

stop_process "$WGGO_PID" 5 TERM || true
netns_cleanup
netns_assert_clean
echo "wg_uapi: ok"
