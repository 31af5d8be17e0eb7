#!/usr/bin/env python3
"""The report of a soak run (scripts/soak.sh): RSS over time, traffic, counters, sanitizers.

  soak_report.py DIR --warmup SECONDS --roams N --churns N
Reads DIR/rss.csv, DIR/iperf3.json, DIR/stats-{a,b}.txt and DIR/ringtun-*.log; writes
DIR/report.md and prints it. Exit 1 when either daemon's RSS grew by 1 MiB or more from the
first sample at or after the warm-up to the last, or a log holds sanitizer output.
"""
import argparse
import csv
import json
import os
import re
import sys

GROWTH_LIMIT_KIB = 1024
SANITIZER = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: \w+Sanitizer")


def rss_section(rows, warmup):
    """Lines of the RSS table (one row a minute) and the growth check's findings."""
    lines = ["| s | A VmRSS KiB | B VmRSS KiB | stream MiB |", "|---|---|---|---|"]
    for row in rows:
        if row["seconds"] % 60 < 10:
            lines.append("| %d | %d | %d | %.0f |" % (row["seconds"], row["a"], row["b"],
                                                     row["stream"] / 2**20))
    base = next((r for r in rows if r["seconds"] >= warmup), None)
    problems = []
    if base is None:
        return lines + ["", "no sample after the warm-up of %d s" % warmup], ["no RSS baseline"]
    last = rows[-1]
    lines.append("")
    for side in ("a", "b"):
        after = [r[side] for r in rows if r["seconds"] >= warmup]
        growth = last[side] - base[side]
        lines.append("%s: %d KiB at %d s (after warm-up), %d KiB at %d s: growth %+d KiB; "
                     "max after warm-up %d KiB" % (side.upper(), base[side], base["seconds"],
                                                   last[side], last["seconds"], growth,
                                                   max(after)))
        if growth >= GROWTH_LIMIT_KIB:
            problems.append("%s's RSS grew by %d KiB after warm-up" % (side.upper(), growth))
    return lines, problems


def iperf_section(path):
    try:
        with open(path) as f:
            end = json.load(f).get("end", {})
    except (OSError, ValueError) as e:
        return ["iperf3: no result (%s)" % e]
    out = []
    for name, key in (("A->B", "sum_received"), ("B->A", "sum_received_bidir_reverse")):
        s = end.get(key, {})
        if s:
            out.append("iperf3 %s: %.2f GB received, %.0f Mbit/s over %.0f s" % (
                name, s["bytes"] / 1e9, s["bits_per_second"] / 1e6, s["seconds"]))
    return out or ["iperf3: no totals in the result"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--warmup", type=int, required=True)
    p.add_argument("--roams", type=int, required=True)
    p.add_argument("--churns", type=int, required=True)
    args = p.parse_args()
    with open(os.path.join(args.dir, "rss.csv")) as f:
        rows = [{"seconds": int(r["seconds"]), "a": int(r["rss_a_kib"]),
                 "b": int(r["rss_b_kib"]), "stream": int(r["stream_bytes"])}
                for r in csv.DictReader(f)]
    report = ["# Soak report", ""]
    lines, problems = rss_section(rows, args.warmup) if rows else (["no RSS samples"],
                                                                     ["no RSS samples"])
    report += ["## RSS", ""] + lines + ["", "## Traffic", ""]
    report += iperf_section(os.path.join(args.dir, "iperf3.json"))
    report.append("roams: %d, churn handshakes: %d" % (args.roams, args.churns))
    report += ["", "## Counters at the end", "", "```"]
    for side in ("a", "b"):
        try:
            with open(os.path.join(args.dir, "stats-%s.txt" % side)) as f:
                report += [side.upper() + ": " + line.rstrip() for line in f if line.strip()]
        except OSError:
            report.append("%s: no statistics" % side.upper())
    report += ["```", "", "## Sanitizers", ""]
    found = []
    for name in sorted(os.listdir(args.dir)):
        if name.startswith("ringtun-") and name.endswith(".log"):
            with open(os.path.join(args.dir, name), errors="replace") as f:
                found += ["%s: %s" % (name, l.rstrip()) for l in f if SANITIZER.search(l)]
    report += found[:40] or ["no sanitizer output in the daemons' logs"]
    if found:
        problems.append("sanitizer output (%d lines)" % len(found))
    report += ["", "## Verdict", ""] + (problems or ["passed"])
    text = "\n".join(report) + "\n"
    with open(os.path.join(args.dir, "report.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
