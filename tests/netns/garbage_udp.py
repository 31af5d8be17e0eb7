#!/usr/bin/env python3
"""Hostile datagrams for a WireGuard UDP port, with the drop reasons they must be counted as.

  garbage_udp.py capture IFACE PORT OUT [--data N] [--timeout S] [--ready FILE]
      Records outgoing WireGuard messages to UDP port PORT seen on IFACE (AF_PACKET, run it
      in the sender's namespace): the first handshake initiation and the first N data
      messages, hex, one "TYPE HEX" line each, into OUT. Stops when it has them or after
      --timeout seconds (default 20). Touches --ready once the socket is open.
  garbage_udp.py send ADDR PORT --peer-public B64 [--captured OUT] [--count N] [--seed S]
                      [--only malformed]
      Sends --count (default 40) messages of each kind below to ADDR:PORT and prints
      "sent=N" and "expect REASON=COUNT ..." with the drop reason each kind must produce.
      --only malformed sends the malformed kinds alone.
  garbage_udp.py flood ADDR PORT --peer-public B64 [--count N]
      Sends --count (default 1000) initiations with a valid mac1 as fast as it can, then
      listens 2 s for cookie replies. Prints "flood=N cookie_replies=M".
  garbage_udp.py spoofed ADDR PORT --peer-public B64 --sources FILE [--rate N] [--seconds S]
      The same initiations from many sources: one socket bound to each address listed in FILE
      (one a line; addresses of this namespace), used in turn, at about --rate (default 2000)
      a second for --seconds (default 10), reading the cookie replies that come back as it
      goes (and for 1 s after). Prints "flood=N sources=M cookie_replies=R".

Kinds sent by `send` (paper §5.4 message layout; mac1 keyed with HASH("mac1----" || S_pub)):
  malformed     random bytes of random length; lengths 0..3; each of the four types at
                wrong lengths; right lengths with non-zero reserved bytes; unknown types
  invalid_mac1  initiations and responses of the right length, random content
  unknown_index cookie replies and data with random receiver indices; responses with a
                valid mac1 and a random receiver index
  decrypt_failed initiations with a valid mac1 and random content; with --captured: data
                to the live receiver index with a fresh counter and random content, and
                cookie replies to it
  unexpected_message  with --captured: responses with a valid mac1 to the live index
  counter_exhausted   with --captured: data to the live index with a counter past
                REJECT_AFTER_MESSAGES
  replayed_counter    with --captured: the captured data messages sent again verbatim, and
                data to the live index with counter 0
  replayed_timestamp  with --captured: the captured initiation sent again
Handshake messages with a valid mac1 count towards the receiver's load threshold (512 per
second in ringtun); `send` keeps them under it by pacing, `flood` goes over it on purpose.
"""
import argparse
import base64
import hashlib
import os
import random
import select
import socket
import struct
import sys
import time

INITIATION, RESPONSE, COOKIE_REPLY, DATA = 1, 2, 3, 4
LENGTH = {INITIATION: 148, RESPONSE: 92, COOKIE_REPLY: 64}
MAC1_OFFSET = {INITIATION: 116, RESPONSE: 60}
DATA_MIN = 32  # header 16 + tag 16 (a keepalive)
REJECT_AFTER_MESSAGES = 2**64 - 2**13 - 1
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def mac1(message: bytes, peer_public: bytes, kind: int) -> bytes:
    """The message with a correct mac1 for the receiver and a zero mac2."""
    key = hashlib.blake2s(b"mac1----" + peer_public).digest()
    off = MAC1_OFFSET[kind]
    tag = hashlib.blake2s(message[:off], key=key, digest_size=16).digest()
    return message[:off] + tag + bytes(16)


def header(kind: int) -> bytes:
    return struct.pack("<I", kind)


def random_message(rng: random.Random, kind: int, length: int) -> bytes:
    return header(kind) + rng.randbytes(length - 4)


def data_message(receiver: int, counter: int, body: bytes) -> bytes:
    return struct.pack("<IIQ", DATA, receiver, counter) + body


class Sender:
    def __init__(self, addr: str, port: int):
        info = socket.getaddrinfo(addr, port, 0, socket.SOCK_DGRAM)[0]
        self.sock = socket.socket(info[0], socket.SOCK_DGRAM)
        self.dest = info[4]
        self.sent = 0
        self.expect = {}

    def send(self, reason: str, message: bytes) -> None:
        self.sock.sendto(message, self.dest)
        self.sent += 1
        self.expect[reason] = self.expect.get(reason, 0) + 1
        if self.sent % 50 == 0:
            time.sleep(0.005)  # stay well inside the receiver's socket buffer


