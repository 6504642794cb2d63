#!/usr/bin/env python3
"""peerq.py - normalise what each BGP implementation shows, and check it.

Used by tests/interop/lib/peers.sh; stdlib only.

  peerq.py norm KIND FAMILY [FILE] [NEIGHBOR]
      Read KIND's output (gobgp / frr / openbgpd JSON, bird text, exabgp message log,
      bagpipe state file) from FILE or stdin; print a JSON list of routes, each
      {"key", "nh", "labels", "rts", "originator", "cluster", "peer"} with
        VPNv4 key  "RD:PREFIX"                  e.g. "64512:1:10.1.0.0/24"
        EVPN  key  "2:RD:MAC:IP" (type 2)       e.g. "2:64512:1:aa:bb:cc:00:00:01:10.1.1.5"
                   "3:RD:ETAG:IP" (type 3)      e.g. "3:64512:1:0:127.0.50.11"
      labels: VPNv4 = MPLS label values (20 bits); EVPN = the 24-bit label field as sent
      (RFC 8365: the VNI), whatever the implementation's own display convention.
      rts: sorted route targets "ASN:VAL"; other extended communities are dropped.
  peerq.py expect-vpnv4 count=N rd=RD prefix=A.B label=L [start=S]
      Print the keys and labels that peers.sh's peer_announce_vpnv4 with the same
      arguments announces (route i: A.(B + i//256).(i%256).0/24, label L+i).
  peerq.py check ROUTES.json [--count N] [--expect-vpnv4 SPEC] [--nh IP] [--rt RT,...]
                 [--originator IP | --no-originator] [--cluster IP,...] [--key-prefix P]
                 [--label N] [--what TEXT]
      Check every route (those whose key starts with --key-prefix, if given); print one
      "ok:"/"FAIL:" line; exit 0 or 1.
  peerq.py exa-state LOG NEIGHBOR         last session state ExaBGP reported ("up", ...)
  peerq.py exa-notifications LOG NEIGHBOR  NOTIFICATIONs received "code/subcode", one a line
  peerq.py exa-hold LOG NEIGHBOR          hold time in the OPEN received from NEIGHBOR
  peerq.py bagpipe-peer STATE NEIGHBOR FIELD  a field of a peer entry in the state file
"""
import json
import re
import sys


def rt_str(s):
    s = str(s)
    for p in ('target:', 'rt:', 'RT:'):
        if s.startswith(p):
            s = s[len(p):]
    return s.strip()


def route(key, nh=None, labels=None, rts=None, originator=None, cluster=None, peer=None):
    return {'key': key, 'nh': nh, 'labels': list(labels or []), 'rts': sorted(set(rts or [])),
            'originator': originator, 'cluster': list(cluster or []), 'peer': peer}


def evpn_key(t, rd, mac=None, ip=None, etag=0):
    if t == 2:
        ip = ip or ''
        if ip in ('0.0.0.0', '::', '-'):
            ip = ''
        return f'2:{rd}:{mac.lower()}:{ip}'
    if t == 3:
        return f'3:{rd}:{int(etag or 0)}:{ip}'
    return f'{t}:{rd}:?'


# ----------------------------------------------------------------------------- GoBGP

def gobgp_rd(rd):
    if isinstance(rd, dict):
        return f"{rd.get('admin')}:{rd.get('assigned')}"
    return str(rd)


def norm_gobgp(text, family):
    out = []
    if not text.strip():
        return out
    data = json.loads(text)
    for paths in data.values():
        for p in paths:
            if not p.get('best', True) and len(paths) > 1:
                pass  # keep every path; tests use one path per prefix
            attrs = {a['type']: a for a in p.get('attrs', [])}
            nh = attrs.get(14, {}).get('nexthop') or attrs.get(3, {}).get('nexthop')
            if nh is None and 3 in attrs:
                nh = attrs[3].get('value')
            rts = [rt_str(e['value']) for e in attrs.get(16, {}).get('value', [])
                   if e.get('type') in (0, 1, 2) and e.get('subtype') == 2]
            orig = attrs.get(9, {}).get('value')
            cl = attrs.get(10, {}).get('value', [])
            n = p['nlri']
            if family == 'vpnv4':
                key = f"{gobgp_rd(n['rd'])}:{n['prefix']}"
                labels = n.get('labels', [])
            else:
                v = n.get('value', {})
                t = n.get('type')
                key = evpn_key(t, gobgp_rd(v.get('rd')), v.get('mac'), v.get('ip'), v.get('etag'))
                labels = v.get('labels', [])
            out.append(route(key, nh, labels, rts, orig, cl, p.get('neighbor-ip')))
    return out


