#!/usr/bin/env python3
"""Seed inputs for uapi_fuzz (see the input format at the top of uapi_fuzz.cpp).

Requests as wg sends them: a get, a setconf with every device and peer key, a set with the
allowed_ip removal form, requests back to back on one connection, and a few malformed ones,
each fed whole and in small pieces. Usage: uapi_seeds.py DIR (writes seed-* files).
"""
import os
import sys

KEY = "ab" * 32
REQUESTS = [
    "get=1\n\n",
    "set=1\nprivate_key=%s\nlisten_port=51820\nfwmark=0\nreplace_peers=true\n"
    "public_key=%s\npreshared_key=%s\nendpoint=192.0.2.1:51820\n"
    "persistent_keepalive_interval=25\nreplace_allowed_ips=true\nallowed_ip=10.0.0.0/8\n"
    "allowed_ip=fd00::/64\nprotocol_version=1\n\n" % (KEY, KEY, KEY),
    "set=1\npublic_key=%s\nupdate_only=true\nendpoint=[fd00::1]:1\nallowed_ip=-10.0.0.0/8\n\n"
    % KEY,
    "set=1\npublic_key=%s\nremove=true\n\nget=1\n\n" % KEY,
    "set=1\nlisten_port=1\n\n",
    "set=1\nnoequals\n\n",
    "get=1\nX",
    "hello\n",
    "set=1\nlisten_port=7",
]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for i, req in enumerate(REQUESTS):
        for piece in (63, 0):  # whole (64-byte pieces), and byte by byte
            with open(os.path.join(out, "seed-%02d-%d" % (i, piece)), "wb") as f:
                f.write(bytes([piece]) + req.encode())


if __name__ == "__main__":
    main()
