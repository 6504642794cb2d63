#!/usr/bin/env python3
"""Side-by-side route reflector benchmark (issue 6): bagpipe-bgp, BIRD 2,
OpenBGPD, FRR bgpd (no zebra) and GoBGP, one after the other, on loopback,
fed by bagpipe-bgp-bench (one injector, K counting clients).

Run through bench/rr/compare.sh (see --help and docs/route-reflector.md).

Per (RR, scenario) a fresh RR is started in its own temporary directory,
listening on 127.0.80.<n>:179 (NET env or --net), the tool is run with a time
limit, and while it runs the RR's whole process tree is sampled every 50 ms
from /proc (VmRSS summed over the tree, VmHWM and utime+stime per process).
Every process is stopped by PID (SIGTERM, then SIGKILL after 10 s; the RR's
children too).
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLK_TCK = os.sysconf("SC_CLK_TCK")
AS = 64512
NEXT_HOP = "192.0.2.1"  # BIRD and FRR refuse 127/8 next hops; used for every RR

# ------------------------------------------------------------------ /proc


def _children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    out += [int(x) for x in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return out


def proc_tree(root):
    seen = [root]
    i = 0
    while i < len(seen):
        for c in _children(seen[i]):
            if c not in seen:
                seen.append(c)
        i += 1
    return seen


def proc_info(pid):
    """(VmRSS KiB, VmHWM KiB, utime+stime s, comm) or None if gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            status = f.read()
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    rss = hwm = 0
    m = re.search(r"^VmRSS:\s+(\d+)", status, re.M)
    if m:
        rss = int(m.group(1))
    m = re.search(r"^VmHWM:\s+(\d+)", status, re.M)
    if m:
        hwm = int(m.group(1))
    comm = stat[stat.index("(") + 1:stat.rindex(")")]
    rest = stat[stat.rindex(")") + 2:].split()
    cpu = (int(rest[11]) + int(rest[12])) / CLK_TCK  # fields 14 and 15: utime, stime
    if rest[0] == "Z":
        return None
    return rss, hwm, cpu, comm


class TreeSampler:
    """Samples the RR's process tree every `period` s in a thread."""

    def __init__(self, root, period=0.05):
        self.root, self.period = root, period
        self.peak_rss = 0          # max over samples of the tree's summed VmRSS (KiB)
        self.hwm = {}              # pid -> max VmHWM seen (KiB)
        self.cpu = {}              # pid -> last utime+stime seen (s)
        self.comm = {}
        self.samples = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._t = threading.Thread(target=self._run, daemon=True)

    def sample(self):
        total = 0
        with self._lock:
            for pid in proc_tree(self.root):
                info = proc_info(pid)
                if info is None:
                    continue
                rss, hwm, cpu, comm = info
                total += rss
                self.hwm[pid] = max(self.hwm.get(pid, 0), hwm)
                self.cpu[pid] = cpu
                self.comm[pid] = comm
            self.peak_rss = max(self.peak_rss, total)
            self.samples += 1
        return total

    def cpu_total(self):
        with self._lock:
            return sum(self.cpu.values())

    def pids(self):
        with self._lock:
            return list(self.cpu.keys())

    def _run(self):
        while not self._stop.wait(self.period):
            self.sample()

    def start(self):
        self.sample()
        self._t.start()

    def stop(self):
        self._stop.set()
        self._t.join()
        self.sample()


def listening(addr, port=179):
    want = "".join(f"{int(o):02X}" for o in reversed(addr.split("."))) + f":{port:04X}"
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                p = line.split()
                if p[1] == want and p[3] == "0A":
                    return True
    except OSError:
        pass
    return False


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    info = proc_info(pid)
    return info is not None


# ------------------------------------------------------------------ route reflectors


class RR:
    name = label = ""
    families = {"vpnv4"}
    rtc = False
    binary = ""

    def __init__(self, addr, run_dir, clients, rtc):
        self.addr, self.dir, self.clients, self.use_rtc = addr, run_dir, clients, rtc
        self.proc = None

    def available(self):
        return shutil.which(self.binary) is not None or os.access(self.binary, os.X_OK)

    def version(self):
        return ""

    def write_config(self):
        raise NotImplementedError

    def argv(self):
        raise NotImplementedError

    def log_tail(self, n=15):
        out = []
        for fn in sorted(os.listdir(self.dir)):
            if fn.endswith((".log", ".out")):
                try:
                    with open(os.path.join(self.dir, fn), errors="replace") as f:
                        lines = f.readlines()[-n:]
                    out.append(f"--- {fn}\n" + "".join(lines))
                except OSError:
                    pass
        return "\n".join(out)[-3000:]

    def start(self):
        self.write_config()
        log = open(os.path.join(self.dir, "rr.out"), "w")
        self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir)
        log.close()
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start (status {self.proc.returncode})\n"
                                   + self.log_tail())
            if listening(self.addr):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"{self.name} does not listen on {self.addr}:179\n" + self.log_tail())
        time.sleep(1.0)  # GoBGP closes connections that arrive before its peers are configured
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited after start\n" + self.log_tail())
        return self.proc.pid

    def stop(self, extra_pids=()):
        """SIGTERM the RR, SIGKILL after 10 s; then its children (by PID) if still there."""
        if self.proc is None:
            return None
        kids = [p for p in proc_tree(self.proc.pid) if p != self.proc.pid] + list(extra_pids)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for k in set(kids):
            if k == self.proc.pid:
                continue
            for _ in range(20):
                if not alive(k):
                    break
                time.sleep(0.1)
            if alive(k):
                try:
                    os.kill(k, signal.SIGKILL)
                except OSError:
                    pass
        rc = self.proc.returncode
        self.proc = None
        return rc