# ----------------------------------------------------------------------------- FRR

def frr_paths(data):
    """Yield (rd, prefix, path) from 'show bgp ipv4 vpn json detail' / 'l2vpn evpn'."""
    rds = data.get('routes', data)
    if 'routeDistinguishers' in rds:
        rds = rds['routeDistinguishers']
    for rd, prefixes in rds.items():
        if not isinstance(prefixes, dict):
            continue
        for prefix, paths in prefixes.items():
            if isinstance(paths, dict) and 'paths' in paths:
                paths = paths['paths']
            if not isinstance(paths, list):
                continue
            for p in paths:
                if isinstance(p, list):
                    for q in p:
                        yield rd, prefix, q
                else:
                    yield rd, prefix, p


def frr_ext(p):
    ec = p.get('extendedCommunity') or p.get('extCommunity') or {}
    s = ec.get('string', '') if isinstance(ec, dict) else str(ec)
    return [m.group(1) for m in re.finditer(r'RT:(\S+)', s)]


def frr_cluster(p):
    cl = p.get('clusterList')
    if isinstance(cl, dict):
        cl = cl.get('list', [])
    return cl or []


def frr_nh(p):
    for n in p.get('nexthops', []):
        ip = n.get('ip')
        if ip:
            return ip
    return None


def json_stream(text):
    dec = json.JSONDecoder()
    i = 0
    while True:
        while i < len(text) and text[i] in ' \t\r\n':
            i += 1
        if i >= len(text):
            return
        obj, i = dec.raw_decode(text, i)
        yield obj


def frr_all_paths(text):
    for data in json_stream(text):
        # per-prefix detail: {"RD": {"prefix": P, "paths": [...]}}
        if all(isinstance(v, dict) and 'paths' in v and 'prefix' in v for v in data.values()):
            for rd, v in data.items():
                for p in v['paths']:
                    yield rd, v['prefix'], p
        else:
            yield from frr_paths(data)


def norm_frr(text, family):
    out = []
    if not text.strip():
        return out
    for rd, prefix, p in frr_all_paths(text):
        labels = []
        if 'remoteLabel' in p:
            labels = [int(p['remoteLabel'])]
        if family == 'vpnv4':
            key = f'{rd}:{prefix}'
        else:
            # "[2]:[0]:[48]:[aa:bb:cc:00:00:01]:[32]:[10.1.1.5]"  /  "[3]:[0]:[32]:[192.0.2.11]"
            f = re.findall(r'\[([^\]]*)\]', prefix)
            if f and f[0] == '2':
                mac = f[3]
                ip = f[5] if len(f) > 5 else ''
                key = evpn_key(2, rd, mac, ip)
            elif f and f[0] == '3':
                key = evpn_key(3, rd, ip=f[3], etag=f[1])
            else:
                key = f'{f[0] if f else "?"}:{rd}:{prefix}'
            if 'vni' in p:
                labels = [int(v) for v in str(p['vni']).replace('/', ' ').split()]
        out.append(route(key, frr_nh(p), labels, frr_ext(p), p.get('originatorId'),
                         frr_cluster(p), (p.get('peerId') or p.get('peer', {}).get('peerId'))))
    return out


# ----------------------------------------------------------------------------- BIRD

