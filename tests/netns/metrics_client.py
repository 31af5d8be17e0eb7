#!/usr/bin/env python3
"""Client side of netns.metrics: scrapes ringtun's Prometheus endpoint and pokes at its bounds.

  scrape HOST PORT OUT          GET /metrics; the body to OUT; prints status, seconds, bytes
  request HOST PORT TEXT        sends TEXT (\\r \\n escapes), prints the status line
  value FILE NAME [K=V ...]     the value of the sample NAME with those labels (sum if several)
  idle HOST PORT COUNT SECONDS  opens COUNT connections that send nothing; prints how many the
                                server closed within SECONDS and when the last one went
"""
import socket
import sys
import time


def connect(host, port):
    return socket.create_connection((host, int(port)), timeout=5)


def read_all(s):
    chunks = []
    while True:
        b = s.recv(65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def exchange(host, port, raw):
    with connect(host, port) as s:
        s.sendall(raw)
        return read_all(s)


def scrape(host, port, out):
    t0 = time.monotonic()
    reply = exchange(host, port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n")
    took = time.monotonic() - t0
    head, _, body = reply.partition(b"\r\n\r\n")
    status = head.split(b"\r\n")[0].decode()
    with open(out, "wb") as f:
        f.write(body)
    length = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
    ok = length and int(length[0].split(b":")[1]) == len(body)
    print(f"status={status.split(' ')[1]} seconds={took:.4f} bytes={len(body)} length_ok={int(bool(ok))}")


def value(path, name, labels):
    want = dict(kv.split("=", 1) for kv in labels)
    total, found = 0, False
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        series, _, v = line.rstrip("\n").rpartition(" ")
        metric, _, rest = series.partition("{")
        if metric != name:
            continue
        have = {}
        for pair in rest.rstrip("}").split(",") if rest else []:
            k, _, val = pair.partition("=")
            have[k] = val.strip('"')
        if all(have.get(k) == val for k, val in want.items()):
            total += int(v)
            found = True
    if not found:
        sys.exit(f"no sample {name} {want} in {path}")
    print(total)


def idle(host, port, count, seconds):
    socks = [connect(host, port) for _ in range(int(count))]
    t0 = time.monotonic()
    closed, last = 0, 0.0
    for s in socks:
        s.settimeout(max(0.1, float(seconds) - (time.monotonic() - t0)))
        try:
            if s.recv(1) == b"":
                closed += 1
                last = time.monotonic() - t0
        except (socket.timeout, ConnectionResetError):
            if isinstance(sys.exc_info()[1], ConnectionResetError):
                closed += 1
                last = time.monotonic() - t0
        s.close()
    print(f"closed={closed} last={last:.2f}")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "scrape":
        scrape(*args)
    elif cmd == "request":
        raw = args[2].replace("\\r", "\r").replace("\\n", "\n").encode()
        reply = exchange(args[0], args[1], raw)
        print(reply.split(b"\r\n")[0].decode())
    elif cmd == "value":
        value(args[0], args[1], args[2:])
    elif cmd == "idle":
        idle(*args)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
