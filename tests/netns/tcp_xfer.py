#!/usr/bin/env python3
"""One TCP transfer of random bytes with a SHA-256 of what was sent and what arrived.

socat and netcat are not among the test dependencies, so lib_traffic.sh uses this, in one of
two ways: a fixed amount sent as fast as it can go (transfer_sha256), or a paced stream that
runs until told to stop (stream_start and stream_stop), for tests that break or restart a
tunnel endpoint while the transfer runs and watch it resume.

  tcp_xfer.py recv ADDR PORT [--progress FILE] [--ready FILE] [--timeout S]
      Listens on ADDR:PORT, accepts one connection, reads to EOF. Touches --ready once
      listening. With --progress, keeps the byte count received so far in FILE (rewritten
      atomically, at most every 0.05 s and within 0.2 s of a change; 0 before the
      connection). Prints "bytes=N sha256=HEX".
  tcp_xfer.py send ADDR PORT BYTES [--timeout S]
      Connects (retrying for up to --timeout), sends BYTES of os.urandom data, half-closes,
      waits for the receiver to close. Prints "bytes=N sha256=HEX".
  tcp_xfer.py send ADDR PORT --stop FILE [--rate BYTES_PER_S] [--timeout S]
      The same, but sends until the file --stop exists instead of a fixed amount, at about
      --rate (unpaced without it).

Everything is bounded by --timeout (default 60 s) overall. Exit 0 on success, 1 on a timeout
or socket error, 2 on bad arguments.
"""
import argparse
import hashlib
import os
import socket
import sys
import time

CHUNK = 1 << 16
# A paced sender writes smaller pieces so that its rate stays even at a few MiB/s.
PACED_CHUNK = 1 << 14
# How long a receiver with --progress waits for data before it refreshes the file anyway.
PROGRESS_POLL = 0.2
PROGRESS_EVERY = 0.05


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


def accept_one(args, deadline: float) -> socket.socket:
    info = socket.getaddrinfo(args.addr, args.port, 0, socket.SOCK_STREAM)[0]
    with socket.socket(info[0], socket.SOCK_STREAM) as lsock:
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind(info[4])
        lsock.listen(1)
        if args.progress:
            write_progress(args.progress, 0)
        if args.ready:
            with open(args.ready, "w"):
                pass
        lsock.settimeout(remaining(deadline))
        conn, _ = lsock.accept()
    return conn


def recv(args, deadline: float) -> int:
    digest = hashlib.sha256()
    total = 0
    written_at = 0.0
    with accept_one(args, deadline) as conn:
        while True:
            # A short wait lets the progress file catch up with the last bytes of a burst
            # even when nothing more comes (a tunnel endpoint being restarted).
            wait = remaining(deadline)
            conn.settimeout(min(PROGRESS_POLL, wait) if args.progress else wait)
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
            if args.progress and now - written_at >= PROGRESS_EVERY:
                write_progress(args.progress, total)
                written_at = now
    if args.progress:
        write_progress(args.progress, total)
    print(f"bytes={total} sha256={digest.hexdigest()}")
    return 0


def connect(addr: str, port: int, deadline: float) -> socket.socket:
    """The receiver may not be listening yet, or the tunnel may still be handshaking."""
    while True:
        try:
            return socket.create_connection((addr, port), timeout=min(2.0, remaining(deadline)))
        except OSError:
            if deadline - time.monotonic() < 0.2:
                raise
            time.sleep(0.1)


def next_size(args, total: int, start: float) -> int:
    """Bytes to send now; 0 to send nothing more; -1 to wait a little for the pace."""
    if args.stop is None:
        return min(CHUNK, args.bytes - total)
    if os.path.exists(args.stop):
        return 0
    if args.rate is None:
        return CHUNK
    ahead = total / args.rate - (time.monotonic() - start)
    if ahead > 0:
        time.sleep(min(ahead, 0.05))
        return -1
    return PACED_CHUNK


def send(args, deadline: float) -> int:
    digest = hashlib.sha256()
    total = 0
    start = time.monotonic()
    with connect(args.addr, args.port, deadline) as conn:
        while (size := next_size(args, total, start)) != 0:
            if size < 0:
                continue
            data = os.urandom(size)
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


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["send", "recv"])
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("bytes", type=int, nargs="?")
    ap.add_argument("--stop")
    ap.add_argument("--rate", type=float)
    ap.add_argument("--progress")
    ap.add_argument("--ready")
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args()
    if args.mode == "send" and (args.bytes is None) == (args.stop is None):
        ap.error("send takes either BYTES or --stop FILE")
    if args.mode == "send" and args.bytes is not None and args.bytes < 0:
        ap.error("BYTES must not be negative")
    if args.rate is not None and (args.stop is None or args.rate <= 0):
        ap.error("--rate goes with --stop and must be positive")
    if args.mode == "recv" and (args.bytes is not None or args.stop or args.rate):
        ap.error("recv takes neither BYTES, --stop nor --rate")
    if args.mode == "send" and (args.progress or args.ready):
        ap.error("send takes neither --progress nor --ready")
    return args


def main() -> int:
    args = parse_args()
    deadline = time.monotonic() + args.timeout
    try:
        return send(args, deadline) if args.mode == "send" else recv(args, deadline)
    except (OSError, TimeoutError) as e:
        print(f"tcp_xfer {args.mode}: {args.addr}:{args.port}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
