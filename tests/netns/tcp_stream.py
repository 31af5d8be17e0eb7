#!/usr/bin/env python3
"""A paced TCP stream of random bytes that runs until told to stop, for restart tests.

tcp_xfer.py sends a fixed amount as fast as it can; a restart test needs a transfer that is
still running while a tunnel endpoint goes away and comes back, and a way to see it resume.

  tcp_stream.py recv ADDR PORT --progress FILE [--ready FILE] [--timeout S]
      Listens on ADDR:PORT, accepts one connection, reads to EOF. Rewrites --progress with
      the byte count received so far (at most every 0.05 s, atomically). Touches --ready once
      listening. Prints "bytes=N sha256=HEX".
  tcp_stream.py send ADDR PORT --rate BYTES_PER_S --stop FILE [--timeout S]
      Connects (retrying), sends os.urandom data at about --rate until the file --stop
      exists, half-closes, waits for the receiver to close. Prints "bytes=N sha256=HEX".

Everything is bounded by --timeout (default 120 s) overall. Exit 0 on success, 1 on a
timeout or socket error.
"""
import argparse
import hashlib
import os
import socket
import sys
import time

CHUNK = 1 << 14


def remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    return left


def write_progress(path: str, total: int) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{total}\n")
    os.replace(tmp, path)


def recv(args, deadline: float) -> int:
    info = socket.getaddrinfo(args.addr, args.port, 0, socket.SOCK_STREAM)[0]
    with socket.socket(info[0], socket.SOCK_STREAM) as lsock:
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind(info[4])
        lsock.listen(1)
        write_progress(args.progress, 0)
        if args.ready:
            with open(args.ready, "w"):
                pass
        lsock.settimeout(remaining(deadline))
        conn, _ = lsock.accept()
    digest = hashlib.sha256()
    total = 0
    written_at = 0.0
    with conn:
        while True:
            conn.settimeout(min(0.2, remaining(deadline)))
            try:
                data = conn.recv(CHUNK)
            except socket.timeout:
                data = None
            if data == b"":
                break
            if data:
                digest.update(data)
                total += len(data)
            now = time.monotonic()
            if now - written_at >= 0.05:
                write_progress(args.progress, total)
                written_at = now
    write_progress(args.progress, total)
    print(f"bytes={total} sha256={digest.hexdigest()}")
    return 0


def connect(addr: str, port: int, deadline: float) -> socket.socket:
    while True:
        try:
            return socket.create_connection((addr, port), timeout=min(2.0, remaining(deadline)))
        except OSError:
            if deadline - time.monotonic() < 0.2:
                raise
            time.sleep(0.1)


def send(args, deadline: float) -> int:
    digest = hashlib.sha256()
    total = 0
    start = time.monotonic()
    with connect(args.addr, args.port, deadline) as conn:
        while not os.path.exists(args.stop):
            ahead = total / args.rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(min(ahead, 0.05))
                continue
            data = os.urandom(CHUNK)
            conn.settimeout(remaining(deadline))
            conn.sendall(data)
            digest.update(data)
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
    ap.add_argument("--rate", type=float, default=1 << 20)
    ap.add_argument("--stop")
    ap.add_argument("--progress")
    ap.add_argument("--ready")
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args()
    if (args.mode == "send" and (not args.stop or args.rate <= 0)) or (
            args.mode == "recv" and not args.progress):
        print("tcp_stream: send needs --stop and a positive --rate, recv needs --progress",
              file=sys.stderr)
        return 2
    deadline = time.monotonic() + args.timeout
    try:
        return send(args, deadline) if args.mode == "send" else recv(args, deadline)
    except (OSError, TimeoutError) as e:
        print(f"tcp_stream {args.mode}: {args.addr}:{args.port}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
