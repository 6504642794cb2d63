#!/usr/bin/env python3
"""Turn a loopback pcap of one or more BGP sessions into test data.

Writes, for NAME:
  NAME.hex          one BGP message per line (whole message, 16-byte marker included),
                    each preceded by a '# [i] sender -> receiver: TYPE ...' comment line
  NAME.tshark.json  tshark's own decode of the same messages, in the same order
                    ("index" i = i-th hex line of NAME.hex, comment lines not counted)

The byte streams are rebuilt per TCP direction from tshark's raw tcp.payload fields and cut
into messages with the BGP length field; tshark's dissection is only used for the .json file
(and to cross-check type and length of every message).

Used by capture.sh (developer tool, not run by the tests).
"""
import argparse
import datetime
import json
import subprocess
import sys

MSG_TYPES = {1: 'OPEN', 2: 'UPDATE', 3: 'NOTIFICATION', 4: 'KEEPALIVE', 5: 'ROUTE-REFRESH'}
CAP_NAMES = {1: 'mp', 2: 'route-refresh', 5: 'extended-nexthop', 6: 'extended-message',
             64: 'graceful-restart', 65: 'as4', 69: 'add-path', 70: 'enhanced-route-refresh',
             71: 'llgr', 73: 'fqdn', 128: 'route-refresh-cisco', 131: 'multisession-cisco'}
ATTR_NAMES = {1: 'ORIGIN', 2: 'AS_PATH', 3: 'NEXT_HOP', 4: 'MED', 5: 'LOCAL_PREF',
              6: 'ATOMIC_AGGREGATE', 7: 'AGGREGATOR', 8: 'COMMUNITIES', 9: 'ORIGINATOR_ID',
              10: 'CLUSTER_LIST', 14: 'MP_REACH', 15: 'MP_UNREACH', 16: 'EXT_COMMUNITIES',
              17: 'AS4_PATH', 18: 'AS4_AGGREGATOR', 22: 'PMSI_TUNNEL', 23: 'TUNNEL_ENCAP',
              26: 'AIGP', 32: 'LARGE_COMMUNITIES', 40: 'PREFIX_SID', 128: 'ATTR_SET'}
FAMILIES = {(1, 1): 'ipv4-unicast', (2, 1): 'ipv6-unicast', (1, 2): 'ipv4-multicast',
            (1, 4): 'ipv4-labeled', (2, 4): 'ipv6-labeled', (1, 128): 'vpnv4', (2, 128): 'vpnv6',
            (1, 132): 'rtc', (25, 70): 'evpn', (1, 133): 'ipv4-flowspec', (2, 133): 'ipv6-flowspec',
            (1, 134): 'vpnv4-flowspec', (25, 65): 'vpls'}
NOTIF_CODES = {1: 'message header error', 2: 'OPEN error', 3: 'UPDATE error', 4: 'hold timer expired',
               5: 'FSM error', 6: 'cease'}
CEASE_SUBCODES = {1: 'max prefixes', 2: 'administrative shutdown', 3: 'peer de-configured',
                  4: 'administrative reset', 5: 'connection rejected', 6: 'other configuration change',
                  7: 'connection collision', 8: 'out of resources', 9: 'hard reset'}


def fam(afi, safi):
    return FAMILIES.get((afi, safi), f'{afi}/{safi}')


