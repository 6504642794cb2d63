#!/usr/bin/env python3
"""Compute-node (VPN service) benchmarks of bagpipe-bgp (driver of bench/node/run.sh).

Everything runs on loopback 127.0.79.0/24, one address per process, REST API
and looking glass on port 18279 of each daemon's address, BGP on port 179.
Debian's python3 only (no pip). Every process is started here and stopped by
its PID (SIGTERM, then SIGKILL), also on SIGINT/SIGTERM of this script.

Sections (--only):

ingest   A node (.2) with N instances created beforehand by REST attaches
         (instance k imports and exports RT 64512:k, k = 1..N; E-VPN for
         evpn-mac, IP-VPN for vpnv4) and dummy drivers; bagpipe-bgp-bench
         injects R routes at full speed (route i carries RT 64512:((i % N)+1),
         so every route is imported by exactly one instance) from .10, with an
         idle RTC client .11 that imports nothing and never completes
         (--client-rtc none --expect 1), which keeps the tool and so the
         injector's session up after the injection until --linger seconds.
         t0 = the tool's "injector ... established" stderr line (the tool
         hands the first byte to the session right after printing it;
         injector.established_s in its report is the gap, a few us). Done =
         vpns/stats "imports" grew by R (counts one per route handed to an
         instance, which programs its dummy driver in the same call; the
         looking glass runs on the same event loop, so it never sees a half
         done batch), polled every --poll-ms. The exact end is the timestamp
         (us, system clock) of the dummy driver's last call, read from
         vpns/dataplane/drivers/<type>/calls once done. Then, while the
         routes are still held, every instance's
         internals.programmed_remote_endpoints is summed (must be R) and
         vpns/stats route_changes checked. Peak RSS = VmHWM of the node.
framing  A node (.3) and a raw Python BGP peer (.13): 40 E-VPN UPDATEs, the
         first sent one octet per TCP segment (TCP_NODELAY, a pause after
         each), the others cut at random points into 1..700-octet segments;
         every route must be programmed and the session stay up.
latency  bagpipe-bgp route reflector (.20) and nodes A (.21), B (.22); B has
         a port in instance "lat" (RT 64512:900). Each iteration attaches a
         new MAC (+IP) on A and polls B's dummy call log
         (calls?offset=<last seq seen>, --poll-sleep-us between polls) until
         the setup_dataplane_for_remote_endpoint of that MAC shows. Exact
         figure: the call's timestamp (B's clock) minus the time taken just
         before the POST (same system clock, us); A's vif_plugged timestamp
         splits it. Observed: when the poll saw it. Series: back to back (the
         next POST right after the previous was seen), with a --gap-ms pause
         before each POST, and bursts (A, B, A, A within a millisecond). Each
         series also runs, right after, on a second fabric (.25-.27) whose
         daemons have bench/node/nodelay_shim.c preloaded (TCP_NODELAY on
         every TCP socket): a diagnostic of Nagle's algorithm on the BGP
         sessions. Then the machine's floor: a TCP round trip between two
         Python processes, back to back and after the same pause.
attach   On A (its RR session up, B importing): --attach-count sequential
         attaches of new ports in a new E-VPN instance over one HTTP/1.1
         keep-alive connection, with a new connection per request
         (Connection: close), and pipelined on one connection;
         --attach-repeat series of each; A's CPU time (schedstat), the
         client's ceiling (GET /ping) right after, and the time until B
         programmed them all.
start    A node (.40) whose one peer (.41) is bagpipe-bgp-bench in --listen
         mode, already listening: exec -> the tool's "client1 ...
         established" line; then the node's VmRSS/VmHWM one second later
         (idle: one peer, no attachment). --start-runs times.
"""
import argparse
import datetime
import json
import os
import platform
import random
import re
import select
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BAGPIPE_BUILD_DIR", os.path.join(ROOT, "build"))
DAEMON = os.path.join(BUILD, "src/daemon/bagpipe-bgp")
BENCH = os.path.join(BUILD, "tools/bagpipe-bgp-bench")
NET = "127.0.79"
API_PORT = 18279
AS = 64512

PROCS = []  # every Popen we started, stopped by PID at the end


def log(msg):
    print(f"node-bench: {msg}", file=sys.stderr, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            m = re.search(rf"^{field}:\s+(\d+)", f.read(), re.M)
        return int(m.group(1)) if m else None
    except OSError:
        return None


def cpu_ns(pid):
    """CPU time of every thread of pid (ns, /proc/<pid>/task/*/schedstat)."""
    total = 0
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[0])
    except OSError:
        pass
    return total


def mib(kib):
    return None if kib is None else round(kib / 1024, 1)


def stop(p, timeout=5):
    if p is None or p.poll() is not None:
        return
    try:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    except ProcessLookupError:
        pass


def stop_all():
    for p in reversed(PROCS):
        stop(p)
    PROCS.clear()


def on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def pct(values, p):
    """Nearest-rank percentile."""
    v = sorted(values)
    if not v:
        return None
    k = max(0, min(len(v) - 1, int(round(p / 100 * len(v) + 0.5)) - 1))
    return v[k]


def parse_call_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def listening(addr, port):
    want = f"{socket.inet_aton(addr)[::-1].hex().upper()}:{port:04X}"
    with open("/proc/net/tcp") as f:
        return any(line.split()[1] == want and line.split()[3] == "0A" for line in f.readlines()[1:])


# ---------------------------------------------------------------------------
# HTTP: a minimal HTTP/1.1 client on a raw socket (one keep-alive connection
# per Api object, TCP_NODELAY, requests pre-encoded as one send). Python's
# http.client costs ~100-200 us per request on this machine (about 4.7 k
# attaches/s or 10 k GET /ping per second, client-bound); this one ~20 us.

def encode_request(method, path, body=None, close=False):
    head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\n"
    data = b""
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    if close:
        head += "Connection: close\r\n"
    return head.encode() + b"\r\n" + data


