#!/usr/bin/python3
"""Netlink-timed dataplane measurements for bench/dataplane/latency.sh and burst.sh.

Run inside the *receiving* host's namespace (ip netns exec <h2> ...): it subscribes
to RTNLGRP_NEIGH and RTNLGRP_IPV4_ROUTE and timestamps, with CLOCK_MONOTONIC, every
FDB entry (AF_BRIDGE, NTF_SELF, with NDA_DST: the VXLAN "self" entry of a remote MAC)
and every IPv4 /32 route as it is announced by the kernel.  No polling.

  nlwatch.py latency --attach-netns /run/netns/<h1> --kind evpn|ipvpn --count N
                     [--gap-ms 5] [--timeout 5] [--rt 64512:77]
      Opens the netlink socket here (h2), then setns() into h1's namespace and talks
      to h1's REST API on 127.0.0.1:8082 (keep-alive).  Attaches are strictly
      sequential: attach i+1 is sent only once attach i's entry was seen on h2 (or
      after --timeout), plus --gap-ms, so no latency is queued behind another.
      Each attach is timestamped when the POST is sent and when its reply returned;
      latency = first netlink event for its MAC (E-VPN) / /32 (IP-VPN) - timestamp.
      Prints one JSON line.

  nlwatch.py burst --count N --bgp-pid PID --fdb-dev DEV -- TOOL ARGS...
      Starts TOOL (bagpipe-bgp-bench) here, timestamps its stderr lines, counts
      distinct MACs 02:00:* of new FDB "self" entries until N, checks the count with
      `bridge fdb show dev DEV`, samples the speaker's RSS and CPU, waits for TOOL and
      prints one JSON line.  t0 = the tool's t = 0 (first injected byte) on our clock,
      from its "injector ... established" line and its established_s.
"""
import argparse
import ctypes
import errno
import http.client
import json
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time

RTMGRP_NEIGH = 0x4
RTMGRP_IPV4_ROUTE = 0x40
RTM_NEWROUTE, RTM_NEWNEIGH = 24, 28
NLMSG_ERROR, NLMSG_DONE = 2, 3
AF_BRIDGE = 7
NTF_SELF = 0x02
NDA_DST, NDA_LLADDR = 1, 2
RTA_DST = 1
SO_RCVBUFFORCE = 33
CLONE_NEWNET = 0x40000000


def mono():
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def open_monitor():
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 256 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
    s.bind((0, RTMGRP_NEIGH | RTMGRP_IPV4_ROUTE))
    s.setblocking(False)
    return s


def parse(buf, out):
    """Appends ('fdb', mac_str) / ('route', ip_str) for the interesting messages."""
    off, n = 0, len(buf)
    while off + 16 <= n:
        ln, typ = struct.unpack_from("=IH", buf, off)
        if ln < 16:
            break
        if typ == RTM_NEWNEIGH and ln >= 28:
            fam, = struct.unpack_from("B", buf, off + 16)
            flags, = struct.unpack_from("B", buf, off + 26)
            if fam == AF_BRIDGE and flags & NTF_SELF:
                a, mac, dst = off + 28, None, False
                while a + 4 <= off + ln:
                    al, at = struct.unpack_from("=HH", buf, a)
                    if al < 4:
                        break
                    if at == NDA_LLADDR and al == 10:
                        mac = buf[a + 4:a + 10]
                    elif at == NDA_DST:
                        dst = True
                    a += (al + 3) & ~3
                if mac is not None and dst:
                    out.append(("fdb", mac))
        elif typ == RTM_NEWROUTE and ln >= 28:
            fam, dlen = struct.unpack_from("BB", buf, off + 16)
            if fam == socket.AF_INET and dlen == 32:
                a = off + 28
                while a + 4 <= off + ln:
                    al, at = struct.unpack_from("=HH", buf, a)
                    if al < 4:
                        break
                    if at == RTA_DST and al == 8:
                        out.append(("route", buf[a + 4:a + 8]))
                        break
                    a += (al + 3) & ~3
        off += (ln + 3) & ~3


class Monitor:
    def __init__(self):
        self.sock = open_monitor()
        self.overflows = 0

    def drain(self, timeout):
        """Waits up to `timeout` s for messages; returns [(t, kind, key)]."""
        ev = []
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return ev
        while True:
            try:
                buf = self.sock.recv(1 << 16)
            except BlockingIOError:
                return ev
            except OSError as e:
                if e.errno == errno.ENOBUFS:
                    self.overflows += 1
                    continue
                raise
            t = mono()
            out = []
            parse(buf, out)
            ev.extend((t, k, v) for k, v in out)


