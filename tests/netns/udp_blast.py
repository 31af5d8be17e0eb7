#!/usr/bin/env python3
"""A one-way flood of UDP datagrams to one address, for tests that load a tunnel in one
direction without needing anything at the far end (iperf3 needs its server and a control
connection through the tunnel).

  udp_blast.py ADDR PORT [--size BYTES] [--rate PKTS_PER_S] [--seconds S] [--stop FILE]
      Sends --size (default 1200) byte datagrams to ADDR:PORT at about --rate a second (0,
      the default: as fast as the socket takes them) for --seconds (default 10), or until
      the file --stop exists. Send errors (ENOBUFS, ECONNREFUSED after an ICMP error, no
      route) are counted, not fatal. Prints "sent=N failed=M".
Exit 0, or 2 on bad arguments or when the socket cannot be made.
"""
import argparse
import os
import socket
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("--size", type=int, default=1200)
    ap.add_argument("--rate", type=float, default=0.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--stop")
    args = ap.parse_args()
    if not 1 <= args.size <= 65000 or args.rate < 0 or not 0 < args.seconds <= 600:
        print("udp_blast: bad arguments", file=sys.stderr)
        return 2
    try:
        info = socket.getaddrinfo(args.addr, args.port, 0, socket.SOCK_DGRAM)[0]
        sock = socket.socket(info[0], socket.SOCK_DGRAM)
    except OSError as e:
        print(f"udp_blast: {args.addr}: {e}", file=sys.stderr)
        return 2
    payload = os.urandom(args.size)
    start = time.monotonic()
    deadline = start + args.seconds
    sent = failed = 0
    next_check = start
    while True:
        now = time.monotonic()
        if now >= next_check:
            if now >= deadline or (args.stop and os.path.exists(args.stop)):
                break
            next_check = now + 0.05
        if args.rate and sent + failed >= (now - start) * args.rate:
            time.sleep(min(0.001, max(0.0, deadline - now)))
            continue
        try:
            sock.sendto(payload, info[4])
            sent += 1
        except OSError:
            failed += 1
            if not args.rate:
                time.sleep(0.0005)  # the queue is full or there is no route: let it drain
    print(f"sent={sent} failed={failed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