class Api:
    def __init__(self, host, port=API_PORT):
        self.host, self.port, self.sock, self.buf = host, port, None, b""

    def close(self):
        if self.sock:
            self.sock.close()
        self.sock, self.buf = None, b""

    def _connect(self):
        self.sock = socket.create_connection((self.host, self.port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _response(self):
        buf = self.buf
        while True:
            i = buf.find(b"\r\n\r\n")
            if i >= 0:
                break
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by the server")
            buf += chunk
        head = buf[:i].decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        length, close = None, False
        for h in head[1:]:
            k, _, v = h.partition(":")
            k = k.strip().lower()
            if k == "content-length":
                length = int(v)
            elif k == "connection" and "close" in v.lower():
                close = True
            elif k == "transfer-encoding":
                raise RuntimeError("chunked responses are not handled")
        body = buf[i + 4:]
        if length is None:  # until the server closes
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                body += chunk
            close, length = True, len(body)
        while len(body) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed mid-response")
            body += chunk
        self.buf = body[length:]
        return status, body[:length], close

    def send_raw(self, req, close=False):
        """One pre-encoded request on the keep-alive connection (a new one
        when the previous was closed); returns (status, body)."""
        for attempt in (0, 1):
            reused = self.sock is not None
            try:
                if self.sock is None:
                    self._connect()
                self.sock.sendall(req)
                status, body, closed = self._response()
                if close or closed:
                    self.close()
                return status, body
            except OSError:
                self.close()
                if attempt or not reused:  # retry only a stale keep-alive connection
                    raise
        raise RuntimeError("unreachable")

    def request(self, method, path, body=None, close=False):
        return self.send_raw(encode_request(method, path, body, close), close)

    def get(self, path):
        status, raw = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {raw[:200]!r}")
        return json.loads(raw)

    def post(self, path, body, close=False):
        status, raw = self.request("POST", path, body, close)
        if status != 200:
            raise RuntimeError(f"POST {path}: {status} {raw[:300]!r}")
        return raw

    def wait_up(self, timeout=10):
        end = time.monotonic() + timeout
        while True:
            try:
                self.get("/ping")
                return
            except (OSError, RuntimeError):
                if time.monotonic() > end:
                    raise RuntimeError(f"API of {self.host} not up after {timeout} s")
                time.sleep(0.01)

    def wait_peer(self, peer, timeout=20):
        end = time.monotonic() + timeout
        while self.get(f"/looking-glass/bgp/peers/{peer}/protocol/state") != "Established":
            if time.monotonic() > end:
                raise RuntimeError(f"{self.host}: peer {peer} not Established after {timeout} s")
            time.sleep(0.02)


# ---------------------------------------------------------------------------
# Processes.

def node_conf(path, addr, peers, rr=False, ipvpn_encaps=None):
    """peers: [(address, passive)]."""
    lines = ["[BGP]", f"local_address = {addr}", f"peers = {', '.join(p for p, _ in peers)}",
             f"my_as = {AS}", "connect_retry_min = 1", "hold_time = 90"]
    if rr:
        lines.append("route_reflector = True")
    for p, passive in peers:
        if passive:
            lines += [f"[BGP_PEER {p}]", "passive = True"]
    lines += ["[API]", f"host = {addr}", f"port = {API_PORT}",
              "[DATAPLANE_DRIVER_IPVPN]", "dataplane_driver = dummy"]
    if ipvpn_encaps:
        lines.append(f"encapsulations = {ipvpn_encaps}")
    lines += ["[DATAPLANE_DRIVER_EVPN]", "dataplane_driver = dummy", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


class Daemon:
    def __init__(self, run_dir, name, addr, peers, rr=False, ipvpn_encaps=None, env=None):
        self.name, self.addr, self.env = name, addr, env
        self.conf = os.path.join(run_dir, f"{name}.conf")
        self.log = os.path.join(run_dir, f"{name}.log")
        node_conf(self.conf, addr, peers, rr, ipvpn_encaps)
        self.proc = None
        self.api = Api(addr)

    def start(self, wait=True):
        err = open(self.log + ".stderr", "w")
        env = dict(os.environ, **self.env) if self.env else None
        self.proc = subprocess.Popen([DAEMON, "--config-file", self.conf, "--log-file", self.log],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env)
        err.close()
        PROCS.append(self.proc)
        if wait:
            self.api.wait_up()
        return self

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        self.api.close()
        stop(self.proc)
        if self.proc in PROCS:
            PROCS.remove(self.proc)

    def tail(self, n=10):
        try:
            with open(self.log) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


class Tool:
    """bagpipe-bgp-bench with its stderr read line by line (timestamps taken
    when a line arrives), then drained by a thread."""

    def __init__(self, args):
        self.argv = [BENCH] + [str(a) for a in args]
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        PROCS.append(self.proc)
        self.lines, self.buf, self.drainer = [], b"", None

    def wait_line(self, *words, timeout=60):
        """Blocks (select) until a stderr line holds every word; returns
        (monotonic, realtime, line) taken as the read returned."""
        fd = self.proc.stderr.fileno()
        end = time.monotonic() + timeout
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                text = line.decode(errors="replace")
                self.lines.append(text)
                if all(w in text for w in words):
                    return self.t_mono, self.t_real, text
            left = end - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"bench tool: no line with {words} in {timeout} s: {self.lines[-5:]}")
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, 65536)
            self.t_mono, self.t_real = time.monotonic(), time.time()
            if not chunk:
                raise RuntimeError(f"bench tool exited ({self.proc.wait()}): {self.lines[-5:]}")
            self.buf += chunk

    def drain(self):
        def run():
            for line in self.proc.stderr:
                self.lines.append(line.decode(errors="replace").rstrip("\n"))
        self.drainer = threading.Thread(target=run, daemon=True)
        self.drainer.start()

    def finish(self, timeout):
        """Waits for the tool to exit by itself; returns its JSON report (or None)."""
        try:
            if self.drainer is None:
                out, _ = self.proc.communicate(timeout=timeout)
            else:
                self.proc.wait(timeout)
                out = self.proc.stdout.read()
        except subprocess.TimeoutExpired:
            stop(self.proc)
            return None
        finally:
            if self.proc in PROCS:
                PROCS.remove(self.proc)
        try:
            return json.loads(out)
        except (ValueError, TypeError):
            return None

    def stop(self):
        stop(self.proc)
        if self.proc in PROCS:
            PROCS.remove(self.proc)


# ---------------------------------------------------------------------------
# Attach bodies.

def last_call(api, vpn_type, hint=0):
    """The dummy driver's latest call (JSON), paging its call log from seq `hint`."""
    x, last = hint, None
    while True:
        page = api.get(f"/looking-glass/vpns/dataplane/drivers/{vpn_type}/calls?offset={x}&limit=1000")
        if not page:
            break
        last, x = page[-1], page[-1]["seq"]
        if len(page) < 1000:
            break
    if last is None and hint > 0:
        return last_call(api, vpn_type, 0)
    return last


def attach_body(vpn_type, instance, rt, mac, ip, port):
    b = {"vpn_instance_id": instance, "vpn_type": vpn_type, "mac_address": mac,
         "ip_address": ip, "local_port": {"linuxif": port},
         "import_rt": [f"{AS}:{rt}"], "export_rt": [f"{AS}:{rt}"]}
    if vpn_type == "ipvpn":
        b["gateway_ip"] = ip.split("/")[0].rsplit(".", 1)[0] + ".254"
    return b


def ip_of(second, i):
    """A distinct host address per i in 10.<second>.0.0/16 and up, as a /8 port address."""
    n = i + 257
    return f"10.{second + (n >> 16)}.{(n >> 8) & 255}.{n & 255}/8"


def mac_of(prefix, i):
    """prefix (1..5 octets) followed by the low octets of i: 6 octets."""
    head = prefix.split(":")
    tail = [f"{(i >> (8 * k)) & 255:02x}" for k in reversed(range(6 - len(head)))]
    return ":".join(head + tail)


# ---------------------------------------------------------------------------
# 1. Ingest.

def run_ingest(a, run_dir, family, n_inst):
    vpn_type = "evpn" if family == "evpn-mac" else "ipvpn"
    node_addr, inj, idle = f"{NET}.2", f"{NET}.10", f"{NET}.11"
    # The bench tool's VPNv4 routes carry the MPLS-over-GRE encapsulation
    # community; the IP-VPN dummy driver supports DEFAULT and MPLS by default
    # and would ignore them (as the original does with its MPLS driver).
    node = Daemon(run_dir, f"ingest-{family}-{n_inst}", node_addr, [(inj, True), (idle, True)],
                  ipvpn_encaps="DEFAULT, MPLS, MPLS-over-GRE").start()
    res = {"family": family, "instances": n_inst, "routes": a.routes, "load_start": loadavg()}
    tool = None
    try:
        api = node.api
        reqs = [encode_request("POST", "/attach_localport", attach_body(
            vpn_type, f"ing{k}", k, mac_of("52:54:00", k),
            f"172.{16 + (k >> 16)}.{(k >> 8) & 255}.{k & 255}/16" if vpn_type == "evpn"
            else f"172.16.{k & 255}.1/24", f"tap{k}")) for k in range(1, n_inst + 1)]
        api.request("GET", "/ping")
        t = time.perf_counter()
        for req in reqs:
            status, body = api.send_raw(req)
            if status != 200:
                raise RuntimeError(f"attach: {status} {body[:300]!r}")
        res["attach_s"] = time.perf_counter() - t
        res["attach_per_s"] = n_inst / res["attach_s"]
        base = api.get("/looking-glass/vpns/stats")
        base_seq = (last_call(api, vpn_type) or {"seq": 0})["seq"]
        res["rss_before_mib"] = mib(status_kib(node.pid, "VmRSS"))
        res["hwm_before_mib"] = mib(status_kib(node.pid, "VmHWM"))

        tool = Tool(["--target", node_addr, "--port", 179, "--injector-address", inj,
                     "--client", idle, "--client-rtc", "none", "--expect", 1,
                     "--family", family, "--routes", a.routes, "--rts", n_inst,
                     "--timeout", a.linger, "--hold-time", 90])
        t0m, t0r, _ = tool.wait_line("injector", "established", timeout=60)
        tool.drain()
        polls, done_m, stats = [], None, None
        period = a.poll_ms / 1000
        next_poll = t0m
        while True:
            tp = time.perf_counter()
            stats = api.get("/looking-glass/vpns/stats")
            polls.append(time.perf_counter() - tp)
            now = time.monotonic()
            if stats["imports"] - base["imports"] >= a.routes:
                done_m = now
                break
            if tool.proc.poll() is not None or now - t0m > a.linger - 1:
                break
            next_poll += period
            time.sleep(max(0.0, next_poll - time.monotonic()))
        res["imports"] = stats["imports"] - base["imports"]
        res["route_changes"] = stats["route_changes"] - base["route_changes"]
        res["poll_ms_mean"] = 1000 * statistics.mean(polls)
        res["poll_ms_max"] = 1000 * max(polls)
        res["polls"] = len(polls)
        res["hwm_mib"] = mib(status_kib(node.pid, "VmHWM"))
        res["rss_mib"] = mib(status_kib(node.pid, "VmRSS"))
        if done_m is None:
            res["error"] = f"not complete: {res['imports']} of {a.routes} imported after {now - t0m:.1f} s"
            return res
        res["observed_s"] = done_m - t0m
        last = last_call(api, vpn_type, base_seq + a.routes - 1)
        res["last_call"] = {k: last[k] for k in ("seq", "method", "time")}
        res["driver_calls"] = last["seq"] - base_seq
        res["time_s"] = parse_call_time(last["time"]) - t0r
        res["routes_per_s"] = a.routes / res["time_s"]
        # Exactness, while the injector's session still holds the routes.
        t = time.perf_counter()
        programmed = 0
        for k in range(1, n_inst + 1):
            programmed += api.get(f"/looking-glass/vpns/instances/ing{k}/internals")["programmed_remote_endpoints"]
        res["verify_s"] = time.perf_counter() - t
        res["programmed_remote_endpoints"] = programmed
        res["tool_running_after_verify"] = tool.proc.poll() is None
        ok = programmed == a.routes and res["route_changes"] == a.routes and res["imports"] == a.routes
        if not res["tool_running_after_verify"]:
            ok = False
        res["exact"] = ok
        if not ok:
            res["error"] = (f"programmed {programmed}, route_changes {res['route_changes']}, imports "
                            f"{res['imports']} (want {a.routes}); tool still up: {res['tool_running_after_verify']}")
        report = tool.finish(a.linger + 30)
        tool = None
        if report:
            res["tool"] = {k: report.get(k) for k in ("injected", "update_messages", "update_bytes",
                                                       "inject_done_s", "encode_s")}
            res["tool"]["injector_established_s"] = report["injector"]["established_s"]
            res["tool"]["injector_downs"] = report["injector"]["downs"]
            res["tool"]["injector_bytes_out"] = report["injector"]["bytes_out"]
        res["load_end"] = loadavg()
        return res
    finally:
        if tool:
            tool.stop()
        node.stop()


# ---------------------------------------------------------------------------
# Framing: a raw BGP peer cutting UPDATEs into arbitrary TCP segments.

MARKER = b"\xff" * 16


def bgp_msg(t, body=b""):
    return MARKER + struct.pack("!HB", 19 + len(body), t) + body


def evpn_update(i, next_hop, rt):
    rd = struct.pack("!HHI", 0, AS, 7)
    mac = bytes([0x02, 0xaa, 0, (i >> 16) & 255, (i >> 8) & 255, i & 255])
    ip = socket.inet_aton(f"10.77.{(i >> 8) & 255}.{i & 255}")
    body = rd + bytes(10) + bytes(4) + bytes([48]) + mac + bytes([32]) + ip + struct.pack("!I", 100)[1:]
    nlri = bytes([2, len(body)]) + body
    mp = struct.pack("!HBB", 25, 70, 4) + socket.inet_aton(next_hop) + b"\x00" + nlri
    ext = struct.pack("!BBHI", 0x00, 0x02, AS, rt) + bytes([0x03, 0x0c, 0, 0, 0, 0, 0, 8])
    attrs = (bytes([0x40, 1, 1, 0]) + bytes([0x40, 2, 0]) + bytes([0x40, 5, 4]) + struct.pack("!I", 100)
             + bytes([0xc0, 16, len(ext)]) + ext + bytes([0x90, 14]) + struct.pack("!H", len(mp)) + mp)
    return bgp_msg(2, struct.pack("!H", 0) + struct.pack("!H", len(attrs)) + attrs)


def read_msgs(sock, buf):
    """Returns (messages, rest) from buf + what is readable now."""
    try:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("peer closed")
        buf += chunk
    except BlockingIOError:
        pass
    msgs = []
    while len(buf) >= 19:
        n = struct.unpack("!H", buf[16:18])[0]
        if len(buf) < n:
            break
        msgs.append(buf[:n])
        buf = buf[n:]
    return msgs, buf


def run_framing(a, run_dir):
    node_addr, peer_addr, count = f"{NET}.3", f"{NET}.13", 40
    node = Daemon(run_dir, "framing", node_addr, [(peer_addr, True)]).start()
    res = {"updates": count, "load_start": loadavg()}
    sock = None
    try:
        node.api.post("/attach_localport", attach_body("evpn", "frame", 77, "52:54:00:77:00:01",
                                                        "172.30.0.1/24", "tap-frame"))
        sock = socket.socket()
        sock.bind((peer_addr, 0))
        sock.settimeout(10)
        sock.connect((node_addr, 179))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        caps = bytes([1, 4]) + struct.pack("!HBB", 25, 0, 70) + bytes([65, 4]) + struct.pack("!I", AS)
        params = bytes([2, len(caps)]) + caps
        sock.sendall(bgp_msg(1, struct.pack("!BHH4sB", 4, AS, 90, socket.inet_aton(peer_addr), len(params)) + params))
        sock.setblocking(False)
        buf, got_open, got_ka, end = b"", False, False, time.monotonic() + 10
        while not (got_open and got_ka):
            select.select([sock], [], [], 0.5)
            msgs, buf = read_msgs(sock, buf)
            for m in msgs:
                if m[18] == 1:
                    got_open = True
                    sock.sendall(bgp_msg(4))
                elif m[18] == 4:
                    got_ka = got_open
                elif m[18] == 3:
                    raise RuntimeError(f"NOTIFICATION from the node: {m.hex()}")
            if time.monotonic() > end:
                raise RuntimeError("framing peer: no session")
        base = node.api.get("/looking-glass/vpns/stats")["imports"]
        stream = b"".join(evpn_update(i, peer_addr, 77) for i in range(count))
        first = len(evpn_update(0, peer_addr, 77))
        rng = random.Random(79)
        cuts, pos = [], 0
        while pos < len(stream):
            n = 1 if pos < first else rng.randint(1, 700)
            cuts.append(stream[pos:pos + n])
            pos += n
        t = time.perf_counter()
        for piece in cuts:
            sock.setblocking(True)
            sock.sendall(piece)
            time.sleep(0.001 if len(piece) == 1 else 0.0002)
            sock.setblocking(False)
            _, buf = read_msgs(sock, buf)  # discard the node's UPDATEs
        res["segments"] = len(cuts)
        res["one_octet_segments"] = sum(1 for c in cuts if len(c) == 1)
        res["octets"] = len(stream)
        res["send_s"] = time.perf_counter() - t
        end = time.monotonic() + 5
        while node.api.get("/looking-glass/vpns/stats")["imports"] - base < count and time.monotonic() < end:
            time.sleep(0.01)
        dp = node.api.get("/looking-glass/vpns/instances/frame/dataplane")
        macs = {r["mac"] for r in dp["remote_endpoints"]}
        want = {":".join(f"{b:02x}" for b in [2, 0xaa, 0, (i >> 16) & 255, (i >> 8) & 255, i & 255])
                for i in range(count)}
        state = node.api.get(f"/looking-glass/bgp/peers/{peer_addr}/protocol/state")
        res["programmed"] = len(macs & want)
        res["session_state"] = state
        res["ok"] = macs >= want and state == "Established"
        return res
    finally:
        if sock:
            sock.close()
        node.stop()


# ---------------------------------------------------------------------------
# 2. Latency (A -> RR -> B) and 3. attach throughput.

class Fabric:
    def __init__(self, run_dir, base=20, env=None, tag=""):
        self.rr_addr, self.a_addr, self.b_addr = f"{NET}.{base}", f"{NET}.{base + 1}", f"{NET}.{base + 2}"
        self.rr = Daemon(run_dir, f"rr{tag}", self.rr_addr, [(self.a_addr, False), (self.b_addr, False)], rr=True, env=env)
        self.a = Daemon(run_dir, f"node-a{tag}", self.a_addr, [(self.rr_addr, False)], env=env)
        self.b = Daemon(run_dir, f"node-b{tag}", self.b_addr, [(self.rr_addr, False)], env=env)

    def start(self):
        self.rr.start()
        self.a.start()
        self.b.start()
        self.a.api.wait_peer(self.rr_addr)
        self.b.api.wait_peer(self.rr_addr)
        self.rr.api.wait_peer(self.a_addr)
        self.rr.api.wait_peer(self.b_addr)
        return self

    def stop(self):
        for d in (self.a, self.b, self.rr):
            d.stop()


class CallLog:
    """Tails a node's dummy E-VPN call log (calls?offset=<last seq seen>) and
    remembers when each MAC's setup_dataplane_for_remote_endpoint was seen
    (perf_counter) and made (the call's timestamp, system clock)."""

    def __init__(self, api, sleep=0.0):
        self.api = Api(api.host)
        self.seq = (last_call(self.api, "evpn") or {"seq": 0})["seq"]
        self.polls, self.poll_s, self.macs, self.sleep = 0, 0.0, {}, sleep

    def poll(self):
        t = time.perf_counter()
        calls = self.api.get(f"/looking-glass/vpns/dataplane/drivers/evpn/calls?offset={self.seq}&limit=1000")
        now = time.perf_counter()
        self.polls += 1
        self.poll_s += now - t
        for c in calls:
            self.seq = max(self.seq, c["seq"])
            mac = c["args"].get("mac") or c["args"].get("mac_address")
            self.macs.setdefault((c["method"], mac), (now, parse_call_time(c["time"])))

    def wait_mac(self, mac, timeout=5, method="setup_dataplane_for_remote_endpoint"):
        end = time.perf_counter() + timeout
        while (method, mac) not in self.macs:
            if time.perf_counter() > end:
                raise RuntimeError(f"{method} {mac} not seen on {self.api.host} after {timeout} s")
            if self.polls and self.sleep:
                time.sleep(self.sleep)
            self.poll()
        return self.macs[(method, mac)]


def lat_summary(v):
    ms = [x * 1000 for x in v]
    return {"n": len(ms), "p50_ms": pct(ms, 50), "p90_ms": pct(ms, 90), "p99_ms": pct(ms, 99),
            "max_ms": max(ms), "min_ms": min(ms), "mean_ms": statistics.mean(ms)}


class LatencyRig:
    """Instance "lat" (RT 64512:900) on A and B of a fabric, both call logs tailed."""

    def __init__(self, fab, poll_sleep=0.0):
        self.A, self.B = fab.a.api, fab.b.api
        self.B.post("/attach_localport", attach_body("evpn", "lat", 900, "52:54:00:bb:00:00", ip_of(89, 0), "tap-b0"))
        self.tail_b, self.tail_a = CallLog(self.B, poll_sleep), CallLog(self.A, poll_sleep)
        self.A.post("/attach_localport", attach_body("evpn", "lat", 900, mac_of("52:54:00:aa", 0), ip_of(90, 0), "tap-a0"))
        self.tail_b.wait_mac(mac_of("52:54:00:aa", 0), timeout=15)
        self.tail_a.wait_mac("52:54:00:bb:00:00", timeout=15)
        self.idx = 1

    def attach(self, who):
        """POST a new port on A or B; returns (mac, realtime before, perf_counter before, after)."""
        i = self.idx
        self.idx += 1
        mac = mac_of("52:54:00:aa" if who == "A" else "52:54:00:bb", i)
        req = encode_request("POST", "/attach_localport",
                             attach_body("evpn", "lat", 900, mac, ip_of(90 if who == "A" else 89, i), f"tap-{who}{i}"))
        t_real = time.time()
        t0 = time.perf_counter()
        status, raw = (self.A if who == "A" else self.B).send_raw(req)
        t1 = time.perf_counter()
        if status != 200:
            raise RuntimeError(f"attach on {who}: {status} {raw[:200]!r}")
        return mac, t_real, t0, t1


def run_latency_series(rig, count, gap):
    res = {"load_start": loadavg(), "gap_ms": gap * 1000}
    exact, observed, post, on_a, a_to_b = [], [], [], [], []
    rig.tail_b.polls, rig.tail_b.poll_s = 0, 0.0
    for _ in range(count):
        if gap:
            time.sleep(gap)
        mac, t_real, t0, t1 = rig.attach("A")
        seen, prog = rig.tail_b.wait_mac(mac)
        _, plugged = rig.tail_a.wait_mac(mac, method="vif_plugged")
        exact.append(prog - t_real)
        observed.append(seen - t0)
        post.append(t1 - t0)
        on_a.append(plugged - t_real)
        a_to_b.append(prog - plugged)
    res["exact"] = lat_summary(exact)
    res["observed"] = lat_summary(observed)
    res["post"] = lat_summary(post)
    res["post_to_vif_plugged_on_a"] = lat_summary(on_a)
    res["vif_plugged_on_a_to_programmed_on_b"] = lat_summary(a_to_b)
    res["polls_per_attach"] = rig.tail_b.polls / count
    res["poll_ms_mean"] = 1000 * rig.tail_b.poll_s / max(1, rig.tail_b.polls)
    res["load_end"] = loadavg()
    res["samples_exact_ms"] = [round(x * 1000, 3) for x in exact]
    return res


def run_bursts(rig, count):
    """A, B, A, A within about a millisecond, 100 ms apart; the latency of
    each of A's attaches to B. A second UPDATE sent on a BGP session while the
    first is not acknowledged yet waits for that ACK (Nagle's algorithm, the
    sockets have no TCP_NODELAY); the route reflector delays its ACK when it
    has just sent data on that session (here B's route), up to the 40 ms
    delayed-ACK timer."""
    res = {"load_start": loadavg(), "bursts": count, "pattern": "A, B, A, A"}
    lat = {"first": [], "second": [], "third": []}
    for _ in range(count):
        time.sleep(0.1)
        sent = [(who,) + rig.attach(who) for who in ("A", "B", "A", "A")]
        for (who, mac, t_real, _, _), key in zip([x for x in sent if x[0] == "A"], ("first", "second", "third")):
            _, prog = rig.tail_b.wait_mac(mac)
            lat[key].append(prog - t_real)
        rig.tail_a.wait_mac([x for x in sent if x[0] == "B"][0][1])
    for key, v in lat.items():
        res[key] = lat_summary(v)
    res["all"] = lat_summary(lat["first"] + lat["second"] + lat["third"])
    res["samples_ms"] = {k: [round(x * 1000, 3) for x in v] for k, v in lat.items()}
    res["load_end"] = loadavg()
    return res


def build_shim(run_dir):
    """Builds bench/node/nodelay_shim.c; returns the .so path or an error."""
    so = os.path.join(run_dir, "nodelay.so")
    src = os.path.join(ROOT, "bench/node/nodelay_shim.c")
    try:
        r = subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", so, src, "-ldl"], capture_output=True, text=True)
    except OSError as e:
        return None, str(e)
    return (so, None) if r.returncode == 0 else (None, r.stderr.strip()[:300])


def run_latency(a, fab, fab_nodelay=None):
    """Every series on the normal fabric and, right after it (same machine
    state), on the fabric whose daemons run with the TCP_NODELAY shim."""
    rigs = [("latency", LatencyRig(fab, a.poll_sleep_us / 1e6))]
    if fab_nodelay:
        rigs.append(("latency_nodelay", LatencyRig(fab_nodelay, a.poll_sleep_us / 1e6)))
    out = {name: {} for name, _ in rigs}
    for label, fn in (("back_to_back", lambda rig: run_latency_series(rig, a.latency_count, 0.0)),
                      (f"gap_{a.gap_ms}ms", lambda rig: run_latency_series(rig, a.gap_count, a.gap_ms / 1000)),
                      ("burst", lambda rig: run_bursts(rig, a.burst_count))):
        for name, rig in rigs:
            out[name][label] = fn(rig)
    return out


ECHO_SERVER = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1)
print("ready", flush=True)
c, _ = s.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
while True:
    d = c.recv(65536)
    if not d:
        break
    c.sendall(d)
