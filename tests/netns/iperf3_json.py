#!/usr/bin/env python3
"""Reads figures out of an `iperf3 --json` client result (TCP), for lib.sh and bench/.

  iperf3_json.py FILE FIELD...
FIELD is one of sender_bps, receiver_bps, sender_bytes, receiver_bytes, retransmits,
seconds. Prints the values on one line, separated by spaces (integers, seconds as a decimal).
"sender" and "receiver" follow the data, not the client: with -R the server is the sender.
Exit 1, with iperf3's own message, when the result holds an error or lacks the totals.
"""
import json
import sys

FIELDS = {
    "sender_bps": ("sum_sent", "bits_per_second"),
    "receiver_bps": ("sum_received", "bits_per_second"),
    "sender_bytes": ("sum_sent", "bytes"),
    "receiver_bytes": ("sum_received", "bytes"),
    "retransmits": ("sum_sent", "retransmits"),
    "seconds": ("sum_received", "seconds"),
}


def main() -> int:
    if len(sys.argv) < 3 or any(f not in FIELDS for f in sys.argv[2:]):
        print(f"usage: iperf3_json.py FILE {{{','.join(FIELDS)}}}...", file=sys.stderr)
        return 2
    try:
        with open(sys.argv[1]) as f:
            result = json.load(f)
    except (OSError, ValueError) as e:
        print(f"iperf3_json: {sys.argv[1]}: {e}", file=sys.stderr)
        return 1
    if result.get("error"):
        print(f"iperf3: {result['error']}", file=sys.stderr)
        return 1
    end = result.get("end", {})
    out = []
    for field in sys.argv[2:]:
        section, key = FIELDS[field]
        value = end.get(section, {}).get(key)
        if value is None:
            print(f"iperf3_json: no end.{section}.{key} in {sys.argv[1]}", file=sys.stderr)
            return 1
        out.append(f"{value:.3f}" if field == "seconds" else str(int(value)))
    print(" ".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