class Bagpipe(RR):
    name, label = "bagpipe", "bagpipe-bgp (ours)"
    families = {"vpnv4", "evpn-mac"}
    rtc = True

    def __init__(self, *a, binary="bagpipe-bgp"):
        super().__init__(*a)
        self.binary = binary

    def version(self):
        try:
            h = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                               capture_output=True, text=True).stdout.strip()
            built = datetime.datetime.fromtimestamp(os.stat(self.binary).st_mtime).strftime("%Y-%m-%d %H:%M")
            return f"(git {h}, binary built {built})"
        except OSError:
            return ""

    def write_config(self):
        peers = self.clients
        lines = ["[BGP]", f"local_address = {self.addr}", "peers = " + ", ".join(peers),
                 f"my_as = {AS}", "route_reflector = True",
                 f"enable_rtc = {self.use_rtc}", "families = ipv4-vpn, l2vpn-evpn"]
        for p in peers:
            lines += [f"[BGP_PEER {p}]", "passive = True"]
        with open(os.path.join(self.dir, "bgp.conf"), "w") as f:
            f.write("\n".join(lines) + "\n")

    def argv(self):
        return [self.binary, "--config-file", os.path.join(self.dir, "bgp.conf"),
                "--log-file", os.path.join(self.dir, "bagpipe.log")]


class Bird(RR):
    name, label, binary = "bird", "BIRD", "bird"

    def version(self):
        r = subprocess.run(["bird", "--version"], capture_output=True, text=True)
        return (r.stdout + r.stderr).strip().replace("BIRD version ", "")

    def write_config(self):
        c = [f"router id {self.addr};", f'log "{self.dir}/bird.log" {{ info, warning, error, fatal }};',
             "vpn4 table vpntab;", "protocol device { }",
             'protocol static igproutes { ipv4; route 192.0.2.0/24 via "lo"; }',
             "template bgp rrclient {", f"  local {self.addr} as {AS};", "  strict bind yes;",
             "  passive yes;", "  multihop;", "  rr client;", f"  rr cluster id {self.addr};",
             "  vpn4 mpls { table vpntab; import all; export all; igp table master4; };", "}"]
        for i, p in enumerate(self.clients):
            c.append(f"protocol bgp p{i} from rrclient {{ neighbor {p} as {AS}; }}")
        with open(os.path.join(self.dir, "bird.conf"), "w") as f:
            f.write("\n".join(c) + "\n")

    def argv(self):
        return ["bird", "-f", "-c", f"{self.dir}/bird.conf", "-s", f"{self.dir}/bird.ctl",
                "-P", f"{self.dir}/bird.pid"]


class OpenBgpd(RR):
    name, label, binary = "openbgpd", "OpenBGPD", "/usr/sbin/bgpd"

    def version(self):
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "openbgpd"], capture_output=True, text=True)
        return r.stdout.strip()

    def write_config(self):
        c = [f"AS {AS}", f"router-id {self.addr}", f'socket "{self.dir}/bgpd.sock"',
             f"listen on {self.addr}", "fib-update no", "nexthop qualify via default",
             'group "clients" {', f"\tremote-as {AS}", f"\tlocal-address {self.addr}",
             f"\troute-reflector {self.addr}", "\tpassive", "\tannounce IPv4 none", "\tannounce IPv4 vpn"]
        c += [f"\tneighbor {p}" for p in self.clients]
        c += ["}", "allow from any", "allow to any"]
        with open(os.path.join(self.dir, "bgpd.conf"), "w") as f:
            f.write("\n".join(c) + "\n")

    def start(self):
        os.makedirs("/run/openbgpd", exist_ok=True)
        return super().start()

    def argv(self):
        return [self.binary, "-d", "-f", f"{self.dir}/bgpd.conf"]


class Frr(RR):
    name, label, binary = "frr", "FRR bgpd", "/usr/lib/frr/bgpd"
    families = {"vpnv4", "evpn-mac"}

    def version(self):
        r = subprocess.run([self.binary, "--version"], capture_output=True, text=True)
        return r.stdout.split("\n")[0].replace("bgpd version ", "")

    def write_config(self):
        c = ["frr defaults traditional", "hostname rr-frr", "log stdout informational", "!",
             f"router bgp {AS}", f" bgp router-id {self.addr}", f" bgp cluster-id {self.addr}",
             " no bgp default ipv4-unicast", " no bgp network import-check",
             " neighbor CLIENTS peer-group", f" neighbor CLIENTS remote-as {AS}",
             f" neighbor CLIENTS update-source {self.addr}", " neighbor CLIENTS passive"]
        c += [f" neighbor {p} peer-group CLIENTS" for p in self.clients]
        for af in ("ipv4 vpn", "l2vpn evpn"):
            c += [" !", f" address-family {af}", "  neighbor CLIENTS activate",
                  "  neighbor CLIENTS route-reflector-client", " exit-address-family"]
        c += ["exit", "!"]
        os.makedirs(f"{self.dir}/frr", exist_ok=True)
        with open(os.path.join(self.dir, "bgpd.conf"), "w") as f:
            f.write("\n".join(c) + "\n")

    def argv(self):
        return [self.binary, "-f", f"{self.dir}/bgpd.conf", "-l", self.addr, "-p", "179", "-Z", "-n",
                "-S", "-P", "0", "--vty_socket", f"{self.dir}/frr", "-i", f"{self.dir}/frr/bgpd.pid",
                "--log", "stdout"]


class GoBgp(RR):
    name, label, binary = "gobgp", "GoBGP", "gobgpd"
    families = {"vpnv4", "evpn-mac"}
    rtc = True
    api_port = 50180

    def version(self):
        r = subprocess.run(["gobgpd", "--version"], capture_output=True, text=True)
        return r.stdout.strip().replace("gobgpd version ", "")

    def write_config(self):
        afs = ["l3vpn-ipv4-unicast", "l2vpn-evpn"] + (["rtc"] if self.use_rtc else [])
        c = ["[global.config]", f"  as = {AS}", f'  router-id = "{self.addr}"', "  port = 179",
             f'  local-address-list = ["{self.addr}"]', "[[peer-groups]]", "  [peer-groups.config]",
             '    peer-group-name = "clients"', f"    peer-as = {AS}", "  [peer-groups.transport.config]",
             f'    local-address = "{self.addr}"', "    passive-mode = true",
             "  [peer-groups.route-reflector.config]", "    route-reflector-client = true",
             f'    route-reflector-cluster-id = "{self.addr}"']
        for af in afs:
            c += ["  [[peer-groups.afi-safis]]", "    [peer-groups.afi-safis.config]",
                  f'      afi-safi-name = "{af}"']
        for p in self.clients:
            c += ["[[neighbors]]", "  [neighbors.config]", f'    neighbor-address = "{p}"',
                  '    peer-group = "clients"']
        with open(os.path.join(self.dir, "rr.toml"), "w") as f:
            f.write("\n".join(c) + "\n")

    def argv(self):
        return ["gobgpd", "-f", f"{self.dir}/rr.toml", "--api-hosts", f"{self.addr}:{self.api_port}",
                "--pprof-disable", "-l", "info"]