def send_malformed(s: Sender, rng: random.Random, n: int) -> None:
    for length in range(4):
        s.send("malformed", rng.randbytes(length))
    for _ in range(n):
        m = bytearray(rng.randbytes(rng.randrange(4, 1500)))
        if m[0] in (1, 2, 3, 4) and m[1:4] == b"\0\0\0":
            m[2] = 1 + rng.randrange(255)
        s.send("malformed", bytes(m))
    for kind, length in LENGTH.items():
        wrong = {4, length - 1, length + 1, length + 16, 2 * length}
        wrong |= {rng.randrange(4, 1500) for _ in range(n)}
        for size in sorted(wrong - {length}):
            s.send("malformed", random_message(rng, kind, size))
    for size in range(4, DATA_MIN):
        s.send("malformed", random_message(rng, DATA, size))
    for kind, length in list(LENGTH.items()) + [(DATA, 96)]:
        for _ in range(n // 4 + 1):
            m = bytearray(random_message(rng, kind, length))
            m[1 + rng.randrange(3)] = 1 + rng.randrange(255)
            s.send("malformed", bytes(m))
    for kind in [0, 5, 6, 0x7F, 0x80, 0xFF] + [rng.randrange(5, 256) for _ in range(n // 4)]:
        for size in (4, 32, 64, 92, 148, 1000):
            s.send("malformed", random_message(rng, kind, size))


def send_unauthenticated(s: Sender, rng: random.Random, n: int, peer_public: bytes) -> None:
    for _ in range(n):
        s.send("invalid_mac1", random_message(rng, INITIATION, LENGTH[INITIATION]))
        s.send("invalid_mac1", random_message(rng, RESPONSE, LENGTH[RESPONSE]))
        s.send("unknown_index", random_message(rng, COOKIE_REPLY, LENGTH[COOKIE_REPLY]))
        s.send("unknown_index", random_message(rng, DATA, rng.randrange(DATA_MIN, 1500)))
        s.send("unknown_index", random_message(rng, DATA, DATA_MIN))
    # Valid mac1: these reach the handshake code. Paced under the load threshold.
    for i in range(n):
        s.send("decrypt_failed",
               mac1(random_message(rng, INITIATION, LENGTH[INITIATION]), peer_public, INITIATION))
        s.send("unknown_index",
               mac1(random_message(rng, RESPONSE, LENGTH[RESPONSE]), peer_public, RESPONSE))
        if i % 20 == 19:
            time.sleep(0.1)


def load_captured(path: str):
    initiation, data = None, []
    with open(path) as f:
        for line in f:
            kind, hexed = line.split()
            if int(kind) == INITIATION and initiation is None:
                initiation = bytes.fromhex(hexed)
            elif int(kind) == DATA:
                data.append(bytes.fromhex(hexed))
    return initiation, data


def send_with_live_index(s: Sender, rng: random.Random, n: int, peer_public: bytes,
                         captured: str) -> None:
    initiation, data = load_captured(captured)
    if not data:
        raise ValueError(f"{captured}: no data message captured")
    index = struct.unpack_from("<I", data[0], 4)[0]
    for message in data:
        s.send("replayed_counter", message)
    s.send("replayed_counter", data_message(index, 0, rng.randbytes(32)))
    for _ in range(n):
        body = rng.randbytes(rng.randrange(16, 1400))
        s.send("decrypt_failed", data_message(index, rng.randrange(2**40, 2**60), body))
        counter = rng.randrange(REJECT_AFTER_MESSAGES, 2**64)
        s.send("counter_exhausted", data_message(index, counter, body))
        reply = header(COOKIE_REPLY) + struct.pack("<I", index) + rng.randbytes(56)
        s.send("decrypt_failed", reply)
    for i in range(n):
        response = header(RESPONSE) + rng.randbytes(4) + struct.pack("<I", index)
        response += rng.randbytes(LENGTH[RESPONSE] - len(response))
        s.send("unexpected_message", mac1(response, peer_public, RESPONSE))
        if i % 20 == 19:
            time.sleep(0.1)
    if initiation is not None:
        s.send("replayed_timestamp", initiation)


def capture(args) -> int:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((args.iface, 0))
    if args.ready:
        with open(args.ready, "w"):
            pass
    deadline = time.monotonic() + args.timeout
    initiation, data = None, []
    while (initiation is None or len(data) < args.data) and time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], 0.1)
        if not ready:
            continue
        frame, addr = sock.recvfrom(65535)
        if addr[2] != PACKET_OUTGOING:
            continue
        payload = udp_payload(frame, args.port)
        if payload is None or len(payload) < 4:
            continue
        if payload[0] == INITIATION and len(payload) == LENGTH[INITIATION] and not initiation:
            initiation = payload
        elif payload[0] == DATA and len(payload) >= DATA_MIN and len(data) < args.data:
            data.append(payload)
    with open(args.out, "w") as f:
        if initiation:
            f.write(f"{INITIATION} {initiation.hex()}\n")
        for message in data:
            f.write(f"{DATA} {message.hex()}\n")
    print(f"captured initiation={int(initiation is not None)} data={len(data)}")
    return 0


def udp_payload(frame: bytes, port: int):
    """The UDP payload of an Ethernet frame to `port`, or None."""
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    if ethertype == 0x0800 and len(frame) >= 34 and frame[23] == 17:
        udp = 14 + (frame[14] & 0x0F) * 4
    elif ethertype == 0x86DD and len(frame) >= 62 and frame[20] == 17:
        udp = 54
    else:
        return None
    if len(frame) < udp + 8 or struct.unpack_from("!H", frame, udp + 2)[0] != port:
        return None
    return frame[udp + 8:udp + struct.unpack_from("!H", frame, udp + 4)[0]]


def flood(args, peer_public: bytes) -> int:
    s = Sender(args.addr, args.port)
    # Every reply waits unread until the flood is out: room for all of them (root may force).
    room = max(4 << 20, args.count * 2048)
    try:
        s.sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), room)
    except OSError:
        s.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, room)
    rng = random.Random(args.seed)
    for _ in range(args.count):
        s.sock.sendto(mac1(random_message(rng, INITIATION, LENGTH[INITIATION]), peer_public,
                           INITIATION), s.dest)
    replies = 0
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        ready, _, _ = select.select([s.sock], [], [], 0.1)
        if ready:
            message = s.sock.recv(2048)
            if len(message) == LENGTH[COOKIE_REPLY] and message[:4] == header(COOKIE_REPLY):
                replies += 1
    print(f"flood={args.count} cookie_replies={replies}")
    return 0