def summarize(msg):
    """One-line human summary of a BGP message (bytes), for the comment lines."""
    t = msg[18]
    name = MSG_TYPES.get(t, f'type {t}')
    body = msg[19:]
    try:
        if t == 1:
            ver, my_as, hold = body[0], int.from_bytes(body[1:3], 'big'), int.from_bytes(body[3:5], 'big')
            bgp_id = '.'.join(str(b) for b in body[5:9])
            opt = body[10:10 + body[9]]
            caps = []
            i = 0
            while i + 2 <= len(opt):
                ptype, plen = opt[i], opt[i + 1]
                pval = opt[i + 2:i + 2 + plen]
                i += 2 + plen
                if ptype != 2:
                    caps.append(f'param{ptype}')
                    continue
                j = 0
                while j + 2 <= len(pval):
                    code, clen = pval[j], pval[j + 1]
                    cval = pval[j + 2:j + 2 + clen]
                    j += 2 + clen
                    cname = CAP_NAMES.get(code, f'cap{code}')
                    if code == 1 and clen == 4:
                        cname += f'({fam(int.from_bytes(cval[0:2], "big"), cval[3])})'
                    elif code == 65 and clen == 4:
                        cname += f'({int.from_bytes(cval, "big")})'
                    elif code == 69:
                        modes = {1: 'rx', 2: 'tx', 3: 'rx+tx'}
                        cname += '(' + ','.join(
                            f'{fam(int.from_bytes(cval[k:k + 2], "big"), cval[k + 2])}:{modes.get(cval[k + 3], cval[k + 3])}'
                            for k in range(0, len(cval) - 3, 4)) + ')'
                    caps.append(cname)
            return f'{name} v{ver} as {my_as} hold {hold} id {bgp_id} caps: {" ".join(caps)}'
        if t == 2:
            wlen = int.from_bytes(body[0:2], 'big')
            alen = int.from_bytes(body[2 + wlen:4 + wlen], 'big')
            attrs = body[4 + wlen:4 + wlen + alen]
            nlri_len = len(body) - 4 - wlen - alen
            if wlen == 0 and alen == 0 and nlri_len == 0:
                return f'{name} End-of-RIB ipv4-unicast'
            names = []
            mp_unreach_len = None
            i = 0
            while i + 3 <= len(attrs):
                flags, code = attrs[i], attrs[i + 1]
                if flags & 0x10:
                    ln = int.from_bytes(attrs[i + 2:i + 4], 'big')
                    val = attrs[i + 4:i + 4 + ln]
                    i += 4 + ln
                else:
                    ln = attrs[i + 2]
                    val = attrs[i + 3:i + 3 + ln]
                    i += 3 + ln
                an = ATTR_NAMES.get(code, f'attr{code}')
                if code == 15:
                    mp_unreach_len = len(val)
                    mp_unreach_fam = fam(int.from_bytes(val[0:2], "big"), val[2]) if len(val) >= 3 else '?'
                if code in (14, 15) and len(val) >= 3:
                    afi, safi = int.from_bytes(val[0:2], "big"), val[2]
                    detail = fam(afi, safi)
                    if (afi, safi) == (25, 70):  # EVPN: list the route types
                        k = 3
                        if code == 14:
                            k = 4 + val[3]
                            k += 1 + val[k]  # reserved / SNPAs (count, always 0 here)
                        types = []
                        while k + 2 <= len(val):
                            types.append(str(val[k]))
                            k += 2 + val[k + 1]
                        detail += ' type ' + ','.join(types)
                    an += f'({detail})'
                names.append(an)
            if wlen == 0 and nlri_len == 0 and len(names) == 1 and mp_unreach_len == 3:
                return f'{name} End-of-RIB {mp_unreach_fam}'
            parts = []
            if wlen:
                parts.append(f'withdrawn {wlen}B')
            if names:
                parts.append('attrs ' + ' '.join(names))
            if nlri_len:
                parts.append(f'nlri {nlri_len}B')
            return f'{name} ' + '; '.join(parts)
        if t == 3:
            code, sub = body[0], body[1]
            what = NOTIF_CODES.get(code, f'code {code}')
            if code == 6:
                what += ' / ' + CEASE_SUBCODES.get(sub, f'subcode {sub}')
            else:
                what += f' / subcode {sub}'
            data = body[2:]
            extra = ''
            if code == 6 and sub in (2, 4) and data:
                n = data[0]
                extra = f' "{data[1:1 + n].decode("utf-8", "replace")}"'
            elif data:
                extra = f' data {data.hex()}'
            return f'{name} {what}{extra}'
        if t == 5 and len(body) >= 4:
            return f'{name} {fam(int.from_bytes(body[0:2], "big"), body[3])} subtype {body[2]}'
    except (IndexError, ValueError):
        return f'{name} (summary failed: malformed?)'
    return name


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def split_streams(pcap):
    """Return the BGP messages as dicts, ordered by the frame that completes them."""
    out = run(['tshark', '-r', pcap, '-Y', 'tcp.len > 0', '-T', 'fields', '-E', 'separator=\t',
               '-e', 'frame.number', '-e', 'tcp.stream', '-e', 'ip.src', '-e', 'tcp.srcport',
               '-e', 'ip.dst', '-e', 'tcp.dstport', '-e', 'tcp.seq_raw', '-e', 'tcp.payload'])
    dirs = {}
    for line in out.splitlines():
        f = line.split('\t')
        if len(f) < 8 or not f[7]:
            continue
        frame, stream, src, sport, dst, dport, seq, payload = f[:8]
        key = (int(stream), src, int(sport), dst, int(dport))
        dirs.setdefault(key, []).append((int(seq), int(frame), bytes.fromhex(payload.replace(':', ''))))
    msgs = []
    for key, segs in dirs.items():
        segs.sort()
        buf = bytearray()
        frames = []  # frame number of each byte in buf (list of (end offset, frame))
        base = segs[0][0]
        for seq, frame, data in segs:
            off = (seq - base) % (1 << 32)
            if off + len(data) <= len(buf):
                continue  # retransmission
            data = data[len(buf) - off:] if off < len(buf) else data
            if off > len(buf):
                print(f'warning: gap in {key} at {off}', file=sys.stderr)
                break
            buf += data
            frames.append((len(buf), frame))
        pos = 0
        while pos + 19 <= len(buf):
            if buf[pos:pos + 16] != b'\xff' * 16:
                print(f'warning: no BGP marker in {key} at {pos}, stopping this direction', file=sys.stderr)
                break
            ln = int.from_bytes(buf[pos + 16:pos + 18], 'big')
            if ln < 19 or pos + ln > len(buf):
                break
            end_frame = next(fr for end, fr in frames if end >= pos + ln)
            msgs.append({'stream': key[0], 'src': f'{key[1]}:{key[2]}', 'dst': f'{key[3]}:{key[4]}',
                         'src_ip': key[1], 'dst_ip': key[3], 'frame': end_frame, 'offset': pos,
                         'bytes': bytes(buf[pos:pos + ln])})
            pos += ln
    msgs.sort(key=lambda m: (m['frame'], m['stream'], m['offset']))
    return msgs


