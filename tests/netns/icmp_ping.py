#!/usr/bin/env python3
"""ICMP echo over raw sockets, for test namespaces that have no ping(8).

iputils-ping is not among the packages scripts/install-deps.sh installs, so lib.sh pings
with this instead. Needs CAP_NET_RAW (the tests run as root). IPv4 and IPv6.

  icmp_ping.py ADDR [--count N] [--interval S] [--deadline S] [--max-sent N] [--all-sent]
               [--size BYTES] [--pmtudisc do|dont] [--log FILE]

Sends echo requests every --interval seconds until --count replies arrived, --max-sent
requests went out (default: --count), or --deadline seconds passed. With --all-sent it does
not stop at --count replies but sends all --max-sent and waits for their replies (for RTT
statistics over a fixed sample). --size is the ICMP payload (default 56, like ping -s), so
an IPv4 echo request is BYTES + 28 bytes long; --pmtudisc do sets DF (never fragmented
locally, like ping -M do), dont lets the kernel fragment. --log appends one line per reply as
it arrives, "RECEIVED_MS SEQ RTT_MS" (RECEIVED_MS: wall-clock milliseconds since the epoch,
the clock of bash's EPOCHREALTIME), for tests that time an outage. Prints one summary line:
  sent=N received=M loss=P% rtt_min=… rtt_avg=… rtt_max=… (ms)
Exit status 0 when --count replies arrived, 1 otherwise, 2 on a usage or socket error.
"""
import argparse
import os
import select
import socket
import struct
import sys
import time

ICMP_ECHO_REQUEST = 8
ICMP_ECHO_REPLY = 0
ICMP6_ECHO_REQUEST = 128
ICMP6_ECHO_REPLY = 129


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


IP_MTU_DISCOVER, IPV6_MTU_DISCOVER = 10, 23  # <linux/in.h>, <linux/in6.h>
PMTUDISC = {"dont": 0, "do": 2}  # IP_PMTUDISC_*, IPV6_PMTUDISC_* (same values)


def echo_request(v6: bool, ident: int, seq: int, size: int = 56) -> bytes:
    payload = struct.pack("!d", time.monotonic())
    payload += bytes(i & 0xFF for i in range(max(0, size - len(payload))))
    kind = ICMP6_ECHO_REQUEST if v6 else ICMP_ECHO_REQUEST
    header = struct.pack("!BBHHH", kind, 0, 0, ident, seq)
    if v6:
        return header + payload  # the kernel fills in the ICMPv6 checksum
    csum = checksum(header + payload)
    return struct.pack("!BBHHH", kind, 0, csum, ident, seq) + payload


def parse_reply(v6: bool, packet: bytes, ident: int):
    """Returns the sequence number of our echo reply, or None for anything else."""
    if not v6:
        if len(packet) < 20:
            return None
        packet = packet[(packet[0] & 0x0F) * 4:]  # raw IPv4 sockets deliver the IP header
    if len(packet) < 8:
        return None
    kind, _, _, rid, seq = struct.unpack("!BBHHH", packet[:8])
    want = ICMP6_ECHO_REPLY if v6 else ICMP_ECHO_REPLY
    return seq if kind == want and rid == ident else None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("--count", type=int, default=3, help="replies wanted")
    ap.add_argument("--interval", type=float, default=0.2)
    ap.add_argument("--deadline", type=float, default=10.0)
    ap.add_argument("--max-sent", type=int, default=0, help="default: --count")
    ap.add_argument("--all-sent", action="store_true")
    ap.add_argument("--size", type=int, default=56, help="ICMP payload bytes (>= 8)")
    ap.add_argument("--pmtudisc", choices=sorted(PMTUDISC))
    ap.add_argument("--log", help="append RECEIVED_MS SEQ RTT_MS per reply")
    args = ap.parse_args()
    max_sent = args.max_sent or args.count
    if (args.count < 1 or max_sent < args.count or args.interval < 0.01 or args.deadline <= 0
            or not 8 <= args.size <= 65000):
        print("icmp_ping: bad arguments", file=sys.stderr)
        return 2

    try:
        info = socket.getaddrinfo(args.addr, None, 0, socket.SOCK_RAW)[0]
        v6 = info[0] == socket.AF_INET6
        proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
        sock = socket.socket(info[0], socket.SOCK_RAW, proto)
        if args.pmtudisc:
            level, opt = ((socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER) if v6 else
                          (socket.IPPROTO_IP, IP_MTU_DISCOVER))
            sock.setsockopt(level, opt, PMTUDISC[args.pmtudisc])
    except OSError as e:
        print(f"icmp_ping: {args.addr}: {e}", file=sys.stderr)
        return 2
    dest = info[4]
    log = open(args.log, "a", buffering=1) if args.log else None
    ident = os.getpid() & 0xFFFF
    sent_at = {}
    rtts = []
    start = time.monotonic()
    next_send = start
    seq = 0
    last_sent = start
    while len(rtts) < (max_sent if args.all_sent else args.count):
        now = time.monotonic()
        if now - start >= args.deadline:
            break
        if seq < max_sent and now >= next_send:
            seq += 1
            sent_at[seq] = now
            last_sent = now
            try:
                sock.sendto(echo_request(v6, ident, seq, args.size), dest)
            except OSError:
                pass  # no route yet, or the tunnel dropped it: counts as lost
            next_send = now + args.interval
        elif seq >= max_sent and now - last_sent > max(1.0, args.interval * 4):
            break  # everything sent and the last one had its chance
        wait = max(0.0, min(next_send - now, start + args.deadline - now, 0.1))
        ready, _, _ = select.select([sock], [], [], wait)
        if ready:
            packet, src = sock.recvfrom(65535)
            got = parse_reply(v6, packet, ident)
            if got in sent_at and src[0] == dest[0]:
                rtts.append((time.monotonic() - sent_at.pop(got)) * 1000.0)
                if log:
                    log.write(f"{time.time() * 1000:.0f} {got} {rtts[-1]:.3f}\n")

    loss = 100.0 * (seq - len(rtts)) / seq if seq else 100.0
    line = f"sent={seq} received={len(rtts)} loss={loss:.0f}%"
    if rtts:
        line += (f" rtt_min={min(rtts):.3f} rtt_avg={sum(rtts) / len(rtts):.3f}"
                 f" rtt_max={max(rtts):.3f}")
    print(line)
    return 0 if len(rtts) >= args.count else 1


if __name__ == "__main__":
    sys.exit(main())
