#!/usr/bin/env python3
# ExaBGP API helper (process "printer"): append every JSON message ExaBGP sends us to the
# file argv[1]. Never writes to stdout (ExaBGP would read it as commands).
import sys
out = open(sys.argv[1], 'a', buffering=1)
for line in sys.stdin:
    out.write(line)
