#!/usr/bin/env python3
"""Captures one framed WireGuard data message from a ringtun TCP connection, for replay tests.

  tcp_capture.py IFACE PORT OUT [--timeout S] [--ready FILE]

Runs in the listener's namespace. Watches IFACE for IPv4 TCP segments arriving for PORT and
writes to OUT, as hex, the first whose payload is exactly one frame (2-byte big-endian length,
then the message) holding a data message (type 4). A small packet through the tunnel, such as
a ping, travels in such a segment. Touches --ready once capturing. Exit 0 when a frame was
written, 1 on a timeout or socket error.
"""
import argparse
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
DATA, DATA_MIN = 4, 32


def tcp_payload(frame: bytes, port: int):
    """The payload of an IPv4 TCP segment to `port` in an Ethernet frame, or None."""
    if len(frame) < 34 or struct.unpack_from("!H", frame, 12)[0] != ETH_P_IP:
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[9] != socket.IPPROTO_TCP:
        return None
    tcp = ip[ihl:struct.unpack_from("!H", ip, 2)[0]]
    if len(tcp) < 20 or struct.unpack_from("!H", tcp, 2)[0] != port:
        return None
    return tcp[(tcp[12] >> 4) * 4:]


def is_data_frame(p: bytes) -> bool:
    return (len(p) >= 2 + DATA_MIN and struct.unpack_from("!H", p)[0] == len(p) - 2 and
            p[2] == DATA and p[3:6] == b"\0\0\0")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("iface")
    ap.add_argument("port", type=int)
    ap.add_argument("out")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--ready")
    args = ap.parse_args()
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        sock.bind((args.iface, 0))
        if args.ready:
            with open(args.ready, "w"):
                pass
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([sock], [], [], 0.1)
            if not ready:
                continue
            frame, addr = sock.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue
            payload = tcp_payload(frame, args.port)
            if payload is not None and is_data_frame(payload):
                with open(args.out, "w") as f:
                    f.write(payload.hex() + "\n")
                print(f"captured {len(payload)} bytes")
                return 0
    except OSError as e:
        print(f"tcp_capture: {e}", file=sys.stderr)
        return 1
    print("tcp_capture: no data frame seen", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
