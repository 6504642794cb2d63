#!/usr/bin/env python3
"""A tiny raw BGP peer (stdlib only) for tests/integration/rr_scale.sh.

It connects to a route reflector as an iBGP client (VPNv4 only, 4-octet AS),
completes the handshake, then reads:

  --rate B      read at most B octets/s (0 = as fast as possible), with a
                small receive buffer (--rcvbuf) so the kernel does not absorb
                the backlog: the "slow client";
  --verify N    check every VPNv4 route announced against what
                bagpipe-bgp-bench generates for route i (RD, 10.0.0.0 + i/32,
                label, next hop, ORIGIN, empty AS_PATH, LOCAL_PREF 100,
                MED = i % K, RT <as>:(i % R) + 1, MPLS-over-GRE encapsulation,
                ORIGINATOR_ID, CLUSTER_LIST), and exit 0 once it holds exactly
                routes 0..N-1 with no error (exit 1 on a mismatch, a foreign
                route or the time limit).

Progress goes to --status FILE (one JSON object, rewritten): "established",
then the counts. Keepalives are sent every hold/3 s.
"""
import argparse
import json
import os
import socket
import struct
import sys
import time

MARKER = b"\xff" * 16


def msg(t, body=b""):
    return MARKER + struct.pack("!HB", 19 + len(body), t) + body


def open_msg(asn, hold, bgp_id):
    caps = b""
    caps += bytes([1, 4]) + struct.pack("!HBB", 1, 0, 128)          # MP ipv4-vpn
    caps += bytes([65, 4]) + struct.pack("!I", asn)                 # 4-octet AS
    params = bytes([2, len(caps)]) + caps
    my_as = asn if asn < 65536 else 23456
    return msg(1, struct.pack("!BHH4sB", 4, my_as, hold, socket.inet_aton(bgp_id), len(params)) + params)