"""


def run_wake(a):
    """The machine's floor: one 100-octet TCP round trip between two Python
    processes on loopback, back to back and after a --gap-ms pause (both
    sides asleep in the kernel, as the daemons are between attaches)."""
    addr, port = f"{NET}.50", 18300
    p = subprocess.Popen([sys.executable, "-c", ECHO_SERVER, addr, str(port)], stdout=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    PROCS.append(p)
    try:
        p.stdout.readline()
        c = socket.create_connection((addr, port), timeout=5)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        out = {"load_start": loadavg()}
        for label, count, gap in (("back_to_back", 200, 0.0), (f"gap_{a.gap_ms}ms", a.gap_count, a.gap_ms / 1000)):
            rtt = []
            for _ in range(count):
                if gap:
                    time.sleep(gap)
                t = time.perf_counter()
                c.sendall(b"x" * 100)
                got = 0
                while got < 100:
                    got += len(c.recv(65536))
                rtt.append(time.perf_counter() - t)
            out[label] = lat_summary(rtt)
        c.close()
        return out
    finally:
        stop(p)
        PROCS.remove(p)


def run_attach_series(a, fab, label, inst, rt, close=False, pipelined=False):
    """--attach-count new ports in a new E-VPN instance on A (B has a port
    in it, so every attach is a route to program on B), one request after
    the other's response (or, pipelined, all written at once on one
    connection and answered in order); then the client's ceiling: as many
    GET /ping on the same kind of connection."""
    A, B = fab.a.api, fab.b.api
    B.post("/attach_localport", attach_body("evpn", inst, rt, mac_of("52:54:00:bc", rt), ip_of(99, 0), f"tap-{inst}-b"))
    tail = CallLog(B)
    A.post("/attach_localport", attach_body("evpn", inst, rt, mac_of("52:54:00:ac", rt), ip_of(99, 1), f"tap-{inst}-a"))
    tail.wait_mac(mac_of("52:54:00:ac", rt), timeout=15)
    base_b = B.get("/looking-glass/vpns/stats")["imports"]
    base_a = A.get("/looking-glass/vpns/stats")
    res = {"load_start": loadavg(), "count": a.attach_count, "instance": inst,
           "connection": "new connection per request (Connection: close)" if close
           else "one keep-alive connection, pipelined (all requests written at once)" if pipelined
           else "one HTTP/1.1 keep-alive connection"}
    reqs = [encode_request("POST", "/attach_localport", attach_body(
        "evpn", inst, rt, mac_of(f"52:{(rt >> 8) & 255:02x}:{rt & 255:02x}", i), ip_of(100, i), f"tap-{inst}-{i}"), close)
        for i in range(a.attach_count)]
    api = Api(A.host)
    if not close:
        api.request("GET", "/ping")  # connect before the clock starts
    per, bad = [], 0
    cpu0 = cpu_ns(fab.a.pid)
    t_real = time.time()
    t0 = time.perf_counter()
    if pipelined:
        writer = threading.Thread(target=api.sock.sendall, args=(b"".join(reqs),), daemon=True)
        writer.start()
        for _ in reqs:
            status, body, _ = api._response()
            if status != 200 or body != b"null":
                bad += 1
        writer.join()
    else:
        for req in reqs:
            t = time.perf_counter()
            status, body = api.send_raw(req, close)
            per.append(time.perf_counter() - t)
            if status != 200 or body != b"null":
                bad += 1
    total = time.perf_counter() - t0
    res["node_cpu_s"] = (cpu_ns(fab.a.pid) - cpu0) / 1e9
    res["node_cpu_us_per_attach"] = res["node_cpu_s"] * 1e6 / a.attach_count
    res["total_s"] = total
    res["attaches_per_s"] = a.attach_count / total
    if per:
        res["request"] = lat_summary(per)
    res["refused"] = bad
    st = A.get("/looking-glass/vpns/stats")
    res["node_attaches"] = st["attaches"] - base_a["attaches"]
    res["node_errors"] = st["errors"] - base_a["errors"]
    # The client's own ceiling right after: the cheapest request.
    req = encode_request("GET", "/ping", close=close)
    t = time.perf_counter()
    for _ in range(a.attach_count):
        api.send_raw(req, close)
    res["ping_per_s"] = a.attach_count / (time.perf_counter() - t)
    api.close()
    # Propagation: until B has programmed every one.
    end = time.monotonic() + 30
    while B.get("/looking-glass/vpns/stats")["imports"] - base_b < a.attach_count and time.monotonic() < end:
        time.sleep(0.005)
    last = last_call(B, "evpn", tail.seq)
    res["b_imports"] = B.get("/looking-glass/vpns/stats")["imports"] - base_b
    res["b_all_programmed_s"] = parse_call_time(last["time"]) - t_real
    res["load_end"] = loadavg()
    return res


def run_attach(a, fab):
    kinds = (("keepalive", False, False), ("new_connection", True, False), ("pipelined", False, True))
    out = {k + "_runs": [] for k, _, _ in kinds}
    rt = 901
    for rep in range(a.attach_repeat):
        for label, close, pipelined in kinds:
            out[label + "_runs"].append(run_attach_series(a, fab, label, f"burst{rt}", rt, close, pipelined))
            rt += 1
    for label, _, _ in kinds:
        runs = sorted(out[label + "_runs"], key=lambda x: x["attaches_per_s"])
        out[label] = dict(runs[len(runs) // 2], attaches_per_s_runs=[x["attaches_per_s"] for x in runs],
                          ok=all(x["refused"] == 0 and x["b_imports"] == a.attach_count for x in runs))
    out["a_rss_mib"] = mib(status_kib(fab.a.pid, "VmRSS"))
    out["a_hwm_mib"] = mib(status_kib(fab.a.pid, "VmHWM"))
    return out


def run_start(a, run_dir):
    node_addr, peer = f"{NET}.40", f"{NET}.41"
    runs = []
    for r in range(a.start_runs):
        tool = Tool(["--listen", "--no-inject", "--target", node_addr, "--port", 179, "--client", peer,
                     "--expect", 1, "--routes", 1, "--timeout", 30, "--hold-time", 90])
        node = Daemon(run_dir, f"start{r}", node_addr, [(peer, False)])
        try:
            end = time.monotonic() + 10
            while not listening(peer, 179):
                if time.monotonic() > end or tool.proc.poll() is not None:
                    raise RuntimeError(f"bench tool not listening on {peer}:179")
                time.sleep(0.005)
            load = loadavg()
            t_exec = time.monotonic()
            node.start(wait=False)
            t_est, _, _ = tool.wait_line("client1", "established", timeout=20)
            tool.drain()
            time.sleep(1.0)
            state = node.api.get(f"/looking-glass/bgp/peers/{peer}/protocol/state")
            runs.append({"established_ms": (t_est - t_exec) * 1000, "node_state": state,
                         "rss_mib": mib(status_kib(node.pid, "VmRSS")),
                         "hwm_mib": mib(status_kib(node.pid, "VmHWM")), "load": load})
        finally:
            node.stop()
            tool.stop()
    est = [r["established_ms"] for r in runs]
    return {"runs": runs, "established_ms_median": statistics.median(est),
            "established_ms_min": min(est), "established_ms_max": max(est),
            "rss_mib_median": statistics.median(r["rss_mib"] for r in runs),
            "hwm_mib_max": max(r["hwm_mib"] for r in runs)}


# ---------------------------------------------------------------------------
# Report.

def fmt_n(x):
    if x is None:
        return "—"
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:.0f} k" if x >= 1e4 else f"{x / 1e3:.1f} k"
    return f"{x:.0f}"


def yes(b):
    return "yes" if b else "**no**"


def report_md(r):
    L = []
    m = r["meta"]
    L.append(f"Run {m['date']} on {m['host']} ({m['cpus']} CPUs, {m['cpu']}), load average "
             f"{m['load_start']} at start, {m.get('load_end', '?')} at the end; bagpipe-bgp git "
             f"{m['git']} ({m['build_type']} build in {m['build_dir']}); total {m.get('total_s', 0):.0f} s.")
    L.append("")
    L.append("| Benchmark | Figure | Goal | Original bagpipe-bgp | Met |")
    L.append("|---|---|---|---|---|")
    cells = {}
    for x in r.get("ingest", []):
        cells.setdefault((x["family"], x["instances"]), []).append(x)
    for (fam, n), xs in cells.items():
        name = f"Ingest {fmt_n(xs[0]['routes'])} {'E-VPN type 2' if fam == 'evpn-mac' else 'VPNv4'}, {n:,} instances"
        good = [x for x in xs if "time_s" in x and x.get("exact")]
        if len(good) == len(xs):
            rates = sorted(x["routes_per_s"] for x in good)
            med = statistics.median(rates)
            t_med = statistics.median(x["time_s"] for x in good)
            runs = f" ({len(good)} runs: {fmt_n(rates[0])}–{fmt_n(rates[-1])})" if len(good) > 1 else ""
            fig = (f"**{fmt_n(med)} routes/s** ({t_med:.3f} s){runs}, peak RSS {max(x['hwm_mib'] for x in good)} MiB")
            met = med >= 140e3
        else:
            fig, met = "failed: " + "; ".join(str(x.get("error")) for x in xs if x not in good), False
        L.append(f"| {name} | {fig} | ≥ 140 k routes/s | ~1,400 routes/s, 444 MiB | {yes(met)} |")
    f = r.get("framing")
    if f:
        L.append(f"| Framing: {f['updates']} UPDATEs in {f['segments']} TCP segments ({f['one_octet_segments']} of 1 octet) | "
                 f"{'all programmed, session up' if f['ok'] else 'FAILED: ' + str(f)} | any segmentation | loses framing | {yes(f['ok'])} |")
    variants = [(key, suffix) for key, suffix in (("latency", ""), ("latency_nodelay", " — diagnostic: TCP_NODELAY forced by LD_PRELOAD"))
                if r.get(key) and "skipped" not in r[key]]
    labels = []
    for key, _ in variants:
        labels += [k for k in r[key] if k not in labels]
    for label in labels:
        for key, suffix in variants:
            v = r[key].get(label)
            if not v:
                continue
            if "exact" in v:
                e = v["exact"]
                L.append(f"| Attach on A → programmed on B via RR, {label.replace('_', ' ')} (n = {e['n']}){suffix}, p50 / p90 / p99 / max | "
                         f"**{e['p50_ms']:.2f} / {e['p90_ms']:.2f} / {e['p99_ms']:.2f} / {e['max_ms']:.2f} ms** "
                         f"(poll-observed p50 {v['observed']['p50_ms']:.2f}, p99 {v['observed']['p99_ms']:.2f}) | "
                         f"p99 ≤ 2 ms | p50 ~16 ms | {yes(e['p99_ms'] <= 2)} |")
            elif "pattern" in v:
                L.append(f"| Bursts ({v['pattern']} within ~1 ms, n = {v['bursts']}){suffix}: A's 1st / 2nd / 3rd attach, p50 (max) | "
                         f"{v['first']['p50_ms']:.2f} ({v['first']['max_ms']:.1f}) / {v['second']['p50_ms']:.2f} ({v['second']['max_ms']:.1f}) / "
                         f"**{v['third']['p50_ms']:.2f} ({v['third']['max_ms']:.1f}) ms**; all {3 * v['bursts']}: p99 {v['all']['p99_ms']:.2f} ms | "
                         f"p99 ≤ 2 ms | | {yes(v['all']['p99_ms'] <= 2)} |")
    w = r.get("wake")
    if w:
        g = [k for k in w if k.startswith("gap_")][0]
        L.append(f"| Machine floor: 100-octet TCP round trip between two Python processes, back to back / after {g[4:]} idle, p50 (p99) | "
                 f"{w['back_to_back']['p50_ms']:.3f} ({w['back_to_back']['p99_ms']:.3f}) / {w[g]['p50_ms']:.3f} ({w[g]['p99_ms']:.3f}) ms | | | |")
    at = r.get("attach")
    if at:
        for k in ("keepalive", "new_connection", "pipelined"):
            v = at.get(k)
            if not v:
                continue
            rates = v.get("attaches_per_s_runs", [v["attaches_per_s"]])
            runs = f" ({len(rates)} series: {rates[0]:,.0f}–{rates[-1]:,.0f})" if len(rates) > 1 else ""
            req = (f"request p50 {v['request']['p50_ms']:.3f} ms, p99 {v['request']['p99_ms']:.3f} ms; "
                   if "request" in v else "")
            L.append(f"| {v['count']:,} sequential attaches, {v['connection']} | **{v['attaches_per_s']:,.0f} attaches/s**{runs} "
                     f"(median series: {req}node CPU {v['node_cpu_us_per_attach']:.0f} µs/attach; "
                     f"client ceiling, GET /ping: {v['ping_per_s']:,.0f}/s; all on B {v['b_all_programmed_s'] * 1000:.0f} ms after the first POST) "
                     f"| ≥ 10 k/s | 310/s | {yes(v['attaches_per_s'] >= 10e3 and v.get('ok', True))} |")
    for (fam, n), xs in cells.items():
        x = xs[0]
        if "attach_per_s" in x and x["instances"] >= 1000:
            L.append(f"| {x['instances']:,} attaches each creating an instance ({'E-VPN' if x['family'] == 'evpn-mac' else 'IP-VPN'}, keep-alive, no peer up) | "
                     f"{x['attach_per_s']:,.0f} attaches/s | | | |")
    s = r.get("start")
    if s:
        L.append(f"| Idle RSS, one peer (Established), no attachment | **{s['rss_mib_median']} MiB** (VmHWM ≤ {s['hwm_mib_max']} MiB) | ≤ 10 MiB | 136 MiB | {yes(s['rss_mib_median'] <= 10)} |")
        L.append(f"| Start → Established, peer already listening ({len(s['runs'])} runs) | **{s['established_ms_median']:.1f} ms** median "
                 f"({s['established_ms_min']:.1f}–{s['established_ms_max']:.1f}) | ≤ 100 ms | 3.5 s | {yes(s['established_ms_median'] <= 100)} |")
    L.append("")
    rows = []
    for label in labels:
        for key, suffix in variants:
            v = r[key].get(label)
            if v and "exact" in v:
                rows.append(f"| {label.replace('_', ' ')}{' (TCP_NODELAY shim)' if suffix else ''} | {v['exact']['p50_ms']:.3f} / {v['exact']['p99_ms']:.3f} | "
                            f"{v['post']['p50_ms']:.3f} / {v['post']['p99_ms']:.3f} | "
                            f"{v['post_to_vif_plugged_on_a']['p50_ms']:.3f} / {v['post_to_vif_plugged_on_a']['p99_ms']:.3f} | "
                            f"{v['vif_plugged_on_a_to_programmed_on_b']['p50_ms']:.3f} / {v['vif_plugged_on_a_to_programmed_on_b']['p99_ms']:.3f} | "
                            f"{v['polls_per_attach']:.1f} × {v['poll_ms_mean']:.3f} ms | {v['load_start']} |")
    if rows:
        L.append("Latency breakdown, p50 / p99 in ms (exact = B's dummy-driver timestamp − the clock just before the POST; "
                 "A's own vif_plugged timestamp splits it in two):")
        L.append("")
        L.append("| Series | exact | POST round trip (client) | POST start → vif_plugged on A | vif_plugged on A → programmed on B (A → RR → B) | B polls per attach × poll time | load |")
        L.append("|---|---|---|---|---|---|---|")
        L += rows
        L.append("")
    if r.get("ingest"):
        L.append("Ingest details (time = first injected byte → the dummy driver's last call; observed = when the "
                 f"{r['args']['poll_ms']} ms poll of vpns/stats saw every route imported):")
        L.append("")
        L.append("| Family | Instances | run | time (s) | observed (s) | routes/s | tool done injecting (s) | UPDATEs / octets | "
                 "RSS before → peak (MiB) | poll (ms, mean / max) | exact count | load |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for x in r["ingest"]:
            t = x.get("tool") or {}
            L.append(f"| {x['family']} | {x['instances']:,} | {x.get('run', 1)} | {x.get('time_s', float('nan')):.3f} | {x.get('observed_s', float('nan')):.3f} | "
                     f"{fmt_n(x.get('routes_per_s'))} | {t.get('inject_done_s', '—')} | {t.get('update_messages', '—')} / {t.get('update_bytes', '—')} | "
                     f"{x['rss_before_mib']} → {x['hwm_mib']} | {x['poll_ms_mean']:.2f} / {x['poll_ms_max']:.2f} | "
                     f"{yes(x.get('exact'))} ({x.get('programmed_remote_endpoints')}) | {x['load_start']} |")
        L.append("")
    return "\n".join(L)


def cmake_cache(key):
    try:
        with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
            m = re.search(rf"^{key}:[A-Z]+=(.*)$", f.read(), re.M)
        return m.group(1) if m else None
    except OSError:
        return None


def git_desc():
    """The commit the build's source tree is at (a `git archive` export
    carries it in .commit), and whether src/ had uncommitted changes."""
    src = cmake_cache("CMAKE_HOME_DIRECTORY") or ROOT
    try:
        with open(os.path.join(src, ".commit")) as f:
            return f.read().strip() + f" (clean export in {src})"
    except OSError:
        pass
    try:
        h = subprocess.run(["git", "-C", src, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", src, "status", "--porcelain", "--untracked-files=no", "src"],
                               capture_output=True, text=True).stdout.strip()
        return (h or "?") + (" + uncommitted src changes" if dirty else "")
    except OSError:
        return "?"


def build_type():
    t = cmake_cache("CMAKE_BUILD_TYPE")
    return (t or "default") if t is not None else "?"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
        return m.group(1).strip() if m else platform.processor()
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="ingest,framing,latency,attach,start",
                    help="sections, comma-separated: ingest, framing, latency, attach, start")
    ap.add_argument("--routes", type=int, default=100000)
    ap.add_argument("--families", default="evpn-mac,vpnv4")
    ap.add_argument("--instances", default="100,1000")
    ap.add_argument("--repeat", type=int, default=3, help="ingest: runs per (family, instances) cell; the median is reported")
    ap.add_argument("--poll-ms", type=float, default=50, help="ingest: looking-glass poll period")
    ap.add_argument("--linger", type=float, default=7,
                    help="ingest: the tool's --timeout (s): how long the injector's session stays up")
    ap.add_argument("--latency-count", type=int, default=200)
    ap.add_argument("--gap-count", type=int, default=100)
    ap.add_argument("--gap-ms", type=int, default=50)
    ap.add_argument("--burst-count", type=int, default=20)
    ap.add_argument("--poll-sleep-us", type=float, default=200,
                    help="latency: pause between two polls of the call logs (the exact figure is the driver timestamp; a spinning poller takes a whole CPU of 2)")
    ap.add_argument("--no-shim", action="store_true", help="latency: skip the TCP_NODELAY (LD_PRELOAD) diagnostic run")
    ap.add_argument("--attach-count", type=int, default=1000)
    ap.add_argument("--attach-repeat", type=int, default=3, help="attach: series of each kind; the median is reported")
    ap.add_argument("--start-runs", type=int, default=5)
    ap.add_argument("--results", default=os.path.join(ROOT, "bench/node/results"))
    ap.add_argument("--tag", default="", help="suffix of the result files")
    a = ap.parse_args()
    for b in (DAEMON, BENCH):
        if not os.access(b, os.X_OK):
            sys.exit(f"node-bench: {b} not built")
    signal.signal(signal.SIGTERM, on_signal)
    only = set(a.only.split(","))
    t_start = time.monotonic()
    # Paths relative to the repository: results carry no machine paths.
    rel = lambda path: os.path.relpath(path, ROOT) if isinstance(path, str) and os.path.isabs(path) else path
    r = {"args": {k: rel(v) for k, v in vars(a).items()}, "meta": {
        "date": datetime.datetime.now().isoformat(timespec="seconds"), "host": platform.node(),
        "cpus": os.cpu_count(), "cpu": cpu_model(), "kernel": platform.release(),
        "git": git_desc(), "build_type": build_type(), "build_dir": rel(BUILD),
        "daemon_mtime": datetime.datetime.fromtimestamp(os.path.getmtime(DAEMON)).isoformat(timespec="seconds"),
        "load_start": loadavg()}}
    run_dir = tempfile.mkdtemp(prefix="node-bench.")
    rc = 0
    try:
        if "ingest" in only:
            r["ingest"] = []
            for fam in a.families.split(","):
                for n in (int(x) for x in a.instances.split(",")):
                    for rep in range(a.repeat):
                        log(f"ingest {a.routes} {fam} into {n} instances (run {rep + 1} of {a.repeat})")
                        x = run_ingest(a, run_dir, fam, n)
                        x["run"] = rep + 1
                        log(f"  -> {json.dumps({k: x.get(k) for k in ('time_s', 'routes_per_s', 'hwm_mib', 'exact', 'error')})}")
                        r["ingest"].append(x)
        if "framing" in only:
            log("framing check")
            r["framing"] = run_framing(a, run_dir)
            log(f"  -> ok {r['framing']['ok']}")
        if "latency" in only or "attach" in only:
            log("fabric: RR + nodes A, B")
            fab = Fabric(run_dir).start()
            fab2 = None
            try:
                if "latency" in only:
                    if not a.no_shim:
                        so, err = build_shim(run_dir)
                        if so:
                            log("second fabric with TCP_NODELAY forced on every socket (LD_PRELOAD shim, diagnostic)")
                            fab2 = Fabric(run_dir, base=25, env={"LD_PRELOAD": so}, tag="-nodelay").start()
                        else:
                            r["latency_nodelay"] = {"skipped": f"cc failed: {err}"}
                    log(f"latency: {a.latency_count} attaches back to back, {a.gap_count} with {a.gap_ms} ms gaps, "
                        f"{a.burst_count} bursts")
                    lat = run_latency(a, fab, fab2)
                    r.update(lat)
                    for name, series in lat.items():
                        for k, v in series.items():
                            log(f"  -> {name} {k}: {json.dumps(v.get('exact') or v.get('all'))}")
                    if fab2:
                        fab2.stop()
                        fab2 = None
                    r["wake"] = run_wake(a)
                    log(f"  -> machine TCP round trip: {json.dumps(r['wake'])}")
                if "attach" in only:
                    log(f"attach: {a.attach_count} sequential attaches")
                    r["attach"] = run_attach(a, fab)
                    for k in ("keepalive", "new_connection", "pipelined"):
                        log(f"  -> {k}: {[round(x) for x in r['attach'][k]['attaches_per_s_runs']]}/s")
            finally:
                fab.stop()
                if fab2:
                    fab2.stop()
        if "start" in only:
            log(f"start -> Established, idle RSS ({a.start_runs} runs)")
            r["start"] = run_start(a, run_dir)
            log(f"  -> {r['start']['established_ms_median']:.1f} ms, {r['start']['rss_mib_median']} MiB")
    except BaseException as e:  # noqa: BLE001 - write what we have, then fail
        r["error"] = f"{type(e).__name__}: {e}"
        log(f"error: {r['error']}")
        rc = 1
    finally:
        stop_all()
    r["meta"]["load_end"] = loadavg()
    r["meta"]["total_s"] = time.monotonic() - t_start
    os.makedirs(a.results, exist_ok=True)
    stem = os.path.join(a.results, datetime.date.today().isoformat() + a.tag)
    md = report_md(r)
    with open(stem + ".json", "w") as f:
        json.dump(r, f, indent=1)
    with open(stem + ".md", "w") as f:
        f.write(md + "\n")
    print(md)
    log(f"results: {stem}.json, {stem}.md; run directory {run_dir}")
    if rc == 0:
        subprocess.run(["rm", "-rf", run_dir])
    return rc


if __name__ == "__main__":
    sys.exit(main())