def norm_bird(text, family):
    out = []
    cur = None

    def flush():
        if cur:
            out.append(route(cur['key'], cur.get('nh'), cur.get('labels'), cur.get('rts'),
                             cur.get('originator'), cur.get('cluster'), cur.get('peer')))
    for line in text.splitlines():
        m = re.match(r'^(\S+:\S+)\s+(\d+\.\d+\.\d+\.\d+/\d+)\s+\S+\s+\[(\S+)', line)
        m2 = re.match(r'^\s{10,}\S*\s*\[(\S+)', line) if not m else None
        if m:
            flush()
            rd, pfx = m.group(1), m.group(2)
            # BIRD shows VPN prefixes as "64512:1 10.1.0.0/24"
            cur = {'key': f'{rd}:{pfx}', 'peer': m.group(3)}
            continue
        m = re.match(r'^(\d+:\d+)\s+(\d+\.\d+\.\d+\.\d+/\d+)\s+\S+\s+\[(\S+)', line)
        if m:
            flush()
            cur = {'key': f'{m.group(1)}:{m.group(2)}', 'peer': m.group(3)}
            continue
        if cur is None:
            continue
        s = line.strip()
        if s.startswith('BGP.next_hop:'):
            cur['nh'] = s.split(':', 1)[1].split()[0]
        elif s.startswith('BGP.originator_id:'):
            cur['originator'] = s.split(':', 1)[1].strip()
        elif s.startswith('BGP.cluster_list:'):
            cur['cluster'] = s.split(':', 1)[1].split()
        elif s.startswith('BGP.ext_community:'):
            cur['rts'] = [f'{a}:{b}' for a, b in re.findall(r'\(rt,\s*(\d+),\s*(\d+)\)', s)]
        elif s.startswith('BGP.mpls_label_stack:'):
            cur['labels'] = [int(x) for x in s.split(':', 1)[1].replace('/', ' ').split()]
        elif s.startswith('via ') and 'labels' not in cur:
            m = re.search(r'mpls ([\d/]+)', s)
            if m:
                cur['labels'] = [int(x) for x in m.group(1).split('/')]
    flush()
    return out


# ----------------------------------------------------------------------------- OpenBGPD

def norm_openbgpd(text, family):
    """bgpctl -j show rib detail. bgpctl 7.7 does not show MPLS labels: labels = None."""
    out = []
    if not text.strip():
        return out
    data = json.loads(text)
    for r in data.get('rib', []):
        pfx = r.get('prefix', '')
        m = re.match(r'rd\s+(\S+)\s+(\S+)', pfx)          # "rd 64512:1 10.1.0.0/24"
        key = f'{m.group(1)}:{m.group(2)}' if m else pfx
        rts = []
        for c in r.get('extended_communities', []) or []:
            m = re.match(r'rt\s+(\S+)', c if isinstance(c, str) else '')
            if m:
                rts.append(m.group(1))
        orig, cl = None, []
        for a in r.get('attributes', []) or []:
            if 'originator' in a:
                orig = a['originator']
            if 'cluster_list' in a:
                cl = a['cluster_list']
        rt = route(key, r.get('exit_nexthop'), None, rts, orig, cl,
                   r.get('neighbor', {}).get('remote_addr'))
        rt['labels'] = None
        out.append(rt)
    return out


# ----------------------------------------------------------------------------- ExaBGP

def exa_messages(path, neighbor=None):
    with open(path) as f:
        for line in f:
            try:
                j = json.loads(line)
            except ValueError:
                continue
            n = j.get('neighbor', {})
            if neighbor and n.get('address', {}).get('peer') != neighbor:
                continue
            yield j


def exa_labels(lbl, family):
    out = []
    for x in lbl or []:
        if isinstance(x, list):
            # ExaBGP 4.2: [label] for MPLS labels; [label, raw 24 bits] on EVPN
            out.append(int(x[-1]) if family == 'evpn' and len(x) > 1 else int(x[0]))
        else:
            out.append(int(x))
    return out


def exa_key(fam, r):
    if fam == 'ipv4 mpls-vpn':
        return 'vpnv4', f"{r.get('rd')}:{r.get('nlri')}"
    if fam == 'l2vpn evpn':
        code = r.get('code')
        if code == 2:
            return 'evpn', evpn_key(2, r.get('rd'), r.get('mac', ''), r.get('ip', ''))
        if code == 3:
            return 'evpn', evpn_key(3, r.get('rd'), ip=r.get('ip'), etag=r.get('etag', 0))
        return 'evpn', f"{code}:{r.get('rd')}:?"
    return None, None


def norm_exabgp(path, family, neighbor=None):
    rib = {}
    for j in exa_messages(path, neighbor):
        n = j.get('neighbor', {})
        peer = n.get('address', {}).get('peer')
        if j.get('type') == 'state' and n.get('state') in ('down', 'connected'):
            for k in [k for k, v in rib.items() if v['peer'] == peer]:
                del rib[k]
            continue
        if j.get('type') != 'update':
            continue
        u = n.get('message', {}).get('update', {})
        a = u.get('attribute', {})
        rts = [rt_str(e.get('string', '')) for e in a.get('extended-community', [])
               if str(e.get('string', '')).startswith('target:')]
        for fam, byn in u.get('announce', {}).items():
            for nh, routes in byn.items():
                for r in routes:
                    f, key = exa_key(fam, r)
                    if f != family:
                        continue
                    rib[(peer, key)] = route(key, nh, exa_labels(r.get('label'), f), rts,
                                             a.get('originator-id'), a.get('cluster-list'), peer)
        for fam, routes in u.get('withdraw', {}).items():
            for r in routes:
                f, key = exa_key(fam, r)
                rib.pop((peer, key), None)
    return list(rib.values())