def pct(xs, p):
    if not xs:
        return None
    s = sorted(xs)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def stats_ms(xs):
    return {k: (round(v * 1000, 3) if v is not None else None) for k, v in
            (("p50", pct(xs, 50)), ("p90", pct(xs, 90)), ("p99", pct(xs, 99)),
             ("max", max(xs) if xs else None), ("min", min(xs) if xs else None),
             ("mean", sum(xs) / len(xs) if xs else None))}


class SeenThread(threading.Thread):
    """Blocks on the netlink socket; records the first arrival time of every key."""

    def __init__(self, mon, want):
        super().__init__(daemon=True)
        self.mon, self.want = mon, want
        self.first = {}
        self.cv = threading.Condition()

    def run(self):
        while True:
            ev = self.mon.drain(1.0)
            if not ev:
                continue
            with self.cv:
                for t, k, v in ev:
                    if k == self.want and v not in self.first:
                        self.first[v] = t
                self.cv.notify_all()

    def wait_for(self, key, deadline):
        with self.cv:
            while key not in self.first:
                left = deadline - mono()
                if left <= 0:
                    return None
                self.cv.wait(left)
            return self.first[key]


def cmd_latency(a):
    mon = Monitor()
    fd = os.open(a.attach_netns, os.O_RDONLY)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:  # before any thread: setns needs one thread
        sys.exit("setns: %s" % os.strerror(ctypes.get_errno()))
    os.close(fd)
    kind = a.kind
    seen = SeenThread(mon, "fdb" if kind == "evpn" else "route")
    seen.start()
    c = http.client.HTTPConnection("127.0.0.1", 8082, timeout=10)
    lat_ret, lat_send, rest, missed, before_reply = [], [], [], 0, 0
    for i in range(a.count):
        mac = "02:%02x:%02x:%02x:%02x:01" % (0x30 if kind == "evpn" else 0x31, i >> 16 & 255,
                                              i >> 8 & 255, i & 255)
        ip = "10.%d.%d.%d" % ((96 if kind == "evpn" else 112) + (i >> 16), i >> 8 & 255, i & 255)
        key = bytes(int(x, 16) for x in mac.split(":")) if kind == "evpn" else socket.inet_aton(ip)
        body = {"vpn_instance_id": "lat-" + kind, "vpn_type": kind, "mac_address": mac,
                "ip_address": ip + ("/16" if kind == "evpn" else "/32"),
                "gateway_ip": "10.96.0.1" if kind == "evpn" else "10.95.0.1",
                "local_port": {"linuxif": "tport"}, "import_rt": [a.rt], "export_rt": [a.rt]}
        data = json.dumps(body)
        t_send = mono()
        c.request("POST", "/attach_localport", data, {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        t_ret = mono()
        if r.status != 200:
            sys.exit("attach %d failed: HTTP %d" % (i, r.status))
        rest.append(t_ret - t_send)
        t_seen = seen.wait_for(key, t_ret + a.timeout)
        if t_seen is None:
            missed += 1
        else:
            before_reply += t_seen < t_ret
            lat_ret.append(t_seen - t_ret)
            lat_send.append(t_seen - t_send)
        if a.gap_ms > 0:
            time.sleep(a.gap_ms / 1000.0)
    out = {"phase": "latency-" + kind, "attaches": a.count, "seen": len(lat_ret), "missed": missed,
           "seen_before_reply": before_reply,
           "pacing": "sequential: attach i+1 sent once attach i was seen on h2 (timeout %gs), "
                     "then a %g ms gap" % (a.timeout, a.gap_ms),
           "clock": "CLOCK_MONOTONIC, one process (netlink socket in h2, REST socket in h1)",
           "what": "h2 FDB self entry (NDA_DST) of the MAC" if kind == "evpn"
                   else "h2 IPv4 /32 route (any table) of the IP",
           "latency_from_reply_ms": stats_ms(lat_ret), "latency_from_send_ms": stats_ms(lat_send),
           "rest_call_ms": stats_ms(rest), "netlink_overflows": mon.overflows}
    print(json.dumps(out))


def proc_sample(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read().rsplit(")", 1)[1].split()
        cpu = (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")
        rss = hwm = None
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
        return {"cpu_s": round(cpu, 2), "rss_kib": rss, "hwm_kib": hwm}
    except OSError:
        return None


def fdb_dump_count(dev):
    r = subprocess.run(["bridge", "fdb", "show", "dev", dev], capture_output=True, text=True)
    return sum(1 for l in r.stdout.splitlines() if l.startswith("02:00:") and " dst " in l)


def cmd_burst(a):
    mon = Monitor()
    before = proc_sample(a.bgp_pid)
    lines = []
    p = subprocess.Popen(a.tool, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def reader():
        for line in p.stderr:
            lines.append((mono(), line.rstrip("\n")))
    th = threading.Thread(target=reader, daemon=True)
    th.start()
    t_start = mono()
    macs = set()
    first = None
    marks = {}
    milestones = sorted({max(1, a.count * k // 10) for k in range(1, 11)})
    mi = 0
    done_t = None
    polled = False
    deadline = t_start + a.timeout
    while done_t is None and mono() < deadline:
        if mon.overflows and not polled:
            polled = True  # events were lost: from now on count by dumping every 50 ms
        if polled:
            n = fdb_dump_count(a.fdb_dev)
            t = mono()
            while mi < len(milestones) and n >= milestones[mi]:
                marks[milestones[mi]] = t
                mi += 1
            if n >= a.count:
                done_t = t
            time.sleep(0.05)
            mon.drain(0)
            continue
        for t, k, v in mon.drain(0.2):
            if k != "fdb" or v[0] != 0x02 or v[1] != 0x00 or v in macs:
                continue
            macs.add(v)
            if first is None:
                first = t
            while mi < len(milestones) and len(macs) >= milestones[mi]:
                marks[milestones[mi]] = t
                mi += 1
            if len(macs) >= a.count:
                done_t = t
                break
    after = proc_sample(a.bgp_pid)
    dumped = fdb_dump_count(a.fdb_dev)
    after_dump = proc_sample(a.bgp_pid)
    out_s, _ = p.communicate()
    th.join(5)
    try:
        tool = json.loads(out_s)
    except ValueError:
        tool = None
    t0 = None
    for t, line in lines:
        if "injector" in line and "established" in line and tool:
            t0 = t - tool["injector"]["established_s"]
            break
    rel = (lambda t: round(t - t0, 3) if (t is not None and t0 is not None) else None)
    res = {"phase": "burst-evpn", "routes": a.count,
           "programmed": len(macs) if not polled else dumped, "fdb_dump_count": dumped,
           "counted_by": "netlink RTNLGRP_NEIGH" if not polled else
                         "netlink, then bridge fdb show every 50 ms after %d overflows" % mon.overflows,
           "t0": "the tool's t = 0 (first injected byte handed to the session)",
           "first_fdb_s": rel(first), "all_fdb_s": rel(done_t),
           "milestones_s": {str(k): rel(v) for k, v in sorted(marks.items())},
           "tool_inject_done_s": tool.get("inject_done_s") if tool else None,
           "h2_before": before, "h2_at_complete": after, "h2_after_dump": after_dump}
    if done_t is not None and t0 is not None:
        res["fdb_per_s"] = round(a.count / (done_t - t0))
        if first is not None and done_t > first:
            res["fdb_per_s_first_to_last"] = round((a.count - 1) / (done_t - first))
    if before and after:
        res["h2_cpu_s_during"] = round(after["cpu_s"] - before["cpu_s"], 2)
    if tool is None:
        res["tool_stdout"] = out_s[-2000:]
        res["tool_stderr"] = [l for _, l in lines[-20:]]
    print(json.dumps(res))
    return 0 if done_t is not None else 1


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    l = sub.add_parser("latency")
    l.add_argument("--attach-netns", required=True)
    l.add_argument("--kind", choices=["evpn", "ipvpn"], required=True)
    l.add_argument("--count", type=int, default=1000)
    l.add_argument("--gap-ms", type=float, default=5)
    l.add_argument("--timeout", type=float, default=5)
    l.add_argument("--rt", default="64512:77")
    b = sub.add_parser("burst")
    b.add_argument("--count", type=int, required=True)
    b.add_argument("--bgp-pid", type=int, required=True)
    b.add_argument("--fdb-dev", required=True)
    b.add_argument("--timeout", type=float, default=120)
    b.add_argument("tool", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    if a.cmd == "latency":
        cmd_latency(a)
        return 0
    if a.tool and a.tool[0] == "--":
        a.tool = a.tool[1:]
    return cmd_burst(a)


if __name__ == "__main__":
    sys.exit(main())