RRS = {"bagpipe": (Bagpipe, 1), "bird": (Bird, 2), "openbgpd": (OpenBgpd, 3), "frr": (Frr, 4),
       "gobgp": (GoBgp, 5)}
RR_ORDER = ["bagpipe", "bird", "openbgpd", "frr", "gobgp"]

# ------------------------------------------------------------------ scenarios


def human(n):
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000} M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000} k"
    return str(n)


def scenarios(a):
    """name -> dict(title, family, routes, clients, args, metric, rtc, per_rr_routes)."""
    n, ev = a.routes, a.evpn_routes
    s = {
        "vpn2": dict(title=f"{human(n)} VPNv4, {a.attr_sets} attr sets, 2 clients", family="vpnv4",
                     routes=n, clients=2, args=[], metric="all_received_s", timeout=180),
        "vpn10": dict(title=f"{human(n)} VPNv4, {a.attr_sets} attr sets, 10 clients", family="vpnv4",
                      routes=n, clients=10, args=[], metric="all_received_s", timeout=300),
        "evpn": dict(title=f"{human(ev)} EVPN type 2, {a.attr_sets} attr sets, 2 clients",
                     family="evpn-mac", routes=ev, clients=2, args=[], metric="all_received_s", timeout=180,
                     per_rr_routes={"gobgp": a.gobgp_evpn_routes}),
        "rtc": dict(title=f"{human(a.rtc_routes)} VPNv4, {a.rtc_clients} RTC clients importing 1 % of 100 RTs each",
                    family="vpnv4", routes=a.rtc_routes, clients=a.rtc_clients,
                    args=["--rts", "100", "--client-rtc", "fraction:0.01"], metric="all_received_s", rtc=True,
                    timeout=180),
        # RTC fan-out cost against what the clients import (same table, same
        # clients, 10x and 100x more imported): ours only, it is about our
        # export path (GoBGP needs 50 s for the 1 % case already)
        "rtc10": dict(title=f"{human(a.rtc_routes)} VPNv4, {a.rtc_clients} RTC clients importing 10 % of 100 RTs each",
                      family="vpnv4", routes=a.rtc_routes, clients=a.rtc_clients,
                      args=["--rts", "100", "--client-rtc", "fraction:0.1"], metric="all_received_s", rtc=True,
                      timeout=180, only=["bagpipe"]),
        "rtc100": dict(title=f"{human(a.rtc_routes)} VPNv4, {a.rtc_clients} RTC clients importing all 100 RTs",
                       family="vpnv4", routes=a.rtc_routes, clients=a.rtc_clients,
                       args=["--rts", "100", "--client-rtc", "fraction:1.0"], metric="all_received_s", rtc=True,
                       timeout=180, only=["bagpipe"]),
        "withdraw": dict(title=f"withdraw all {human(n)} VPNv4 (2 clients)", family="vpnv4", routes=n,
                         clients=2, args=["--withdraw"], metric="withdraw_s", timeout=240,
                         # OpenBGPD 7.7 keeps withdrawn VPNv4 routes whoever sends them (GoBGP and
                         # ExaBGP too: tests/interop/openbgpd.sh): announce 1 M + 60 s is enough
                         per_rr_timeout={"openbgpd": 90},
                         per_rr_note={"openbgpd": "OpenBGPD 7.7 counts the VPNv4 withdrawals but keeps the routes "
                                                  "(same with GoBGP/ExaBGP as sender, tests/interop/openbgpd.sh)"}),
        "flap": dict(title=f"client 2 of 2 flaps with a full table of {human(n)} VPNv4", family="vpnv4",
                     routes=n, clients=2, args=["--flap-client", "2"], metric="flap", timeout=180),
    }
    return s


def supports(rr_cls, sc):
    if sc.get("only") and rr_cls.name not in sc["only"]:
        return "ours only (RTC proportionality)"
    if sc.get("rtc") and not rr_cls.rtc:
        return "no RTC"
    if sc["family"] not in rr_cls.families:
        return "no EVPN"
    return None


