#!/usr/bin/env python3
"""A service manager's notify socket that notes when READY=1 arrives, for measuring a
daemon's start-up from the shell that starts it.

    ready_time.py SOCKET [TIMEOUT]

Binds the datagram socket SOCKET (which must not exist), prints `bound` on standard output
once it does, then waits for a message with READY=1 and prints `ready_at=T`, T the wall-clock
time of its arrival in seconds since the epoch (as bash's EPOCHREALTIME); exits 0. Exits 1
with `ready_at=none` after TIMEOUT seconds (default 30). Removes SOCKET when it exits.
"""
import os
import select
import socket
import sys
import time


def main() -> int:
    path = sys.argv[1]
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(path)
    try:
        print("bound", flush=True)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            readable, _, _ = select.select([listener], [], [], 0.1)
            if readable and b"READY=1" in listener.recv(65536):
                print(f"ready_at={time.time():.6f}", flush=True)
                return 0
    finally:
        listener.close()
        os.unlink(path)
    print("ready_at=none", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