def exa_state(path, neighbor):
    st = 'none'
    for j in exa_messages(path, neighbor):
        if j.get('type') == 'state':
            st = j['neighbor'].get('state', st)
    return st


def exa_notifications(path, neighbor):
    """NOTIFICATIONs received, from the reasons of the "down" state messages. ExaBGP 4.2.21
    cannot decode a Cease 6/2 or 6/4 that carries a Shutdown Communication (RFC 9003): its
    Notification.__init__ does b'...%s' % str -> TypeError, reported as 'can not decode
    update message of type "3"' (3 = NOTIFICATION); that is printed as "6/?"."""
    for j in exa_messages(path, neighbor):
        if j.get('type') != 'state' or j['neighbor'].get('state') != 'down':
            continue
        reason = j['neighbor'].get('reason', '')
        m = re.search(r'notification received \((\d+),\s*(\d+)\)', reason)
        if m:
            print(f'{m.group(1)}/{m.group(2)}')
        elif 'can not decode update message of type "3"' in reason:
            print('6/?')


def exa_hold(path, neighbor):
    hold = ''
    for j in exa_messages(path, neighbor):
        if j.get('type') == 'open' and j['neighbor'].get('direction') == 'receive':
            hold = j['neighbor']['open'].get('hold_time', '')
    return hold


# ----------------------------------------------------------------------------- bagpipe-bgp

BAGPIPE_FAMILY = {'vpnv4': 'ipv4-vpn', 'evpn': 'l2vpn-evpn', 'rtc': 'ipv4-rtc'}