# ------------------------------------------------------------------ running


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def run_tool(bench, args, timeout, out_dir, tag, on_complete=None):
    """Runs bagpipe-bgp-bench; returns (json or None, exit status, stderr tail).
    on_complete() is called when the tool reports every client complete
    (its progress line "all N clients complete at ...")."""
    out_path = os.path.join(out_dir, f"{tag}.json")
    err_path = os.path.join(out_dir, f"{tag}.err")
    quiet = [] if on_complete else ["-q"]
    with open(out_path, "w") as out, open(err_path, "w") as err:
        p = subprocess.Popen([bench, "--timeout", str(timeout)] + quiet + args, stdout=out,
                             stderr=subprocess.PIPE if on_complete else err, stdin=subprocess.DEVNULL,
                             text=True if on_complete else None)
        reader = None
        if on_complete:
            def pump():
                seen = False
                for line in p.stderr:
                    if not seen and "clients complete at" in line:
                        seen = True
                        on_complete()
                    err.write(line)
            reader = threading.Thread(target=pump, daemon=True)
            reader.start()
        try:
            rc = p.wait(timeout + 30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            rc = "killed"
        except BaseException:
            p.kill()
            p.wait()
            raise
        if reader:
            reader.join(5)
    with open(err_path, errors="replace") as f:
        err_tail = f.read()[-1500:]
    try:
        with open(out_path) as f:
            r = json.load(f)
    except (OSError, ValueError):
        r = None
    return r, rc, err_tail


def verdict(r, rc, sc):
    """'ok' or an explicit failure text."""
    if r is None:
        return f"no report (tool exit {rc})"
    inj = r.get("injector") or {}
    clients = r.get("clients") or []
    if inj.get("established_s") is None and r.get("mode") == "connect":
        return "injector session not established"
    down = [c["address"] for c in clients if c.get("established_s") is None]
    if down:
        return f"{len(down)} client session(s) not established"
    if r.get("timed_out"):
        held = [c.get("held", 0) for c in clients]
        exp = r.get("expected_per_client")
        if isinstance(exp, list):
            exp = f"{min(exp)}-{max(exp)}" if exp else "?"
        if sc["metric"] == "withdraw_s" and r.get("all_received_s") is not None:
            return f"timeout during withdrawal (held {min(held)}-{max(held)})"
        if sc["metric"] == "flap" and r.get("all_received_s") is not None:
            return "timeout during flap re-convergence"
        return f"timeout (held {min(held) if held else 0}-{max(held) if held else 0} of {exp})"
    if not r.get("ok"):
        return "failed: " + str(r.get("error") or f"exit {rc}")
    bad = [c for c in clients if c.get("unwanted")]
    if bad:
        return f"{len(bad)} client(s) hold unwanted routes"
    return "ok"


def metric_of(r, sc):
    if r is None:
        return None
    if sc["metric"] == "flap":
        f = r.get("flap") or {}
        return f.get("reconverge_s")
    return r.get(sc["metric"])


def one_run(a, rr_name, sc_name, sc, rep, work):
    cls, host = RRS[rr_name]
    addr = f"{a.net}.{host}"
    n = sc.get("per_rr_routes", {}).get(rr_name, sc["routes"])
    clients = [f"{a.net}.{11 + j}" for j in range(sc["clients"])]
    injector = f"{a.net}.10"
    run_dir = tempfile.mkdtemp(prefix=f"{rr_name}-{sc_name}-", dir=work)
    if cls is Bagpipe:
        rr = cls(addr, run_dir, [injector] + clients, bool(sc.get("rtc")), binary=a.daemon)
    else:
        rr = cls(addr, run_dir, [injector] + clients, bool(sc.get("rtc")))
    res = dict(rr=rr_name, scenario=sc_name, rep=rep, routes=n, clients=sc["clients"], address=addr,
               load_before=loadavg())
    sampler = None
    try:
        try:
            pid = rr.start()
        except RuntimeError as e:
            res.update(status="RR did not start", detail=str(e))
            return res
        sampler = TreeSampler(pid, a.sample_period)
        sampler.start()
        cpu0 = sampler.cpu_total()
        rss0 = sampler.sample()
        args = ["--target", addr, "--injector-address", injector, "--clients", str(sc["clients"]),
                "--client-address-base", clients[0], "--family", f"{sc['family']}={n}",
                "--attr-sets", str(a.attr_sets), "--next-hop", NEXT_HOP] + sc["args"]
        t0 = time.time()
        limit = a.timeout or (60 if a.quick else sc.get("per_rr_timeout", {}).get(rr_name, sc.get("timeout", 300)))
        res["time_limit_s"] = limit
        loaded = {}

        def at_complete():  # every client holds its table: the RR's peak so far
            sampler.sample()
            loaded["peak"] = sampler.peak_rss
            loaded["hwm"] = sum(sampler.hwm.values())
            loaded["single"] = len(sampler.hwm) == 1

        r, rc, err = run_tool(a.bench, args, limit, run_dir, "bench", on_complete=at_complete)
        wall = time.time() - t0
        sampler.stop()
        res["rr_alive_after"] = rr.proc.poll() is None
        cpu = sampler.cpu_total() - cpu0
        tree_pids = sampler.pids()
        hwm_sum = sum(sampler.hwm.values())
        peak = sampler.peak_rss
        if len(tree_pids) == 1:
            peak = max(peak, hwm_sum)  # one process: VmHWM is exact
        if loaded:
            lp = max(loaded["peak"], loaded["hwm"]) if loaded["single"] else loaded["peak"]
            res["rr_peak_rss_loaded_kib"] = lp
        res.update(status=verdict(r, rc, sc), tool_exit=rc, wall_s=round(wall, 3),
                   metric=metric_of(r, sc), rr_cpu_s=round(cpu, 3), rr_peak_rss_kib=peak,
                   rr_rss_before_kib=rss0, rr_hwm_sum_kib=hwm_sum, rr_processes=len(tree_pids),
                   rr_process_names=sorted(set(sampler.comm.values())), samples=sampler.samples,
                   load_after=loadavg())
        if res["status"].startswith("timeout"):
            res["status"] += f" at the {limit} s limit"
            if rr_name in sc.get("per_rr_note", {}):
                res["status"] += ": " + sc["per_rr_note"][rr_name]
        if res["status"] == "ok" and not res["rr_alive_after"]:
            res["status"] = "RR exited during the run"
        if r is not None:
            keep = {k: r.get(k) for k in ("injected", "update_messages", "update_bytes", "inject_done_s",
                                          "first_received_s", "all_received_s", "routes_per_s",
                                          "inject_routes_per_s", "withdraw_s", "flap", "expected_per_client",
                                          "cpu_s", "peak_rss_kib", "timed_out", "error", "ok")}
            cl = r.get("clients") or []
            keep["client_updates"] = [c.get("updates") for c in cl]
            keep["client_held"] = [c.get("held") for c in cl]
            keep["client_unwanted"] = sum(c.get("unwanted", 0) or 0 for c in cl)
            keep["client_downs"] = sum(c.get("downs", 0) or 0 for c in cl)
            inj = r.get("injector") or {}
            keep["injector"] = {k: inj.get(k) for k in ("established_s", "bytes_out", "updates_out",
                                                         "downs", "reencoded", "resends")}
            res["tool"] = keep
        if res["status"] != "ok":
            res["detail"] = (err[-600:] + "\n" + rr.log_tail(8))[-2000:]
        return res
    finally:
        if sampler is not None and sampler._t.is_alive():
            sampler.stop()
        extra = sampler.pids() if sampler else []
        rc = rr.stop(extra)
        res["rr_exit"] = rc
        if not a.keep:
            shutil.rmtree(run_dir, ignore_errors=True)


def injector_limit(a, work):
    """The tool's self-test, and injector -> counter across two processes."""
    out = {}
    d = tempfile.mkdtemp(prefix="selftest-", dir=work)
    n = a.routes
    common = ["--routes", str(n), "--attr-sets", str(a.attr_sets), "--next-hop", NEXT_HOP]
    r, rc, _ = run_tool(a.bench, ["--self-test", "--injector-address", f"{a.net}.200",
                                  "--client-address-base", f"{a.net}.201"] + common, 120, d, "self")
    out["self_test"] = dict(routes=n, ok=bool(r and r.get("ok")),
                            all_received_s=r and r.get("all_received_s"),
                            inject_done_s=r and r.get("inject_done_s"), routes_per_s=r and r.get("routes_per_s"))
    # two processes: a passive counter on .203:179, an injector at .202 with no clients
    counter_out = open(os.path.join(d, "counter.json"), "w")
    cp = subprocess.Popen([a.bench, "-q", "--timeout", "120", "--no-inject", "--listen", "--target", f"{a.net}.202",
                           "--client-address-base", f"{a.net}.203"] + common,
                          stdout=counter_out, stderr=subprocess.DEVNULL)
    counter_out.close()
    for _ in range(100):
        if listening(f"{a.net}.203"):
            break
        time.sleep(0.05)
    ri, _, _ = run_tool(a.bench, ["--target", f"{a.net}.203", "--injector-address", f"{a.net}.202",
                                  "--clients", "0"] + common, 120, d, "inj")
    try:
        cp.wait(60)
    except subprocess.TimeoutExpired:
        cp.kill()
        cp.wait()
    try:
        with open(os.path.join(d, "counter.json")) as f:
            rc_ = json.load(f)
    except (OSError, ValueError):
        rc_ = None
    held = (rc_ or {}).get("clients", [{}])[0].get("complete_s") if rc_ else None
    out["two_process"] = dict(routes=n, ok=bool(ri and ri.get("ok") and rc_ and rc_.get("ok")),
                              inject_done_s=ri and ri.get("inject_done_s"), counter_complete_s=held,
                              routes_per_s=(n / ri["inject_done_s"]) if ri and ri.get("inject_done_s") else None)
    if not a.keep:
        shutil.rmtree(d, ignore_errors=True)
    return out


# ------------------------------------------------------------------ reporting


def fmt_s(x):
    if x is None:
        return "—"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def fmt_rate(x):
    if not x:
        return "—"
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:.0f} k"
    return f"{x:.0f}"