def spoofed(args, peer_public: bytes) -> int:
    with open(args.sources) as f:
        sources = [line.strip() for line in f if line.strip()]
    if not sources:
        raise ValueError(f"{args.sources}: no source address")
    family = socket.AF_INET6 if ":" in args.addr else socket.AF_INET
    socks = []
    for address in sources:
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.bind((address, 0))
        s.setblocking(False)
        socks.append(s)
    dest = (args.addr, args.port)
    rng = random.Random(args.seed)
    sent = replies = 0

    def read_replies(wait: float) -> int:
        got = 0
        ready, _, _ = select.select(socks, [], [], wait)
        for s in ready:
            while True:
                try:
                    message = s.recv(2048)
                except BlockingIOError:
                    break
                if len(message) == LENGTH[COOKIE_REPLY] and message[:4] == header(COOKIE_REPLY):
                    got += 1
        return got

    start = time.monotonic()
    end = start + args.seconds
    while (now := time.monotonic()) < end:
        due = min(int((now - start) * args.rate) + 1, int(args.seconds * args.rate))
        while sent < due:
            message = mac1(random_message(rng, INITIATION, LENGTH[INITIATION]), peer_public,
                           INITIATION)
            try:
                socks[sent % len(socks)].sendto(message, dest)
            except BlockingIOError:
                break  # the socket buffer is full: the next turn goes on
            sent += 1
        replies += read_replies(0.002)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        replies += read_replies(0.1)
    print(f"flood={sent} sources={len(socks)} cookie_replies={replies}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["capture", "send", "flood", "spoofed"])
    ap.add_argument("addr", help="capture: interface; send, flood: destination address")
    ap.add_argument("port", type=int)
    ap.add_argument("out", nargs="?", help="capture: output file")
    ap.add_argument("--data", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--ready")
    ap.add_argument("--peer-public")
    ap.add_argument("--captured")
    ap.add_argument("--count", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", choices=["malformed"])
    ap.add_argument("--sources")
    ap.add_argument("--rate", type=float, default=2000.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    try:
        if args.mode == "capture":
            if not args.out:
                raise ValueError("capture needs OUT")
            args.iface = args.addr
            return capture(args)
        peer_public = base64.b64decode(args.peer_public or "", validate=True)
        if len(peer_public) != 32:
            raise ValueError("--peer-public must be a base64 X25519 public key")
        if args.mode == "flood":
            args.count = args.count or 1000
            return flood(args, peer_public)
        if args.mode == "spoofed":
            if not args.sources:
                raise ValueError("spoofed needs --sources")
            return spoofed(args, peer_public)
        s = Sender(args.addr, args.port)
        rng = random.Random(args.seed)
        n = args.count or 40
        send_malformed(s, rng, n)
        if args.only != "malformed":
            send_unauthenticated(s, rng, n, peer_public)
            if args.captured:
                send_with_live_index(s, rng, n, peer_public, args.captured)
    except (OSError, ValueError) as e:
        print(f"garbage_udp {args.mode}: {e}", file=sys.stderr)
        return 1
    print(f"sent={s.sent}")
    print("expect " + " ".join(f"{k}={v}" for k, v in sorted(s.expect.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
