#!/usr/bin/env python3
"""A service manager's end of sd_notify(3), for sdnotify.sh and package_deb.sh:
binds the AF_UNIX datagram socket given as argv[1] and writes one line per
notification to stdout, "<ms since start> KEY=VALUE|KEY=VALUE", flushed, until
killed."""
import os
import socket
import sys
import time

path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o777)  # the daemon may run as another user
t0 = time.monotonic()
while True:
    data = s.recv(4096).decode("utf-8", "replace")
    ms = int((time.monotonic() - t0) * 1000)
    print(f"{ms} {'|'.join(data.splitlines())}", flush=True)
