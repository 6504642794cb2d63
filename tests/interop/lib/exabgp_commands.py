#!/usr/bin/env python3
# ExaBGP API helper (process "commands"): relay every line appended to the file argv[1]
# to ExaBGP on stdout (announce / withdraw commands), polling every 50 ms. ExaBGP stops it
# when it stops (stdin closes).
import os, select, sys, time
path = sys.argv[1]
open(path, 'a').close()
pos = 0
buf = b''
while True:
    r, _, _ = select.select([sys.stdin], [], [], 0.05)
    if r and not sys.stdin.buffer.read1(4096):
        sys.exit(0)                      # ExaBGP went away
    with open(path, 'rb') as f:
        f.seek(pos)
        data = f.read()
    if data:
        pos += len(data)
        buf += data
        *lines, buf = buf.split(b'\n')
        for line in lines:
            if line.strip():
                sys.stdout.write(line.decode() + '\n')
        sys.stdout.flush()
