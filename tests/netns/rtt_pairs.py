#!/usr/bin/env python3
"""Round trips through two tunnels, compared ping by ping: echo requests to ADDR_A from inside
namespace NS_A and to ADDR_B from inside NS_B, one of each in turn (A B, then B A, ...), so
that the two arms of every pair meet the same machine within a millisecond of each other.

    rtt_pairs.py NS_A ADDR_A NS_B ADDR_B [--pairs N] [--interval S] [--timeout S]

On a machine shared with other work, one arm measured after the other sees a different load;
interleaved this finely, the load is common to both and their ratio keeps what the tunnels
themselves add (run it, and the daemons, on one CPU: each CPU's other work differs). One raw
ICMP socket per namespace (opened there through setns(2); a socket stays in the namespace it
was made in). Prints one line of key=value: pairs (both answered), lost, a_p25/a_median,
b_p25/b_median (ms), ratio_of_medians (B's median over A's) and ratio_median (the median over
pairs of B's round trip divided by A's; on one CPU the second echo of a pair is systematically
faster, so with the order alternating this one is bimodal: ratio_of_medians is the figure). Exit status 0 when at least half the pairs were
answered, 1 otherwise, 2 on a usage or socket error. Needs CAP_NET_RAW and CAP_SYS_ADMIN
(root). IPv4 only.
"""
import argparse
import ctypes
import os
import select
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from icmp_ping import echo_request, parse_reply  # noqa: E402  (beside this file)

CLONE_NEWNET = 0x40000000


def socket_in(ns: str) -> socket.socket:
    """A raw ICMP socket made inside network namespace `ns` (ip netns's name)."""
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {ns}")
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        if libc.setns(own, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back")
        return sock
    finally:
        os.close(own)
        os.close(target)


def ping(sock: socket.socket, addr: str, ident: int, seq: int, timeout: float):
    """One echo; its round trip in ms, or None if no reply came within `timeout`."""
    packet = echo_request(False, ident, seq)
    sent = time.monotonic()
    try:
        sock.sendto(packet, (addr, 0))
    except OSError:
        return None
    end = sent + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            return None
        reply, src = sock.recvfrom(65535)
        now = time.monotonic()
        if src[0] == addr and parse_reply(False, reply, ident) == seq:
            return (now - sent) * 1000.0


def quantile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("ns_a")
    ap.add_argument("addr_a")
    ap.add_argument("ns_b")
    ap.add_argument("addr_b")
    ap.add_argument("--pairs", type=int, default=200)
    ap.add_argument("--interval", type=float, default=0.005)
    ap.add_argument("--timeout", type=float, default=1.0)
    args = ap.parse_args()
    if args.pairs < 1 or args.interval < 0 or args.timeout <= 0:
        print("rtt_pairs: bad arguments", file=sys.stderr)
        return 2
    try:
        arms = [(socket_in(args.ns_a), args.addr_a), (socket_in(args.ns_b), args.addr_b)]
    except OSError as e:
        print(f"rtt_pairs: {e}", file=sys.stderr)
        return 2
    ident = os.getpid() & 0xFFFF
    a, b, ratios, lost = [], [], [], 0
    for i in range(args.pairs):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        got = [None, None]
        for arm in order:
            sock, addr = arms[arm]
            got[arm] = ping(sock, addr, ident, (i * 2 + arm) & 0xFFFF, args.timeout)
        if got[0] is None or got[1] is None:
            lost += 1
        else:
            a.append(got[0])
            b.append(got[1])
            ratios.append(got[1] / got[0])
        time.sleep(args.interval)
    if not ratios:
        print(f"pairs=0 lost={lost}")
        return 1
    print(f"pairs={len(ratios)} lost={lost} a_p25={quantile(a, 0.25):.4f} "
          f"a_median={statistics.median(a):.4f} b_p25={quantile(b, 0.25):.4f} "
          f"b_median={statistics.median(b):.4f} "
          f"ratio_of_medians={statistics.median(b) / statistics.median(a):.4f} "
          f"ratio_median={statistics.median(ratios):.4f}")
    return 0 if len(ratios) * 2 >= args.pairs else 1


if __name__ == "__main__":
    sys.exit(main())
