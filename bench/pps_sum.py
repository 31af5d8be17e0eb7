#!/usr/bin/env python3
"""Adds up parallel `iperf3 -u --json` client results, for bench/run.sh's small-packet search.

  pps_sum.py FILE...

Prints "SENT_PPS RECEIVED_PPS LOSS_PERCENT": datagrams per second the senders sent and the
receivers got, summed over the files, and the share of sent datagrams that did not arrive
(1 - received / sent, so datagrams lost after the last one that arrived count too). Each
file's rates use its own duration. Exit 1, with iperf3's message, when a file holds an error
or lacks the UDP totals.
"""
import json
import sys


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: pps_sum.py FILE...", file=sys.stderr)
        return 2
    sent = received = sent_pps = received_pps = 0.0
    for path in sys.argv[1:]:
        try:
            with open(path) as f:
                result = json.load(f)
        except (OSError, ValueError) as e:
            print(f"pps_sum: {path}: {e}", file=sys.stderr)
            return 1
        if result.get("error"):
            print(f"iperf3: {result['error']}", file=sys.stderr)
            return 1
        end = result.get("end", {})
        try:
            out = end["sum_sent"]["packets"]
            seen = end["sum_received"]["packets"] - end["sum_received"]["lost_packets"]
            seconds = end["sum_sent"]["seconds"]
        except KeyError as e:
            print(f"pps_sum: {path}: no UDP totals ({e})", file=sys.stderr)
            return 1
        seen = max(0, min(seen, out))
        if seconds <= 0:
            print(f"pps_sum: {path}: zero duration", file=sys.stderr)
            return 1
        sent += out
        received += seen
        sent_pps += out / seconds
        received_pps += seen / seconds
    loss = 100.0 * (1 - received / sent) if sent else 100.0
    print(f"{sent_pps:.0f} {received_pps:.0f} {loss:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
