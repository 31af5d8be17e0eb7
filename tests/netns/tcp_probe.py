#!/usr/bin/env python3
"""Hostile and idle connections to a ringtun TCP listener (2-byte big-endian length framing).

  tcp_probe.py cases ADDR PORT --cases NAME,... [--replay FILE] [--timeout S] [--seed N]
      One connection per case, all at once; each sends its bytes (below) and is watched
      until the server closes it or --timeout passes. Prints one line per case:
        NAME closed_after=SECONDS     (from the case's reference time, below)
        NAME open
      Exit 0 when every connection was made and its bytes sent, 1 otherwise.
  tcp_probe.py flood ADDR PORT [--garbage N] [--idle N] [--stall N] [--rate CONN_PER_S]
                     [--progress FILE] [--stop FILE] [--timeout S] [--seed N] [--source ADDR]
                     [--burst N]
      Opens N garbage connections (each sends 64-511 random bytes at once, behind a length
      prefix no WireGuard message has: 0 or above LARGEST_MESSAGE), N idle ones
      (send nothing) and N stalled ones (the length prefix and half of an initiation),
      interleaved, at about --rate connections a second; holds every connection until the
      server closes it or the file --stop exists (or --timeout), then closes the rest.
      Rewrites --progress (atomically, at most every 0.1 s) and finally prints:
        opened=N failed=N open=N closed_by_peer=N
      Exit 0 unless a socket call other than connect fails. --source binds every
      connection to that local address (one of the namespace's own). --burst caps the
      connections started between two looks at the open ones (default: all that are due),
      so that a --rate above what the prober can open still reads and closes what the server
      closed, and still sees --stop: connections then go out back to back at its top speed.

Cases and their reference time (what the server must do, for ringtun with MTU 1420):
  zero_length         a length prefix of 0                        close at once
  oversized           prefix 9049 (> any message of a peer MTU 9000) close at once
  oversized_max       prefix 0xffff                               close at once
  malformed_type      a 148-byte frame of message type 7          close at once
  malformed_length    a 147-byte frame of type 1 (initiation)     close at once
  malformed_reserved  a 92-byte type 2 frame, reserved byte set   close at once
  good_then_zero      an initiation frame (bad mac1), then a 0 prefix, in one write:
                      the initiation is processed, then close at once
  stall               prefix 148 and 60 bytes, then nothing       close ~10 s later
  stall_prefix        one byte of a length prefix, then nothing   close ~10 s later
  trickle             prefix 148, then one byte every 0.5 s; reference = the prefix, since
                      a partial frame expires however slowly it grows: close ~10 s later
  idle                nothing; reference = connect                close ~15 s later
  bad_mac1            a well-formed initiation with a random mac1 (dropped as invalid_mac1),
                      then nothing; reference = last byte        close ~15 s later (idle)
  split               the same, one byte per write 5 ms apart     close ~15 s later (idle)
  max_data            a 1456-byte data message (the largest a peer with MTU 1420 sends)
                      for an unknown receiver index               close ~15 s later (idle)
  replay              the frame in --replay (hex, as tcp_capture.py writes it): a data message
                      the real peer sent, so it decrypts but its counter is replayed; it must
                      not attach the connection to the peer        close ~15 s later (idle)
"""
import argparse
import errno
import os
import random
import resource
import selectors
import socket
import struct
import sys
import time

INITIATION_LEN = 148
# The largest WireGuard message ringtun accepts in a frame: data from a peer with MTU 9000
# (16-byte header + 9000 + padding room 16 + 16-byte tag).
LARGEST_MESSAGE = 9048
RESPONSE_LEN = 92
MAX_DATA_LEN = 16 + 1424 + 16  # header, 1420 padded to 16, tag


def frame(payload: bytes) -> bytes:
    return struct.pack("!H", len(payload)) + payload


def message(rng: random.Random, kind: int, length: int) -> bytes:
    return struct.pack("<I", kind) + rng.randbytes(length - 4)