def cell(res):
    """Median of the repetitions that succeeded, else the first failure."""
    ok = [r for r in res if r["status"] == "ok" and r.get("metric") is not None]
    if not ok:
        return None, res[0] if res else None
    ok.sort(key=lambda r: r["metric"])
    return ok[len(ok) // 2], None


def summarize(results, scens, rr_names):
    """(scenario, rr) -> dict(time, rss_mib, cpu, rate, note, status, runs)."""
    table = {}
    for sn in scens:
        for rn in rr_names:
            rs = [r for r in results if r["rr"] == rn and r["scenario"] == sn]
            if not rs:
                continue
            med, fail = cell(rs)
            if rs[0]["status"].startswith("not run"):
                table[(sn, rn)] = dict(status=rs[0]["status"])
                continue
            if med is None:
                table[(sn, rn)] = dict(status=fail["status"], rss_mib=(fail.get("rr_peak_rss_kib") or 0) / 1024,
                                       cpu=fail.get("rr_cpu_s"), routes=fail["routes"])
                continue
            t = med["metric"]
            tool = med.get("tool") or {}
            rate = med["routes"] / t if t else None
            note = ""
            if sn == "flap":
                f = tool.get("flap") or {}
                note = f"re-established after {fmt_s(f.get('reestablished_s') and f['reestablished_s'] - f['start_s'])} s, full table {fmt_s(f.get('after_reestablished_s'))} s later"
                rate = med["routes"] / f["after_reestablished_s"] if f.get("after_reestablished_s") else None
            elif sn == "withdraw":
                note = f"announce {fmt_s(tool.get('all_received_s'))} s"
            times = sorted(r["metric"] for r in rs if r["status"] == "ok" and r.get("metric") is not None)
            lk = med.get("rr_peak_rss_loaded_kib")
            table[(sn, rn)] = dict(status="ok", time=t, rss_mib=med["rr_peak_rss_kib"] / 1024, cpu=med["rr_cpu_s"],
                                   rss_loaded_mib=(lk / 1024) if lk else None,
                                   rate=rate, note=note, routes=med["routes"], runs=times,
                                   procs=med.get("rr_processes"))
    return table


def ratios(table, rr_names, sn="vpn10"):
    ours = table.get((sn, "bagpipe"))
    if not ours or ours.get("status") != "ok":
        return None
    others = [(rn, table[(sn, rn)]) for rn in rr_names if rn != "bagpipe" and (sn, rn) in table
              and table[(sn, rn)].get("status") == "ok"]
    if not others:
        return None
    def rss(c):
        return c.get("rss_loaded_mib") or c["rss_mib"]
    bt = min(others, key=lambda x: x[1]["time"])
    br = min(others, key=lambda x: rss(x[1]))
    bw = min(others, key=lambda x: x[1]["rss_mib"])
    return dict(scenario=sn, best_time_rr=bt[0], best_time=bt[1]["time"], time_ratio=ours["time"] / bt[1]["time"],
                best_rss_rr=br[0], best_rss_mib=rss(br[1]), rss_ratio=rss(ours) / rss(br[1]),
                ours_time=ours["time"], ours_rss_mib=rss(ours),
                best_rss_whole_rr=bw[0], best_rss_whole_mib=bw[1]["rss_mib"], ours_rss_whole_mib=ours["rss_mib"],
                rss_whole_ratio=ours["rss_mib"] / bw[1]["rss_mib"])


def markdown(meta, scens, table, rr_names, rat, limit, chart_rel):
    L = []
    L.append(f"Run {meta['date']} on {meta['host']} ({meta['cpus']} CPUs), load average "
             f"{meta['load_start'][0]:.2f} at start, {meta['load_end'][0]:.2f} at the end; "
             f"up to {meta['repeat']} run(s) per cell (median; cells whose first run took ≥ {meta.get('repeat_below', 20):.0f} s "
             f"run once), time limit {meta['timeout']} per run.")
    L.append("")
    L.append("Versions: " + ", ".join(f"{RRS[r][0].label} {meta['versions'].get(r, '')}".strip()
                                      for r in rr_names) + ".")
    L.append("")
    L.append("```sh")
    L.append(meta["command"])
    L.append("```")
    L.append("")
    st, tp = limit.get("self_test", {}), limit.get("two_process", {})
    L.append(f"Injector limit (no RR, {human(st.get('routes') or 0)} VPNv4): `--self-test` "
             f"{fmt_s(st.get('all_received_s'))} s ({fmt_rate(st.get('routes_per_s'))} routes/s); "
             f"injector → counter in two processes: injected in {fmt_s(tp.get('inject_done_s'))} s, "
             f"counter complete at {fmt_s(tp.get('counter_complete_s'))} s "
             f"({fmt_rate(tp.get('routes_per_s'))} routes/s).")
    L.append("")
    L.append("Peak RSS, full table = the peak up to the moment every client holds its table (the tool's "
             "\"all clients complete\" line); whole run = also while the flap / withdrawal runs and while the "
             "tool closes its sessions (the injector going down with the whole table).")
    L.append("")
    L.append("Time = from the first injected byte to the last client holding every route "
             "(`all_received_s`); withdraw = `withdraw_s`; flap = the flapping client's "
             "`reconverge_s` (stop → full table again). Peak RSS = the RR's whole process tree "
             "(VmRSS summed, sampled every 50 ms; VmHWM for a single process). CPU = utime + stime "
             "of the RR's processes during the run. routes/s = routes / time (flap: routes / time "
             "from re-established to complete).")
    L.append("")
    L.append("| Scenario | RR | time (s) | peak RSS, full table (MiB) | peak RSS, whole run (MiB) | CPU (s) | routes/s | notes |")
    L.append("|---|---|---|---|---|---|---|---|")
    for sn in scens:
        for rn in rr_names:
            c = table.get((sn, rn))
            if c is None:
                continue
            lab = RRS[rn][0].label
            title = scens[sn]["title"]
            if c["status"] == "ok":
                best = ""
                others = [table[(sn, o)]["time"] for o in rr_names if (sn, o) in table
                          and table[(sn, o)].get("status") == "ok"]
                if others and c["time"] == min(others):
                    best = "**"
                note = c.get("note", "")
                if c["routes"] != scens[sn]["routes"]:
                    note = (f"{human(c['routes'])} routes only (super-linear); " + note).strip("; ")
                if len(c.get("runs", [])) > 1:
                    note = (note + "; runs " + ", ".join(fmt_s(x) for x in c["runs"])).strip("; ")
                rl = f"{c['rss_loaded_mib']:.0f}" if c.get("rss_loaded_mib") else "—"
                L.append(f"| {title} | {lab} | {best}{fmt_s(c['time'])}{best} | {rl} | {c['rss_mib']:.0f} | "
                         f"{fmt_s(c['cpu'])} | {fmt_rate(c['rate'])} | {note} |")
            else:
                extra = ""
                if c.get("routes") and c["routes"] != scens[sn]["routes"]:
                    extra = f" ({human(c['routes'])} routes)"
                rss = f"{c['rss_mib']:.0f}" if c.get("rss_mib") else "—"
                L.append(f"| {title} | {lab} | {c['status']}{extra} | — | {rss} | {fmt_s(c.get('cpu'))} | — | |")
    L.append("")
    if rat:
        L.append(f"Ours vs the best other RR, {scens[rat['scenario']]['title']}: time "
                 f"{fmt_s(rat['ours_time'])} s vs {fmt_s(rat['best_time'])} s ({RRS[rat['best_time_rr']][0].label}) = "
                 f"**{rat['time_ratio']:.2f}×**; peak RSS {rat['ours_rss_mib']:.0f} MiB vs "
                 f"{rat['best_rss_mib']:.0f} MiB ({RRS[rat['best_rss_rr']][0].label}) = **{rat['rss_ratio']:.2f}×** "
                 f"at full table (whole run, including the injector's session going down with the table: "
                 f"{rat['ours_rss_whole_mib']:.0f} vs {rat['best_rss_whole_mib']:.0f} MiB "
                 f"({RRS[rat['best_rss_whole_rr']][0].label}) = {rat['rss_whole_ratio']:.2f}×) "
                 f"(goals: ≤ 0.5× both).")
        L.append("")
    if chart_rel:
        L.append(f"![route reflectors side by side]({chart_rel})")
        L.append("")
    return "\n".join(L)


def chart(path, scens, table, rr_names, work):
    """PNG with gnuplot: time and peak RSS per scenario, one bar per RR, log scale."""
    gp = shutil.which("gnuplot")
    if not gp:
        log("gnuplot not found: no chart (apt-get install gnuplot-nox)")
        return False
    names = [s for s in scens if s != "flap"] + (["flap"] if "flap" in scens else [])
    dat = os.path.join(work, "chart.dat")
    with open(dat, "w") as f:
        f.write("# scenario " + " ".join(rr_names) + "\n")
        for sn in names:
            row = [sn]
            for rn in rr_names:
                c = table.get((sn, rn))
                row.append(f"{c['time']:.4f}" if c and c.get("status") == "ok" else "NaN")
            for rn in rr_names:
                c = table.get((sn, rn))
                row.append(f"{(c.get('rss_loaded_mib') or c['rss_mib']):.2f}" if c and c.get("status") == "ok" else "NaN")
            f.write(" ".join(row) + "\n")
    k = len(rr_names)
    labels = [RRS[r][0].label for r in rr_names]
    plot_t = ", ".join(f"'{dat}' using {2 + i}:xtic(1) title '{labels[i]}'" for i in range(k))
    plot_r = ", ".join(f"'{dat}' using {2 + k + i}:xtic(1) title '{labels[i]}'" for i in range(k))
    script = f"""
set terminal pngcairo size 1400,560 font 'sans,10'
set output '{path}'
set datafile missing 'NaN'
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set grid ytics
set key top left
set multiplot layout 1,2 title 'Route reflectors side by side (bagpipe-bgp-bench, loopback, 2 cores; missing bar = not supported / failed)'
set title 'time (s, log scale; lower is better)'
plot {plot_t}
set title 'peak RSS of the RR process tree with the full table (MiB, log scale)'
plot {plot_r}
unset multiplot
"""
    sp = os.path.join(work, "chart.gp")
    with open(sp, "w") as f:
        f.write(script)
    r = subprocess.run([gp, sp], capture_output=True, text=True)
    if r.returncode != 0:
        log("gnuplot failed: " + r.stderr[-800:])
        return False
    return True


def update_benchmarks(md_body):
    path = os.path.join(ROOT, "BENCHMARKS.md")
    with open(path) as f:
        text = f.read()
    head = "## Route reflector side by side"
    section = (f"{head}\n\nIssue 6: `bench/rr/compare.sh` (driver `bench/rr/compare.py`; deployment and profile "
               f"in `docs/route-reflector.md`).\n\n{md_body.rstrip()}\n")
    i = text.find(head + "\n")
    if i < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        j = text.find("\n## ", i + len(head))
        text = text[:i] + section + (text[j:] if j >= 0 else "")
    with open(path, "w") as f:
        f.write(text)


# ------------------------------------------------------------------ main


def rerender(a, ap):
    with open(a.from_json) as f:
        d = json.load(f)
    meta, limit, scens, results = d["meta"], d["injector_limit"], d["scenarios"], d["results"]
    rr_names = [r for r in RR_ORDER if any(x["rr"] == r for x in results)]
    out_md = a.out or os.path.splitext(a.from_json)[0] + ".md"
    q = meta.get("sizes", {}).get("routes", 0) < 1_000_000
    chart_path = a.chart or (os.path.join(ROOT, "docs/rr-compare.png") if not q
                             else os.path.splitext(out_md)[0] + ".png")
    work = tempfile.mkdtemp(prefix="rr-compare.")
    table = summarize(results, scens, rr_names)
    rat = ratios(table, rr_names)
    have_chart = chart(chart_path, scens, table, rr_names, work)
    body = markdown(meta, scens, table, rr_names, rat, limit,
                    os.path.relpath(chart_path, os.path.dirname(out_md)) if have_chart else None)
    with open(out_md, "w") as f:
        f.write("# Route reflectors side by side\n\n" + body)
    if a.update_benchmarks:
        update_benchmarks(markdown(meta, scens, table, rr_names, rat, limit,
                                   os.path.relpath(chart_path, ROOT) if have_chart else None))
    shutil.rmtree(work, ignore_errors=True)
    print(body)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100 k routes (RTC 20 k, GoBGP EVPN 5 k), 60 s limit")
    ap.add_argument("--routes", type=int, help="VPNv4 routes of vpn2/vpn10/withdraw/flap (default 1 M)")
    ap.add_argument("--evpn-routes", type=int, help="EVPN type-2 routes (default = --routes)")
    ap.add_argument("--gobgp-evpn-routes", type=int, help="EVPN routes for GoBGP (super-linear; default 20 k)")
    ap.add_argument("--rtc-routes", type=int, help="routes of the RTC scenario (default 100 k)")
    ap.add_argument("--rtc-clients", type=int, default=100, help="clients of the RTC scenario (default 100)")
    ap.add_argument("--attr-sets", type=int, default=1000)
    ap.add_argument("--rr", default=os.environ.get("RRS", ",".join(RR_ORDER)),
                    help="comma list of " + ",".join(RR_ORDER))
    ap.add_argument("--scenarios", default=os.environ.get("SCENARIOS", "vpn2,vpn10,evpn,rtc,rtc10,rtc100,withdraw,flap"))
    ap.add_argument("--repeat", type=int, default=int(os.environ.get("REPEAT", "1")),
                    help="runs per cell (median reported)")
    ap.add_argument("--timeout", type=int, help="time limit per run, s (default per scenario: 180-300 s; --quick 60)")
    ap.add_argument("--repeat-below", type=float, default=20.0,
                    help="repeat a cell only when its first run took less than this many seconds (default 20)")
    ap.add_argument("--net", default=os.environ.get("NET", "127.0.80"), help="loopback /24 (default 127.0.80)")
    ap.add_argument("--build", default=os.environ.get("BAGPIPE_BUILD_DIR", os.path.join(ROOT, "build")))
    ap.add_argument("--out", help="Markdown output (default bench/rr/results/<date>[-quick].md, JSON next to it)")
    ap.add_argument("--chart", help="PNG (default docs/rr-compare.png; --quick: next to the results)")
    ap.add_argument("--update-benchmarks", action="store_true",
                    help="insert/replace the table in BENCHMARKS.md, section '## Route reflector side by side'")
    ap.add_argument("--sample-period", type=float, default=0.05)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directories")
    ap.add_argument("--no-limit", action="store_true", help="skip the injector-limit measurement")
    ap.add_argument("--from-json", help="re-render the Markdown, chart and BENCHMARKS.md section from a saved JSON")
    a = ap.parse_args()
    q = a.quick
    a.routes = a.routes or (100_000 if q else 1_000_000)
    a.evpn_routes = a.evpn_routes or a.routes
    a.gobgp_evpn_routes = a.gobgp_evpn_routes or (5_000 if q else 20_000)
    a.rtc_routes = a.rtc_routes or (20_000 if q else 100_000)
    a.bench = os.path.join(a.build, "tools/bagpipe-bgp-bench")
    a.daemon = os.path.join(a.build, "src/daemon/bagpipe-bgp")
    rr_names = [r for r in a.rr.split(",") if r]
    for r in rr_names:
        if r not in RRS:
            ap.error(f"unknown RR {r}")
    all_sc = scenarios(a)
    sc_names = [s for s in a.scenarios.split(",") if s]
    for s in sc_names:
        if s not in all_sc:
            ap.error(f"unknown scenario {s} (one of {','.join(all_sc)})")
    scens = {s: all_sc[s] for s in sc_names}
    if os.geteuid() != 0:
        log("note: not root; binding port 179 needs root or CAP_NET_BIND_SERVICE")
    if not os.access(a.bench, os.X_OK):
        sys.exit(f"{a.bench} not built (ninja -C build bagpipe-bgp bagpipe-bgp-bench)")

    date = datetime.datetime.now().strftime("%Y-%m-%d")
    stamp = date + ("-quick" if q else "")
    res_dir = os.path.join(ROOT, "bench/rr/results")
    os.makedirs(res_dir, exist_ok=True)
    out_md = a.out or os.path.join(res_dir, stamp + ".md")
    out_json = os.path.splitext(out_md)[0] + ".json"
    chart_path = a.chart or (os.path.join(ROOT, "docs/rr-compare.png") if not q
                             else os.path.splitext(out_md)[0] + ".png")
    if a.from_json:
        return rerender(a, ap)
    work = tempfile.mkdtemp(prefix="rr-compare.")
    # Snapshot the two binaries: the build directory may be rebuilt while we run.
    bin_dir = os.path.join(work, "bin")
    os.makedirs(bin_dir)
    for attr in ("bench", "daemon"):
        src = getattr(a, attr)
        if os.access(src, os.X_OK):
            dst = os.path.join(bin_dir, os.path.basename(src))
            shutil.copy2(src, dst)
            setattr(a, attr, dst)

    def on_signal(sig, _):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    meta = dict(date=datetime.datetime.now().isoformat(timespec="seconds"), host=os.uname().nodename,
                cpus=os.cpu_count(), load_start=loadavg(), repeat=a.repeat, repeat_below=a.repeat_below,
                timeout=(f"{a.timeout} s" if a.timeout else ("60 s" if q else "180-300 s (per scenario)")),
                command="./bench/rr/compare.sh " + " ".join(sys.argv[1:]),
                sizes=dict(routes=a.routes, evpn_routes=a.evpn_routes, gobgp_evpn_routes=a.gobgp_evpn_routes,
                           rtc_routes=a.rtc_routes, rtc_clients=a.rtc_clients, attr_sets=a.attr_sets),
                versions={})
    results = []
    limit = {}
    try:
        for rn in rr_names:
            cls = RRS[rn][0]
            probe = cls("0", work, [], False, binary=a.daemon) if cls is Bagpipe else cls("0", work, [], False)
            meta["versions"][rn] = probe.version() if probe.available() else "not installed"
        if not a.no_limit:
            log("injector limit (no RR) ...")
            limit = injector_limit(a, work)
            log("  " + json.dumps(limit))
        for sn, sc in scens.items():
            for rn in rr_names:
                cls = RRS[rn][0]
                why = supports(cls, sc)
                probe = cls("0", work, [], False, binary=a.daemon) if cls is Bagpipe else cls("0", work, [], False)
                if why or not probe.available():
                    results.append(dict(rr=rn, scenario=sn, status=f"not run: {why or 'not installed'}",
                                        routes=sc["routes"]))
                    continue
                for rep in range(a.repeat):
                    log(f"{sn:9s} {rn:9s} run {rep + 1}/{a.repeat} (load {loadavg()[0]:.2f}) ...")
                    try:
                        r = one_run(a, rn, sn, sc, rep, work)
                    except (OSError, RuntimeError, ValueError) as e:
                        r = dict(rr=rn, scenario=sn, rep=rep, routes=sc["routes"], status=f"harness error: {e}")
                    results.append(r)
                    log(f"          -> {r['status']}: metric {r.get('metric')} s, peak RSS "
                        f"{(r.get('rr_peak_rss_kib') or 0) / 1024:.0f} MiB, CPU {r.get('rr_cpu_s')} s"
                        + ("" if r["status"] == "ok" else "\n" + (r.get("detail") or "")[-800:]))
                    if r["status"] != "ok" or (r.get("wall_s") or 0) >= a.repeat_below:
                        break  # do not repeat a failure or a slow run (its time limit / the budget)
    except KeyboardInterrupt:
        log("interrupted: writing what was measured")
        meta["interrupted"] = True
    finally:
        meta["load_end"] = loadavg()
        table = summarize(results, scens, rr_names)
        rat = ratios(table, rr_names)
        have_chart = chart(chart_path, scens, table, rr_names, work)
        chart_rel_md = os.path.relpath(chart_path, os.path.dirname(out_md)) if have_chart else None
        body = markdown(meta, scens, table, rr_names, rat, limit, chart_rel_md)
        with open(out_md, "w") as f:
            f.write("# Route reflectors side by side\n\n" + body)
        with open(out_json, "w") as f:
            json.dump(dict(meta=meta, injector_limit=limit, ratios=rat, scenarios=scens, results=results),
                      f, indent=1)
        if a.update_benchmarks:
            update_benchmarks(markdown(meta, scens, table, rr_names, rat, limit,
                                       os.path.relpath(chart_path, ROOT) if have_chart else None))
        shutil.rmtree(work, ignore_errors=True)
        print(body)
        log(f"wrote {out_md}, {out_json}" + (f", {chart_path}" if have_chart else ""))


if __name__ == "__main__":
    main()
