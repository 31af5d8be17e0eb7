#!/usr/bin/env python3
"""Resets one TCP connection from the outside with a forged RST, for kernels without ss -K.

  tcp_rst.py IFACE SRC_IP SRC_PORT DST_IP DST_PORT [--timeout S]

Runs in the namespace of the connection's SRC end. Waits on IFACE for the next segment that
SRC sends to DST, then sends a RST from SRC to DST whose sequence number is the one that
segment ends at: the DST socket's next expected sequence number, so DST accepts the RST at
once (RFC 5961 section 3.2) and aborts the connection. If SRC sends another segment before
the RST leaves, DST answers a challenge ACK instead; the caller checks and tries again.
IPv4 only. Needs CAP_NET_RAW. Exit 0 when a RST was sent, 1 on a timeout or socket error.
"""
import argparse
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003  # outgoing frames reach only ETH_P_ALL taps
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
TCP_FIN, TCP_SYN, TCP_RST = 0x01, 0x02, 0x04


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def next_seq(frame: bytes, src: bytes, sport: int, dst: bytes, dport: int):
    """The sequence number after this Ethernet frame's segment, or None if it is not ours."""
    if len(frame) < 34 or struct.unpack_from("!H", frame, 12)[0] != ETH_P_IP:
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[9] != socket.IPPROTO_TCP or ip[12:16] != src or ip[16:20] != dst:
        return None
    total = struct.unpack_from("!H", ip, 2)[0]
    tcp = ip[ihl:]
    if len(tcp) < 20 or struct.unpack_from("!HH", tcp, 0) != (sport, dport):
        return None
    seq = struct.unpack_from("!I", tcp, 4)[0]
    flags = tcp[13]
    payload = total - ihl - (tcp[12] >> 4) * 4
    return (seq + payload + bool(flags & TCP_SYN) + bool(flags & TCP_FIN)) & 0xFFFFFFFF


def rst_packet(src: bytes, sport: int, dst: bytes, dport: int, seq: int) -> bytes:
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, TCP_RST, 0, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64,
                     socket.IPPROTO_TCP, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("iface")
    ap.add_argument("src")
    ap.add_argument("sport", type=int)
    ap.add_argument("dst")
    ap.add_argument("dport", type=int)
    ap.add_argument("--timeout", type=float, default=2.0)
    args = ap.parse_args()
    src, dst = socket.inet_aton(args.src), socket.inet_aton(args.dst)
    try:
        cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        cap.bind((args.iface, 0))
        out = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([cap], [], [], 0.05)
            if not ready:
                continue
            frame, addr = cap.recvfrom(65535)
            if addr[2] != PACKET_OUTGOING:
                continue
            seq = next_seq(frame, src, args.sport, dst, args.dport)
            if seq is None:
                continue
            out.sendto(rst_packet(src, args.sport, dst, args.dport, seq), (args.dst, 0))
            print(f"rst seq={seq}")
            return 0
    except OSError as e:
        print(f"tcp_rst: {e}", file=sys.stderr)
        return 1
    print("tcp_rst: no segment seen", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