def tshark_decodes(pcap, ports):
    """tshark's decode: {(src, dst): [bgp message tree, ...]} in stream order."""
    cmd = ['tshark', '-r', pcap, '--no-duplicate-keys', '-Y', 'bgp', '-T', 'json']
    for p in ports:
        cmd += ['-d', f'tcp.port=={p},bgp']
    pkts = json.loads(run(cmd) or '[]')
    per_dir = {}
    for pkt in pkts:
        layers = pkt['_source']['layers']
        src = f"{layers['ip']['ip.src']}:{layers['tcp']['tcp.srcport']}"
        dst = f"{layers['ip']['ip.dst']}:{layers['tcp']['tcp.dstport']}"
        bgp = layers.get('bgp')
        if bgp is None:
            continue
        items = bgp if isinstance(bgp, list) else [bgp]
        frame = int(layers['frame']['frame.number'])
        for layer in items:
            # one "bgp" layer can carry several messages, each under a key like
            # "bgp.update", or directly the fields of a single message
            for m in split_layer(layer):
                per_dir.setdefault((src, dst), []).append((frame, m))
    return per_dir


def split_layer(layer):
    """A tshark bgp layer -> list of per-message trees."""
    if 'bgp.type' in layer:
        return [layer]
    out = []
    for k, v in layer.items():
        vs = v if isinstance(v, list) else [v]
        for x in vs:
            if isinstance(x, dict) and 'bgp.type' in x:
                out.append(x)
    return out