class Peer:
    def __init__(self, a):
        self.a = a
        self.buf = bytearray()
        self.status = dict(state="connecting", updates=0, nlri_announced=0, nlri_withdrawn=0, held=0,
                           bytes_in=0, errors=[])
        self.held = bytearray(a.verify) if a.verify else None
        self.nheld = 0
        self.foreign = 0
        self.last_status = 0.0

    def write_status(self, force=False):
        if not self.a.status:
            return
        now = time.time()
        if not force and now - self.last_status < 0.2:
            return
        self.last_status = now
        self.status["held"] = self.nheld
        self.status["foreign"] = self.foreign
        tmp = self.a.status + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.status, f)
        os.replace(tmp, self.a.status)

    def error(self, text):
        if len(self.status["errors"]) < 20:
            self.status["errors"].append(text)

    # ---- route checks

    def expected_attrs(self, i):
        a = self.a
        rt = struct.pack("!BBHI", 0x00, 0x02, a.asn, (i % a.rts) + 1) if a.asn < 65536 else \
            struct.pack("!BBIH", 0x02, 0x02, a.asn, (i % a.rts) + 1)
        return i % a.attr_sets, rt

    def check_attrs(self, attrs):
        """Checks what is the same for every route; returns (med, set of ext communities) or None."""
        a = self.a
        ok = True
        if attrs.get(1) != b"\x00":
            self.error(f"ORIGIN {attrs.get(1)!r}")
            ok = False
        if attrs.get(2, b"") != b"":
            self.error(f"AS_PATH not empty: {attrs.get(2).hex()}")
            ok = False
        if attrs.get(5) != struct.pack("!I", 100):
            self.error(f"LOCAL_PREF {attrs.get(5)!r}")
            ok = False
        if a.originator and attrs.get(9) != socket.inet_aton(a.originator):
            self.error(f"ORIGINATOR_ID {attrs.get(9)!r}")
            ok = False
        if a.cluster:
            cl = attrs.get(10, b"")
            ids = [cl[k:k + 4] for k in range(0, len(cl), 4)]
            if socket.inet_aton(a.cluster) not in ids:
                self.error(f"CLUSTER_LIST {cl.hex()} lacks {a.cluster}")
                ok = False
        med = attrs.get(4)
        if med is None or len(med) != 4:
            self.error("no MED")
            return None
        ec = attrs.get(16, b"")
        comms = {ec[k:k + 8] for k in range(0, len(ec), 8)}
        encap = bytes.fromhex("030c00000000000b")
        if encap not in comms:
            self.error(f"no MPLS-over-GRE encapsulation community: {ec.hex()}")
            ok = False
        return (struct.unpack("!I", med)[0], comms) if ok else None

    def on_update(self, body):
        self.status["updates"] += 1
        wl = struct.unpack_from("!H", body, 0)[0]
        p = 2 + wl
        al = struct.unpack_from("!H", body, p)[0]
        p += 2
        end = p + al
        attrs = {}
        reach = unreach = None
        while p < end:
            flags, code = body[p], body[p + 1]
            if flags & 0x10:
                ln = struct.unpack_from("!H", body, p + 2)[0]
                p += 4
            else:
                ln = body[p + 2]
                p += 3
            v = bytes(body[p:p + ln])
            p += ln
            if code == 14:
                reach = v
            elif code == 15:
                unreach = v
            else:
                attrs[code] = v
        if unreach and len(unreach) > 3:
            afi, safi = struct.unpack_from("!HB", unreach, 0)
            if (afi, safi) == (1, 128):
                for i, _ in self.nlris(unreach, 3):
                    self.status["nlri_withdrawn"] += 1
                    self.apply(i, False)
        if reach:
            afi, safi, nhl = struct.unpack_from("!HBB", reach, 0)
            if (afi, safi) != (1, 128):
                return
            nh = reach[4:4 + nhl]
            start = 4 + nhl + 1  # reserved octet
            if self.held is None:
                for _ in self.nlris(reach, start):
                    self.status["nlri_announced"] += 1
                return
            common = self.check_attrs(attrs)
            want_nh = b"\x00" * 8 + socket.inet_aton(self.a.next_hop)
            if nh != want_nh:
                self.error(f"next hop {nh.hex()}")
                common = None
            for i, label in self.nlris(reach, start):
                self.status["nlri_announced"] += 1
                if i is None:
                    continue
                if common is None:
                    self.apply(i, False)
                    continue
                med, rt = self.expected_attrs(i)
                good = label == ((self.a.label << 4) | 1) and common[0] == med and rt in common[1]
                if not good:
                    self.error(f"route {i}: label {label:#x} MED {common[0]} RTs {[c.hex() for c in common[1]]}")
                self.apply(i, good)

    def nlris(self, v, p):
        rd = self.a.rd
        n = self.a.verify
        while p < len(v):
            bits = v[p]
            ln = (bits + 7) // 8
            e = v[p + 1:p + 1 + ln]
            p += 1 + ln
            if bits != 120 or e[3:11] != rd or e[11] != 10:
                self.foreign += 1
                yield None, 0
                continue
            label = int.from_bytes(e[0:3], "big")
            addr = struct.unpack("!I", e[11:15])[0]
            i = addr - 0x0A000000
            if n is not None and not (0 <= i < n):
                self.foreign += 1
                yield None, label
                continue
            yield i, label

    def apply(self, i, add):
        if self.held is None:
            return
        if add and not self.held[i]:
            self.held[i] = 1
            self.nheld += 1
        elif not add and self.held[i]:
            self.held[i] = 0
            self.nheld -= 1

    def verified(self):
        """On holding exactly the expected table: report, send a Cease and close."""
        if self.a.verify is None or self.nheld != self.a.verify or self.status["errors"] \
                or self.foreign:
            return False
        self.status["state"] = "complete"
        self.status["complete_after_s"] = round(time.time() - self.t_start, 3)
        self.write_status(True)
        self.sock.sendall(msg(3, bytes([6, 2])))  # Cease, administrative shutdown
        self.sock.close()
        return True

    # ---- main loop

    def run(self):
        a = self.a
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if a.rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
        s.bind((a.local, 0))
        deadline = time.time() + a.timeout
        while True:
            try:
                s.settimeout(2)
                s.connect((a.rr, a.port))
                break
            except OSError:
                if time.time() > deadline:
                    self.status["state"] = "connect failed"
                    self.write_status(True)
                    return 1
                s.close()
                time.sleep(0.2)
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                if a.rcvbuf:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
                s.bind((a.local, 0))
        s.settimeout(0.05)
        self.sock = s
        s.sendall(open_msg(a.asn, a.hold, a.local))
        established = False
        last_ka = time.time()
        self.t_start = time.time()
        budget_t = time.time()
        read_bytes = 0
        chunk = 4096
        while True:
            now = time.time()
            if now > deadline:
                self.status["state"] = "timeout" if established else "timeout before Established"
                self.write_status(True)
                return 1
            if established and now - last_ka > a.hold / 3:
                s.sendall(msg(4))
                last_ka = now
            n = 65536
            if a.rate and established:
                # allow rate * elapsed octets since the session came up
                allowed = int(a.rate * (now - budget_t)) - read_bytes
                if allowed <= 0:
                    time.sleep(min(0.05, -allowed / a.rate + 0.001))
                    continue
                n = min(chunk, allowed)
            try:
                data = s.recv(n)
            except socket.timeout:
                self.write_status()
                continue
            except OSError as e:
                self.status["state"] = f"socket error {e}"
                self.write_status(True)
                return 1
            if not data:
                self.status["state"] = "closed by the RR"
                self.write_status(True)
                return 0 if a.verify is None else 1
            self.status["bytes_in"] += len(data)
            if established:
                read_bytes += len(data)
            self.buf += data
            while len(self.buf) >= 19:
                ln = struct.unpack_from("!H", self.buf, 16)[0]
                if len(self.buf) < ln:
                    break
                t = self.buf[18]
                body = bytes(self.buf[19:ln])
                del self.buf[:ln]
                if t == 1:
                    s.sendall(msg(4))
                elif t == 4 and not established:
                    established = True
                    budget_t = time.time()
                    self.status["state"] = "established"
                    self.status["established_at"] = time.time()
                    self.write_status(True)
                elif t == 2:
                    self.on_update(body)
                    # Checked after every UPDATE, not once per read: the
                    # injector withdraws as soon as every client holds the
                    # table, so the last announcements and the first
                    # withdrawals may arrive in the same read.
                    if self.verified():
                        return 0
                elif t == 3:
                    self.status["state"] = f"notification {body[:2].hex()}"
                    self.write_status(True)
                    return 1
            if a.verify is not None and (self.status["errors"] or self.foreign):
                self.status["state"] = "mismatch"
                self.write_status(True)
                return 1
            self.write_status()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rr", required=True)
    ap.add_argument("--port", type=int, default=179)
    ap.add_argument("--local", required=True)
    ap.add_argument("--as", dest="asn", type=int, default=64512)
    ap.add_argument("--hold", type=int, default=90)
    ap.add_argument("--rate", type=float, default=0, help="octets/s read limit (0 = none)")
    ap.add_argument("--rcvbuf", type=int, default=0, help="SO_RCVBUF (0 = kernel default)")
    ap.add_argument("--verify", type=int, help="expect exactly routes 0..N-1 of bagpipe-bgp-bench")
    ap.add_argument("--attr-sets", type=int, default=1)
    ap.add_argument("--rts", type=int, default=1)
    ap.add_argument("--label", type=int, default=16)
    ap.add_argument("--next-hop", default="192.0.2.1")
    ap.add_argument("--rd", default="64512:1", help="type 0 RD ADMIN:N (2-octet admin)")
    ap.add_argument("--originator", help="expected ORIGINATOR_ID")
    ap.add_argument("--cluster", help="cluster id that CLUSTER_LIST must hold")
    ap.add_argument("--status", help="status JSON file")
    ap.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args()
    adm, num = a.rd.split(":")
    a.rd = struct.pack("!HHI", 0, int(adm), int(num))
    sys.exit(Peer(a).run())


if __name__ == "__main__":
    main()
