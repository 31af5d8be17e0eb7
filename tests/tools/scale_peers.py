#!/usr/bin/env python3
"""Prints COUNT [[peer]] tables for a ringtun configuration, for the scale tests and bench.

    scale_peers.py COUNT [--keepalive S] [--psk] [--wg]

Peer i (0-based) gets a random public key (any 32 bytes are an X25519 public key), the
allowed IP 10.128.0.0/9 + i + 1 as a /32, and the endpoint 198.18.0.0/15 + i + 1 port 51820
(RFC 2544's benchmarking range: nothing in a test namespace answers there). --keepalive adds
persistent_keepalive = S, --psk a random preshared_key. --wg prints wg(8)'s [Peer] sections
instead (for `wg setconf`). COUNT is at most 131,000, so the addresses never leave their
ranges.
"""
import argparse
import base64
import ipaddress
import os
import sys

ALLOWED_BASE = int(ipaddress.IPv4Address("10.128.0.0"))
ENDPOINT_BASE = int(ipaddress.IPv4Address("198.18.0.0"))
MAX_COUNT = 131_000
TOML = {"peer": '\n[[peer]]\npublic_key = "{}"\n', "psk": 'preshared_key = "{}"\n',
        "endpoint": 'endpoint = "{}"\n', "allowed": 'allowed_ips = ["{}"]\n',
        "keepalive": "persistent_keepalive = {}\n"}
WG = {"peer": "\n[Peer]\nPublicKey = {}\n", "psk": "PresharedKey = {}\n",
      "endpoint": "Endpoint = {}\n", "allowed": "AllowedIPs = {}\n",
      "keepalive": "PersistentKeepalive = {}\n"}


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--keepalive", type=int, default=0)
    parser.add_argument("--psk", action="store_true")
    parser.add_argument("--wg", action="store_true")
    args = parser.parse_args()
    if not 0 <= args.count <= MAX_COUNT:
        parser.error(f"COUNT must be 0..{MAX_COUNT}")
    # Each line's form in ringtun's TOML and in wg(8)'s INI.
    form = WG if args.wg else TOML
    out = []
    for i in range(args.count):
        allowed = ipaddress.IPv4Address(ALLOWED_BASE + i + 1)
        endpoint = ipaddress.IPv4Address(ENDPOINT_BASE + i + 1)
        out.append(form["peer"].format(key()))
        if args.psk:
            out.append(form["psk"].format(key()))
        out.append(form["endpoint"].format(f"{endpoint}:51820"))
        out.append(form["allowed"].format(f"{allowed}/32"))
        if args.keepalive:
            out.append(form["keepalive"].format(args.keepalive))
    sys.stdout.write("".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