def trim(tree):
    """Drop tshark's per-bit flag breakdowns (*.flags_tree): the flags value itself stays."""
    if isinstance(tree, dict):
        return {k: trim(v) for k, v in tree.items() if not k.endswith('flags_tree')}
    if isinstance(tree, list):
        return [trim(v) for v in tree]
    return tree


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--pcap', required=True)
    ap.add_argument('--port', type=int, action='append', required=True,
                    help='TCP port(s) to decode as BGP')
    ap.add_argument('--out', required=True, help='output path without extension')
    ap.add_argument('--title', required=True)
    ap.add_argument('--peer', action='append', default=[],
                    help='IP=LABEL=description (LABEL is used in the per-message comments)')
    ap.add_argument('--only-from', action='append', default=[],
                    help='keep only messages sent by these IPs (default: both directions)')
    ap.add_argument('--decode-flags', default='',
                    help='bagpipe-bgp-decode flags for the session context of this capture '
                         '(written as a "# decode-flags:" header line)')
    ap.add_argument('--max', type=int, default=60)
    ap.add_argument('--until-notification', action='store_true',
                    help='drop everything after the first NOTIFICATION (e.g. reconnect attempts)')
    args = ap.parse_args()

    peers, labels = {}, {}
    for p in args.peer:
        ip, label, desc = p.split('=', 2)
        peers[ip], labels[ip] = f'{label}: {desc}', label
    msgs = split_streams(args.pcap)
    if args.only_from:
        msgs = [m for m in msgs if m['src_ip'] in args.only_from]
    if not msgs:
        sys.exit(f'{args.pcap}: no BGP messages found')
    decodes = tshark_decodes(args.pcap, args.port)
    cursor = {}
    tshark_ver = run(['tshark', '--version']).splitlines()[0]

    # match every message to tshark's decode of it (same direction, same order)
    all_msgs = split_streams(args.pcap)
    for m in all_msgs:
        k = (m['src'], m['dst'])
        i = cursor.get(k, 0)
        cursor[k] = i + 1
        lst = decodes.get(k, [])
        m['tshark'] = lst[i][1] if i < len(lst) else None
    by_id = {(m['src'], m['dst'], m['offset']): m for m in all_msgs}
    for m in msgs:
        m['tshark'] = by_id[(m['src'], m['dst'], m['offset'])]['tshark']

    dropped = 0
    if args.until_notification:
        for i, m in enumerate(msgs):
            if m['bytes'][18] == 3:
                dropped += len(msgs) - i - 1
                msgs = msgs[:i + 1]
                break
    if len(msgs) > args.max:
        dropped += len(msgs) - args.max
        msgs = msgs[:args.max]

    lines = [f'# {args.title}',
             f'# Captured on loopback by tests/data/captures/capture.sh, '
             f'{datetime.date.today().isoformat()}; {tshark_ver.rstrip(".")}.',
             '# One BGP message per line (hex, 16-byte marker included); the "# [i]" line before each',
             f'# says who sent it. tshark\'s decode of message i: {args.out.rsplit("/", 1)[-1]}.tshark.json.']
    lines.append('# decode-flags: ' + (args.decode_flags or
                 '(none: iBGP, 4-octet AS numbers, no ADD-PATH, no extended message)'))
    for ip, desc in peers.items():
        lines.append(f'#   {ip} = {desc}')
    if dropped:
        lines.append(f'# ({dropped} later messages left out'
                     + (', e.g. reconnection attempts after the NOTIFICATION)' if args.until_notification else ')'))
    jmsgs = []
    malformed = []
    mismatches = 0
    for i, m in enumerate(msgs):
        b = m['bytes']
        s_desc = peers.get(m['src_ip'], m['src_ip'])
        s_lab = labels.get(m['src_ip'], '?')
        d_lab = labels.get(m['dst_ip'], '?')
        lines.append(f'# [{i}] {s_lab} {m["src"]} -> {d_lab} {m["dst"]}: {summarize(b)}')
        lines.append(b.hex())
        tree = trim(m['tshark'])
        if tree is not None:
            ok = (int(tree.get('bgp.type', -1)) == b[18] and int(tree.get('bgp.length', -1)) == len(b))
            if not ok:
                mismatches += 1
                print(f'warning: message {i}: tshark type/length differ', file=sys.stderr)
        entry = {'index': i, 'frame': m['frame'], 'from': m['src'], 'to': m['dst'],
                 'sender': s_desc, 'type': MSG_TYPES.get(b[18], str(b[18])), 'length': len(b),
                 'summary': summarize(b)}
        if tree is not None and '_ws.malformed' in json.dumps(tree):
            entry['tshark_malformed'] = True
            malformed.append(i)
        entry['tshark'] = tree
        jmsgs.append(entry)
    if malformed:
        lines.insert(5 + len(peers) + (1 if dropped else 0),
                     f'# Note: tshark flags message(s) {", ".join(map(str, malformed))} as malformed: its decode of '
                     'them is wrong, not the message (e.g. tshark 4.0 ignores ADD-PATH on VPNv4).')
    with open(args.out + '.hex', 'w') as f:
        f.write('\n'.join(lines) + '\n')
    with open(args.out + '.tshark.json', 'w') as f:
        json.dump({'title': args.title, 'tshark': tshark_ver, 'peers': peers, 'messages': jmsgs},
                  f, indent=1)
        f.write('\n')
    missing = sum(1 for m in jmsgs if m['tshark'] is None)
    print(f'{args.out}.hex: {len(msgs)} messages'
          + (f', {missing} without tshark decode' if missing else '')
          + (f', {mismatches} tshark mismatches' if mismatches else '')
          + (f', tshark says malformed: {malformed}' if malformed else ''))


if __name__ == '__main__':
    main()
