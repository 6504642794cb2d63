#!/usr/bin/env python3
"""Regenerates the seed corpora in fuzz/corpus/<target>/ from the captured
messages in tests/data/captures/*.hex (bytes written by GoBGP, ExaBGP, FRR
and the original bagpipe-bgp). Run by developers after adding captures; the
test command only replays the committed files.

Seed layout per target (see fuzz_context.h for the context octet):
  message:    ctx, whole message
  attributes: ctx, has-nlri flag, path attribute block of an UPDATE
  nlri:       ctx, family selector (Family enum - 1, +0x80 for withdraw), NLRI bytes
  frame:      ctx, several messages back to back
"""
import hashlib
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
# Family enum order in src/bgp/wire/family.h (kUnknown = 0 excluded).
FAMILIES = [(1, 1), (2, 1), (1, 4), (2, 4), (1, 128), (2, 128), (25, 70), (1, 132), (1, 134), (2, 134)]


def messages():
    for path in sorted((ROOT / "tests" / "data" / "captures").glob("*.hex")):
        for line in path.read_text().splitlines():
            line = "".join(line.split())
            if not line or line.startswith("#"):
                continue
            try:
                yield bytes.fromhex(line)
            except ValueError:
                continue


def save(target, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


def attributes_and_nlri(msg):
    if len(msg) < 23 or msg[18] != 2:
        return
    wl = struct.unpack(">H", msg[19:21])[0]
    pos = 21 + wl
    al = struct.unpack(">H", msg[pos:pos + 2])[0]
    block = msg[pos + 2:pos + 2 + al]
    has_nlri = len(msg) > pos + 2 + al
    yield "attributes", bytes([1, 1 if has_nlri else 0]) + block
    i = 0
    while i + 3 <= len(block):
        flags, code = block[i], block[i + 1]
        if flags & 0x10:
            hl, ln = 4, struct.unpack(">H", block[i + 2:i + 4])[0]
        else:
            hl, ln = 3, block[i + 2]
        value = block[i + hl:i + hl + ln]
        if code in (14, 15) and len(value) >= 3:
            afi, safi = struct.unpack(">HB", value[:3])
            if (afi, safi) in FAMILIES:
                sel = FAMILIES.index((afi, safi))
                if code == 14 and len(value) > 4:
                    nh = value[3]
                    nlri = value[4 + nh + 1:]
                else:
                    nlri, sel = value[3:], sel | 0x80
                yield "nlri", bytes([1, sel]) + nlri
        i += hl + ln


def main():
    msgs = list(messages())
    for m in msgs:
        save("message", bytes([1]) + m)
        save("message", bytes([0]) + m)
        for target, seed in attributes_and_nlri(m):
            save(target, seed)
    for i in range(0, len(msgs), 8):
        save("frame", bytes([1]) + b"".join(msgs[i:i + 8]))
    for t in ("message", "attributes", "nlri", "frame"):
        print(t, len(list((CORPUS / t).glob("*"))))


if __name__ == "__main__":
    main()
