#!/bin/bash
# Dataplane programming speed, end to end (bagpipe-bgp + real kernel, namespaces):
# N E-VPN endpoints (MAC + IP) are attached on host h1 over the REST API (one HTTP
# connection, as an agent would), and we time until host h2's E-VPN linux driver has
# programmed all of them (N static FDB entries on its VXLAN device, N permanent
# neighbour entries); then the same for N IP-VPN /32s into h2's VRF table (linux driver).
#   bench/dataplane/run.sh [N]        (default 2000; root; BAGPIPE_BUILD_DIR)
# Prints one JSON line per phase.
set -u -o pipefail
N=${1:-2000}
# shellcheck source=../../tests/e2e/lib/fabric.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../../tests/e2e/lib/fabric.sh"
fab_init dataplane_bench
fab_underlay
fab_host h1 1 linux linux
fab_host h2 2 linux linux
fab_rr_ours 254 1 2
fab_start h1
fab_start h2
fab_wait_established h1 20 && fab_wait_established h2 20 || fab_die "BGP sessions"
fab_x h1 ip link add tport type dummy 2>/dev/null || fab_x h1 ip link add tport type veth peer name tpeer
fab_x h1 ip link set tport up

now() { date +%s.%N; }
# attach N endpoints on h1 (keep-alive HTTP), prints the seconds it took
attach_all() { # attach_all evpn|ipvpn
  fab_x h1 /usr/bin/python3 - "$1" "$N" <<'PY'
import http.client, json, sys, time
kind, n = sys.argv[1], int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", 8082)
t0 = time.time()
for i in range(n):
    mac = "02:10:%02x:%02x:%02x:01" % (i >> 16 & 255, i >> 8 & 255, i & 255)
    ip = "10.%d.%d.%d" % (64 + (i >> 16), i >> 8 & 255, i & 255)
    body = {"vpn_instance_id": "bench-" + kind, "vpn_type": kind, "mac_address": mac,
            "ip_address": ip + ("/24" if kind == "evpn" else "/32"),
            "gateway_ip": "10.64.0.1" if kind == "evpn" else "10.63.0.1",
            "local_port": {"linuxif": "tport"}, "import_rt": ["64512:77"], "export_rt": ["64512:77"]}
    c.request("POST", "/attach_localport", json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    if r.status != 200:
        print("attach failed", r.status, file=sys.stderr); sys.exit(1)
print("%.3f" % (time.time() - t0))
PY
}
count_fdb() { fab_x h2 bridge fdb show dev vxlan--bench-ev 2>/dev/null | grep -c '^02:10:.* dst '; }
count_neigh() { fab_x h2 ip neigh show dev evpn---bench-ev 2>/dev/null | grep -c PERMANENT; }
count_routes() { fab_x h2 ip route show table all proto 19 2>/dev/null | grep -c '^10\.6[4-9]\.'; }
wait_count() { # wait_count FN N -> seconds since T0 when FN reached N (or timeout)
  local fn=$1 want=$2 n
  for _ in $(seq 1200); do
    n=$($fn)
    [ "${n:-0}" -ge "$want" ] && { awk -v a="$(now)" -v b="$T0" 'BEGIN{printf "%.3f", a - b}'; return 0; }
    sleep 0.05
  done
  echo "timeout ($n of $want)"
  return 1
}

# h2 needs its own instance importing the RT to program anything
fab_x h2 ip link add tport type veth peer name tpeer 2>/dev/null
fab_x h2 ip link set tport up
fab_attach h2 --port tport --mac 02:20:00:00:00:01 --ip 10.64.255.254/24 --gateway-ip 10.64.0.1 \
  --network-type evpn --vpn-instance-id bench-evpn --rt 64512:77 >/dev/null || fab_die "h2 evpn"
fab_attach h2 --port tport --mac 02:20:00:00:00:02 --ip 10.62.0.2/32 --gateway-ip 10.62.0.1 \
  --network-type ipvpn --vpn-instance-id bench-ipvpn --rt 64512:77 >/dev/null || fab_die "h2 ipvpn"

T0=$(now)
a=$(attach_all evpn) || fab_die "evpn attaches"
fdb=$(wait_count count_fdb "$N")
neigh=$(wait_count count_neigh "$N")
echo "{\"phase\": \"evpn\", \"endpoints\": $N, \"attach_s\": $a, \"h2_fdb_complete_s\": \"$fdb\", \"h2_neigh_complete_s\": \"$neigh\"}"
T0=$(now)
a=$(attach_all ipvpn) || fab_die "ipvpn attaches"
routes=$(wait_count count_routes "$N")
echo "{\"phase\": \"ipvpn\", \"endpoints\": $N, \"attach_s\": $a, \"h2_routes_complete_s\": \"$routes\"}"
echo "h2 RSS KiB: $(awk '/VmRSS/{print $2}' "/proc/${FAB_PID[h2]}/status")"
