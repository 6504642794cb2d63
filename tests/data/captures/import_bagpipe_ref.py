#!/usr/bin/env python3
"""Convert the messages captured from the original bagpipe-bgp (17.0.0) into our .hex format.

  import_bagpipe_ref.py REF_CAPTURE_DIR OUT_DIR

Reads (from shared/reference/bagpipe-ref/capture/):
  bagpipe_updates_decoded.txt  hex lines, each preceded by a '# received ...' comment and
                               followed by ExaBGP's decode (indented line)
  fake_peer_capture.jsonl      the fake peer's log: {"event", "type", "hex", ...} per line
Writes:
  bagpipe-original-updates.hex  the UPDATEs; comments and ExaBGP decodes kept as # lines
  bagpipe-original-session.hex  every message of the fake peer's sessions, both directions
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from extract import summarize  # noqa: E402


def convert_updates(src, dst):
    out = ['# UPDATE messages sent by the original bagpipe-bgp 17.0.0 (OpenStack networking-bagpipe)',
           '# to a passive fake BGP peer on loopback, converted by tests/data/captures/import_bagpipe_ref.py',
           '# from shared/reference/bagpipe-ref/capture/bagpipe_updates_decoded.txt.',
           '# One BGP message per line; "#   exabgp:" lines are ExaBGP 4.2.21\'s decode of the line above',
           '# them. Original comments follow.',
           '# decode-flags: --no-asn4 (bagpipe-bgp 17.0.0 does not offer the 4-octet AS capability)']
    n = 0
    for line in open(src):
        line = line.rstrip('\n')
        if not line.strip():
            continue
        if line.startswith('#'):
            out.append(line)
        elif line.startswith(' '):
            out.append('#   exabgp: ' + line.strip())
        else:
            h = line.strip().lower()
            b = bytes.fromhex(h)
            assert b[:16] == b'\xff' * 16 and int.from_bytes(b[16:18], 'big') == len(b), line
            out.append(f'# [{n}] {summarize(b)}')
            out.append(h)
            n += 1
    with open(dst, 'w') as f:
        f.write('\n'.join(out) + '\n')
    return n


def convert_session(src, dst):
    out = ['# Sessions between the original bagpipe-bgp 17.0.0 (127.0.1.1) and a passive fake BGP peer',
           '# (127.0.1.2, a small Python script), converted by tests/data/captures/import_bagpipe_ref.py',
           '# from shared/reference/bagpipe-ref/capture/fake_peer_capture.jsonl. One BGP message per line.',
           '# "bagpipe -> peer" messages come from bagpipe-bgp; "peer -> bagpipe" messages are the fake',
           '# peer\'s OPEN/KEEPALIVEs and UPDATEs hand-made by the research script (marked "injected"),',
           '# not from an independent BGP implementation. Lines "# --" are the log\'s connection events.',
           '# decode-flags: --no-asn4 (bagpipe-bgp 17.0.0 does not offer the 4-octet AS capability)']
    n = 0
    for line in open(src):
        line = line.strip()
        if not line:
            continue
        ev = json.loads(line)
        kind, t = ev.get('event'), ev.get('t', '')
        if 'hex' not in ev:
            rest = ' '.join(f'{k} {v}' for k, v in ev.items() if k not in ('event', 't'))
            out.append(f'# -- {kind} {rest} at {t}'.replace('  ', ' '))
            continue
        b = bytes.fromhex(ev['hex'])
        assert b[:16] == b'\xff' * 16 and int.from_bytes(b[16:18], 'big') == len(b), line
        direction = 'bagpipe -> peer' if kind == 'received' else 'peer -> bagpipe'
        injected = ' (injected by the fake peer)' if 'injected' in ev.get('type', '') else ''
        out.append(f'# [{n}] {direction} at {t}{injected}: {summarize(b)}')
        out.append(ev['hex'].lower())
        n += 1
    with open(dst, 'w') as f:
        f.write('\n'.join(out) + '\n')
    return n


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    ref, out = sys.argv[1], sys.argv[2]
    n = convert_updates(os.path.join(ref, 'bagpipe_updates_decoded.txt'),
                        os.path.join(out, 'bagpipe-original-updates.hex'))
    print(f'bagpipe-original-updates.hex: {n} messages')
    n = convert_session(os.path.join(ref, 'fake_peer_capture.jsonl'),
                        os.path.join(out, 'bagpipe-original-session.hex'))
    print(f'bagpipe-original-session.hex: {n} messages')


if __name__ == '__main__':
    main()
