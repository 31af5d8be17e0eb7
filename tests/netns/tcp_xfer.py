#!/usr/bin/env python3
"""One TCP transfer of random bytes with a SHA-256 of what was sent and what arrived.

socat and netcat are not among the test dependencies, so lib.sh's transfer_sha256 uses this.

  tcp_xfer.py recv ADDR PORT [--timeout S] [--ready FILE]
      Listens on ADDR:PORT, accepts one connection, reads to EOF.
      Touches --ready once listening. Prints "bytes=N sha256=HEX".
  tcp_xfer.py send ADDR PORT BYTES [--timeout S]
      Connects (retrying for up to --timeout), sends BYTES of os.urandom data, half-closes,
      waits for the receiver to close. Prints "bytes=N sha256=HEX".

Every socket operation is bounded by --timeout (default 60 s) overall. Exit 0 on success,
1 on a timeout or socket error.
"""
import argparse
import hashlib
import os
import socket
import sys
import time

CHUNK = 1 << 16


def remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    return left


def recv(args, deadline: float) -> int:
    info = socket.getaddrinfo(args.addr, args.port, 0, socket.SOCK_STREAM)[0]
    with socket.socket(info[0], socket.SOCK_STREAM) as lsock:
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind(info[4])
        lsock.listen(1)
        if args.ready:
            with open(args.ready, "w"):
                pass
        lsock.settimeout(remaining(deadline))
        conn, _ = lsock.accept()
    digest = hashlib.sha256()
    total = 0
    with conn:
        while True:
            conn.settimeout(remaining(deadline))
            data = conn.recv(CHUNK)
            if not data:
                break
            digest.update(data)
            total += len(data)
    print(f"bytes={total} sha256={digest.hexdigest()}")
    return 0


def connect(addr: str, port: int, deadline: float) -> socket.socket:
    """The receiver may not be listening yet, or the tunnel may still be handshaking."""
    while True:
        try:
            return socket.create_connection((addr, port), timeout=min(2.0, remaining(deadline)))
        except (ConnectionRefusedError, socket.timeout, OSError):
            if deadline - time.monotonic() < 0.2:
                raise
            time.sleep(0.1)


def send(args, deadline: float) -> int:
    digest = hashlib.sha256()
    total = 0
    with connect(args.addr, args.port, deadline) as conn:
        while total < args.bytes:
            data = os.urandom(min(CHUNK, args.bytes - total))
            digest.update(data)
            conn.settimeout(remaining(deadline))
            conn.sendall(data)
            total += len(data)
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(remaining(deadline))
        while conn.recv(CHUNK):
            pass
    print(f"bytes={total} sha256={digest.hexdigest()}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["send", "recv"])
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("bytes", type=int, nargs="?", default=0)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--ready")
    args = ap.parse_args()
    deadline = time.monotonic() + args.timeout
    try:
        return send(args, deadline) if args.mode == "send" else recv(args, deadline)
    except (OSError, TimeoutError) as e:
        print(f"tcp_xfer {args.mode}: {args.addr}:{args.port}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
