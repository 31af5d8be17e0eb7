#!/usr/bin/env python3
"""Seeds for fuzz.http: requests a scraper, a browser and a prober would send."""
import os
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
requests = [
    b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9586\r\nUser-Agent: Prometheus/2.42.0\r\n"
    b"Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n"
    b"Accept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n",
    b"HEAD /metrics HTTP/1.0\n\n",
    b"GET /metrics?name[]=ringtun_peers HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
    b"GET /metrics HTTP/2.0\r\n\r\n",
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
]
for i, r in enumerate(requests):
    for piece in (0, 7, 63):
        with open(os.path.join(out, f"request-{i}-{piece}"), "wb") as f:
            f.write(bytes([piece]) + r)