def case_bytes(name: str, rng: random.Random, replay: str):
    """(initial bytes, trickle bytes, trickle interval): trickle bytes go one at a time."""
    if name == "replay":
        if not replay:
            raise ValueError("case replay needs --replay FILE")
        with open(replay) as f:
            return bytes.fromhex(f.read().strip()), b"", 0.0
    initiation = message(rng, 1, INITIATION_LEN)
    table = {
        "zero_length": b"\0\0",
        "oversized": struct.pack("!H", LARGEST_MESSAGE + 1) + rng.randbytes(100),
        "oversized_max": b"\xff\xff" + rng.randbytes(64),
        "malformed_type": frame(message(rng, 7, INITIATION_LEN)),
        "malformed_length": frame(message(rng, 1, INITIATION_LEN - 1)),
        "malformed_reserved": frame(b"\x02\x00\x01\x00" + rng.randbytes(RESPONSE_LEN - 4)),
        "good_then_zero": frame(initiation) + b"\0\0",
        "stall": frame(initiation)[:62],
        "stall_prefix": b"\x00",
        "idle": b"",
        "bad_mac1": frame(initiation),
        "max_data": frame(message(rng, 4, MAX_DATA_LEN)),
    }
    if name == "trickle":
        return struct.pack("!H", INITIATION_LEN), initiation, 0.5
    if name == "split":
        return b"", frame(initiation), 0.005
    if name not in table:
        raise ValueError(f"unknown case {name}")
    return table[name], b"", 0.0


class Case:
    def __init__(self, name: str, rng: random.Random, replay: str):
        self.name = name
        self.initial, self.trickle, self.interval = case_bytes(name, rng, replay)
        # A trickle that completes its frame (split) is timed from its last byte, one that
        # never does (trickle) from its first.
        self.ref_at_end = name == "split"
        self.sock = None
        self.ref = 0.0
        self.closed_at = None
        self.next_send = 0.0


