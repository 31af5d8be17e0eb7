#!/usr/bin/env python3
"""Runs `ringtun run CONFIG` in namespace NS with NOTIFY_SOCKET and standard error on one
datagram socket, so the service-manager messages and the log lines arrive in the order the
daemon sent them; stops it with SIGTERM once READY=1 came, and prints that order.

    notify_order.py RINGTUN NS CONFIG

Prints key=value lines: ready, stopping, shutdown_line, stopped_line (the index of each in the
combined stream, -1 if absent), exit (the daemon's status) and messages (the count). Every
wait is bounded; the daemon is killed if it does not exit within 5 s of SIGTERM.
"""
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time


def main():
    ringtun, ns, config = sys.argv[1:4]
    tmp = tempfile.mkdtemp(prefix="ringtun-notify-")
    path = os.path.join(tmp, "notify")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(path)
    stderr = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    stderr.connect(path)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    proc = subprocess.Popen(["ip", "netns", "exec", ns, ringtun, "run", config], env=env,
                            stdout=subprocess.DEVNULL, stderr=stderr.fileno(),
                            stdin=subprocess.DEVNULL)
    stderr.close()
    messages = []

    def drain(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([listener], [], [], 0.05)
            if not ready:
                if proc.poll() is not None:
                    return
                continue
            messages.append(listener.recv(65536).decode(errors="replace"))
            if any("READY=1" in m for m in messages) and proc.poll() is None and not signalled[0]:
                return

    signalled = [False]
    drain(15)  # until READY=1 (or the daemon exits)
    if proc.poll() is None and any("READY=1" in m for m in messages):
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        signalled[0] = True
    drain(5)
    if proc.poll() is None:
        proc.kill()
    status = proc.wait(5)
    while select.select([listener], [], [], 0.05)[0]:
        messages.append(listener.recv(65536).decode(errors="replace"))
    listener.close()
    os.unlink(path)
    os.rmdir(tmp)

    def index(text):
        return next((i for i, m in enumerate(messages) if text in m), -1)

    print(f"ready={index('READY=1')}")
    print(f"stopping={index('STOPPING=1')}")
    print(f"shutdown_line={index('shutdown: ')}")
    print(f"stopped_line={index(': stopped, ')}")
    print(f"exit={status}")
    print(f"messages={len(messages)}")


if __name__ == "__main__":
    main()