def bagpipe_state(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def norm_bagpipe_key(family, key):
    k = key.split(' ', 1)[1] if ' ' in key else key
    if family != 'evpn':
        return k
    f = re.findall(r'\[([^\]]*)\]', k)
    # "[2][RD][ETAG][MACLEN][MAC][IP]", "[3][RD][ETAG][IP]"
    if f and f[0] == '2' and len(f) >= 6:
        return evpn_key(2, f[1], f[4], f[5])
    if f and f[0] == '3' and len(f) >= 4:
        return evpn_key(3, f[1], ip=f[3], etag=f[2])
    return k


def norm_bagpipe(path, family):
    """State file routes. Its "labels" are the raw 3-octet fields: VPN label = raw >> 4;
    EVPN keeps the raw field (the VNI, RFC 8365)."""
    st = bagpipe_state(path)
    fam = BAGPIPE_FAMILY.get(family, family)
    out = []
    for r in st.get('routes', []):
        if r.get('family') != fam:
            continue
        labels = [int(x) for x in r.get('labels') or []]
        if family == 'vpnv4':
            labels = [x >> 4 for x in labels]
        out.append(route(norm_bagpipe_key(family, r.get('key', '')), r.get('next_hop'),
                         labels, [rt_str(x) for x in r.get('route_targets', [])],
                         r.get('originator_id'), r.get('cluster_list'), r.get('peer')))
    return out


def bagpipe_peer(path, neighbor, field):
    st = bagpipe_state(path)
    for p in st.get('peers', []):
        if p.get('address') == neighbor:
            v = p
            for part in field.split('.'):
                v = v.get(part, '') if isinstance(v, dict) else ''
            return v if isinstance(v, str) else json.dumps(v)
    return ''


# ----------------------------------------------------------------------------- checks

def parse_spec(spec):
    d = dict(kv.split('=', 1) for kv in spec.split(',') if kv)
    return d


def expect_vpnv4(count, rd, prefix, label, start=0):
    a, b = (int(x) for x in prefix.split('.'))
    out = {}
    for i in range(start, start + count):
        out[f'{rd}:{a}.{b + i // 256}.{i % 256}.0/24'] = label + i
    return out


def check(argv):
    import argparse
    ap = argparse.ArgumentParser(prog='peerq.py check')
    ap.add_argument('routes')
    ap.add_argument('--count', type=int)
    ap.add_argument('--expect-vpnv4', action='append', default=[])
    ap.add_argument('--nh')
    ap.add_argument('--rt')
    ap.add_argument('--originator')
    ap.add_argument('--no-originator', action='store_true')
    ap.add_argument('--cluster')
    ap.add_argument('--key-prefix', default='')
    ap.add_argument('--label', type=int)
    ap.add_argument('--what', default='routes')
    a = ap.parse_args(argv)
    with open(a.routes) as f:
        routes = [r for r in json.load(f) if r['key'].startswith(a.key_prefix)]
    errs = []
    if a.count is not None and len(routes) != a.count:
        errs.append(f'{len(routes)} routes, expected {a.count}')
    exp = {}
    for spec in a.expect_vpnv4:
        d = parse_spec(spec)
        exp.update(expect_vpnv4(int(d['count']), d['rd'], d['prefix'], int(d['label']),
                                int(d.get('start', 0))))
    if a.expect_vpnv4:
        got = {r['key'] for r in routes}
        missing = sorted(set(exp) - got)
        extra = sorted(got - set(exp))
        if missing:
            errs.append(f'{len(missing)} missing (e.g. {missing[:3]})')
        if extra:
            errs.append(f'{len(extra)} unexpected (e.g. {extra[:3]})')
    bad = {}
    unlabelled = 0

    def note(kind, r, val):
        bad.setdefault(kind, []).append(f"{r['key']}={val}")
    for r in routes:
        if r['labels'] is None:
            unlabelled += 1      # the implementation does not show labels
        elif r['key'] in exp and r['labels'] != [exp[r['key']]]:
            note('label', r, r['labels'])
        elif a.label is not None and r['labels'] != [a.label]:
            note('label', r, r['labels'])
        if a.nh and r['nh'] != a.nh:
            note('next hop', r, r['nh'])
        if a.rt is not None and r['rts'] != sorted(a.rt.split(',')):
            note('route targets', r, r['rts'])
        if a.originator and r['originator'] != a.originator:
            note('ORIGINATOR_ID', r, r['originator'])
        if a.no_originator and r['originator']:
            note('ORIGINATOR_ID (expected none)', r, r['originator'])
        if a.cluster is not None and r['cluster'] != [c for c in a.cluster.split(',') if c]:
            note('CLUSTER_LIST', r, r['cluster'])
    for kind, lst in bad.items():
        errs.append(f'{len(lst)} with wrong {kind} (e.g. {lst[:2]})')
    desc = [f'{len(routes)} {a.what}']
    for k in ('nh', 'rt', 'originator', 'cluster', 'label'):
        v = getattr(a, k)
        if v is not None:
            desc.append(f'{k} {v}')
    if a.expect_vpnv4:
        desc.append('keys+labels as announced' if not unlabelled else 'keys as announced (labels not shown)')
    if errs:
        print('FAIL: ' + ', '.join(desc) + ': ' + '; '.join(errs))
        return 1
    print('ok: ' + ', '.join(desc))
    return 0


def main():
    cmd = sys.argv[1]
    if cmd == 'norm':
        kind, family = sys.argv[2], sys.argv[3]
        src = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] != '-' else None
        neighbor = sys.argv[5] if len(sys.argv) > 5 else None
        if kind == 'exabgp':
            res = norm_exabgp(src, family, neighbor)
        elif kind == 'bagpipe':
            res = norm_bagpipe(src, family)
        else:
            text = open(src).read() if src else sys.stdin.read()
            res = {'gobgp': norm_gobgp, 'frr': norm_frr, 'bird': norm_bird,
                   'openbgpd': norm_openbgpd}[kind](text, family)
        res.sort(key=lambda r: r['key'])
        json.dump(res, sys.stdout)
        print()
    elif cmd == 'expect-vpnv4':
        d = dict(kv.split('=', 1) for kv in sys.argv[2:])
        for k, v in expect_vpnv4(int(d['count']), d['rd'], d['prefix'], int(d['label']),
                                 int(d.get('start', 0))).items():
            print(k, v)
    elif cmd == 'check':
        sys.exit(check(sys.argv[2:]))
    elif cmd == 'exa-state':
        print(exa_state(sys.argv[2], sys.argv[3]))
    elif cmd == 'exa-notifications':
        exa_notifications(sys.argv[2], sys.argv[3])
    elif cmd == 'exa-hold':
        print(exa_hold(sys.argv[2], sys.argv[3]))
    elif cmd == 'bagpipe-peer':
        print(bagpipe_peer(sys.argv[2], sys.argv[3], sys.argv[4]))
    else:
        sys.exit(f'peerq.py: unknown command {cmd}')


if __name__ == '__main__':
    main()