def connect(addr: str, port: int, timeout: float) -> socket.socket:
    s = socket.create_connection((addr, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def peer_closed(sock: socket.socket) -> bool:
    """Reads what is readable; True when the server closed (FIN or RST)."""
    try:
        return sock.recv(4096, socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def start_case(c: Case, args) -> None:
    c.sock = connect(args.addr, args.port, 5.0)
    if c.initial:
        c.sock.sendall(c.initial)
    c.ref = time.monotonic()
    c.next_send = c.ref + c.interval
    c.sock.setblocking(False)


def trickle(c: Case, now: float) -> None:
    """Sends the case's next trickle byte when it is due."""
    if c.closed_at is not None or not c.trickle or now < c.next_send:
        return
    c.next_send = now + c.interval
    try:
        c.sock.send(c.trickle[:1])
    except OSError:
        return  # closed: the next select reports it
    c.trickle = c.trickle[1:]
    if not c.trickle and c.ref_at_end:
        c.ref = now


def run_cases(args) -> int:
    rng = random.Random(args.seed)
    cases = [Case(n, rng, args.replay) for n in args.cases.split(",") if n]
    try:
        for c in cases:
            start_case(c, args)
    except OSError as e:
        print(f"tcp_probe cases: {e}", file=sys.stderr)
        return 1
    deadline = time.monotonic() + args.timeout
    sel = selectors.DefaultSelector()
    for c in cases:
        sel.register(c.sock, selectors.EVENT_READ, c)
    while time.monotonic() < deadline and any(c.closed_at is None for c in cases):
        for key, _ in sel.select(0.005):
            c = key.data
            if peer_closed(c.sock):
                c.closed_at = time.monotonic()
                sel.unregister(c.sock)
        now = time.monotonic()
        for c in cases:
            trickle(c, now)
    for c in cases:
        if c.closed_at is None:
            print(f"{c.name} open")
        else:
            print(f"{c.name} closed_after={c.closed_at - c.ref:.2f}")
        c.sock.close()
    return 0


class Flood:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.sel = selectors.DefaultSelector()
        self.opened = self.failed = self.closed_by_peer = 0
        self.open = {}  # socket -> bytes to send once connected
        self.written_at = 0.0

    def plan(self):
        kinds = (["garbage"] * self.args.garbage + ["idle"] * self.args.idle +
                 ["stall"] * self.args.stall)
        self.rng.shuffle(kinds)
        return kinds

    def payload(self, kind: str) -> bytes:
        if kind == "garbage":
            # A random prefix would usually be bad too, but a small one just waits for bytes
            # that never come; make every garbage connection a framing error.
            length = self.rng.choice([0, self.rng.randrange(LARGEST_MESSAGE + 1, 1 << 16)])
            return struct.pack("!H", length) + self.rng.randbytes(self.rng.randrange(62, 510))
        if kind == "stall":
            return frame(message(self.rng, 1, INITIATION_LEN))[:80]
        return b""

    def start(self, kind: str) -> None:
        s = socket.socket(socket.AF_INET6 if ":" in self.args.addr else socket.AF_INET,
                          socket.SOCK_STREAM)
        if self.args.source:
            s.bind((self.args.source, 0))
        s.setblocking(False)
        err = s.connect_ex((self.args.addr, self.args.port))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            self.failed += 1
            return
        self.open[s] = self.payload(kind)
        self.sel.register(s, selectors.EVENT_WRITE)

    def on_event(self, s: socket.socket, events: int) -> None:
        if events & selectors.EVENT_WRITE:
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self.drop(s)
                self.failed += 1
                return
            self.opened += 1
            data = self.open[s]
            if data:
                try:
                    s.send(data)
                except OSError:
                    pass  # the read side reports the close
            self.sel.modify(s, selectors.EVENT_READ)
        elif peer_closed(s):
            self.drop(s)
            self.closed_by_peer += 1

    def drop(self, s: socket.socket) -> None:
        self.sel.unregister(s)
        del self.open[s]
        s.close()

    def summary(self) -> str:
        return (f"opened={self.opened} failed={self.failed} open={len(self.open)} "
                f"closed_by_peer={self.closed_by_peer}")

    def progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.args.progress or (not force and now - self.written_at < 0.1):
            return
        self.written_at = now
        tmp = self.args.progress + ".tmp"
        with open(tmp, "w") as f:
            f.write(self.summary() + "\n")
        os.replace(tmp, self.args.progress)

    def run(self) -> int:
        kinds = self.plan()
        start = time.monotonic()
        deadline = start + self.args.timeout
        started = 0
        while time.monotonic() < deadline:
            if self.args.stop and os.path.exists(self.args.stop):
                break
            due = min(len(kinds), int((time.monotonic() - start) * self.args.rate) + 1)
            if self.args.burst:
                due = min(due, started + self.args.burst)
            while started < due:
                self.start(kinds[started])
                started += 1
            for key, events in self.sel.select(0.01):
                self.on_event(key.fileobj, events)
            self.progress()
        self.progress(force=True)
        print(self.summary())
        for s in list(self.open):
            self.drop(s)
        return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["cases", "flood"])
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("--cases", default="")
    ap.add_argument("--replay")
    ap.add_argument("--garbage", type=int, default=0)
    ap.add_argument("--idle", type=int, default=0)
    ap.add_argument("--stall", type=int, default=0)
    ap.add_argument("--rate", type=float, default=500.0)
    ap.add_argument("--progress")
    ap.add_argument("--stop")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--source")
    ap.add_argument("--burst", type=int, default=0)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.garbage + args.idle + args.stall + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(want, soft), hard), hard))
    try:
        return run_cases(args) if args.mode == "cases" else Flood(args).run()
    except (OSError, ValueError) as e:
        print(f"tcp_probe {args.mode}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
