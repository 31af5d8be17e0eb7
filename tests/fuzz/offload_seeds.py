#!/usr/bin/env python3
"""Seed inputs for offload_fuzz (see the input format at the top of offload_fuzz.cpp).

From random bytes libFuzzer soon finds UDP packets but takes minutes to reach a TCP
super-packet or a coalescing TCP pair (data offset, csum_offset 16, flags exactly ACK). These
seeds start it there: TSO/USO super-packets of both IP versions, and GRO batches of TCP and
UDP flows. Usage: offload_seeds.py DIR (writes seed-* files; existing files are kept).
"""
import os
import struct
import sys

TCP, UDP = 6, 17
ACK, PSH, FIN = 0x10, 0x08, 0x01


def csum_sum(data, acc=0):
    if len(data) % 2:
        data += b"\0"
    for i in range(0, len(data), 2):
        acc += data[i] << 8 | data[i + 1]
    while acc >> 16:
        acc = (acc & 0xFFFF) + (acc >> 16)
    return acc


def ip_header(version, proto, l4_len, ident=1, ext=b""):
    if version == 4:
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + l4_len, ident, 0x4000, 64, proto, 0,
                        bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
        return h[:10] + struct.pack("!H", ~csum_sum(h) & 0xFFFF) + h[12:]
    src, dst = bytes([0xFD] + [0] * 14 + [1]), bytes([0xFD] + [0] * 14 + [2])
    nh = ext[0:1] and 60 or proto
    return struct.pack("!IHBB16s16s", 6 << 28, len(ext) + l4_len, nh, 64, src, dst) + ext


def pseudo(version, ip, proto, l4_len):
    if version == 4:
        return csum_sum(ip[12:20] + struct.pack("!BBH", 0, proto, l4_len))
    return csum_sum(ip[8:40] + struct.pack("!IxxxB", l4_len, proto))


def packet(version, proto, payload, seq=1000, flags=ACK, ident=1, ext=b"", partial=False):
    """An IP packet; partial: the L4 checksum field holds the pseudo-header sum (TSO)."""
    if proto == TCP:
        opts = bytes([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2])
        l4 = struct.pack("!HHIIBBHHH", 40000, 5201, seq, 5000, (20 + len(opts)) // 4 << 4,
                         flags, 502, 0, 0) + opts
        at = 16
    else:
        l4 = struct.pack("!HHHH", 40000, 5201, 8 + len(payload), 0)
        at = 6
    l4 += payload
    ip = ip_header(version, proto, len(l4), ident, ext)
    ps = pseudo(version, ip, proto, len(l4))
    c = ps if partial else (~csum_sum(l4, ps) & 0xFFFF) or (0xFFFF if proto == UDP else 0)
    return ip + l4[:at] + struct.pack("!H", c) + l4[at + 2:]


def vnet(gso_type, gso_size, csum_start, csum_offset, flags=1):
    return struct.pack("<BBHHHH", flags, gso_type, 0, gso_size, csum_start, csum_offset)


def split_seed(version, proto, n, gso, ext=b""):
    p = packet(version, proto, bytes(range(256)) * (n // 256) + bytes(n % 256),
               flags=ACK | PSH | FIN if proto == TCP else ACK, ext=ext, partial=True)
    start = (20 if version == 4 else 40) + len(ext)
    gso_type = 5 if proto == UDP else (1 if version == 4 else 4)
    return bytes([63]) + vnet(gso_type, gso, start, 16 if proto == TCP else 6) + p


def gro_seed(mode, flows, count, size):
    out = bytes([0x80 | mode])
    seq = {f: 1000 for f in flows}
    for i in range(count):
        version, proto = flows[i % len(flows)]
        flags = ACK | PSH if i == count - 1 else ACK
        p = packet(version, proto, bytes([i]) * size, seq=seq[(version, proto)], flags=flags,
                   ident=i)
        seq[(version, proto)] += size
        out += struct.pack("!H", len(p)) + p
    return out


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    dst_opts = bytes([TCP, 0, 1, 4, 0, 0, 0, 0])
    seeds = {
        "split-tcp4": split_seed(4, TCP, 3000, 1000),
        "split-tcp6-ext": split_seed(6, TCP, 2000, 700, dst_opts),
        "split-udp4": split_seed(4, UDP, 1000, 300),
        "split-udp6": split_seed(6, UDP, 1000, 256),
        "split-none": bytes([63]) + vnet(0, 0, 20, 16) + packet(4, TCP, b"x" * 99, partial=True),
        "gro-tcp": gro_seed(0x38, [(4, TCP), (6, TCP)], 8, 100),
        "gro-udp": gro_seed(0x38, [(4, UDP), (6, UDP)], 8, 100),
        "gro-mixed-caps": gro_seed(0x3D, [(4, TCP), (4, UDP), (6, TCP)], 12, 50),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
