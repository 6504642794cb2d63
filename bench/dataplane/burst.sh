#!/bin/bash
# FDB programming rate when N E-VPN type-2 routes arrive at once (bagpipe-bgp + real kernel,
# namespaces): host h2 runs bagpipe-bgp with the E-VPN linux driver and one E-VPN instance
# (VNI 16001) importing RT 64512:1; build/tools/bagpipe-bgp-bench, in h2's namespace,
# connects to it as an iBGP peer (192.168.x.200 on h2's lo) and injects N type-2 routes
# (RT 64512:1, VXLAN encapsulation community, label field 16001 = the instance's VNI, next
# hop 192.168.x.9) in one burst. bench/dataplane/nlwatch.py counts the distinct MACs of
# the VXLAN FDB "self" entries h2's kernel announces over netlink (RTNLGRP_NEIGH) until N,
# checks the count with `bridge fdb show`, and samples h2's bagpipe-bgp RSS and CPU.
# A second, receive-only peer of the tool (.201, to which h2 reflects nothing: it is no
# RR) keeps the tool's sessions up until --timeout, so no withdrawal starts before the end.
#   bench/dataplane/burst.sh [N] [TOOL_TIMEOUT_S]   (default 100000, 60; root; BAGPIPE_BUILD_DIR)
# Prints one JSON line and a markdown row.
set -u -o pipefail
N=${1:-100000}
TT=${2:-60}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FAB_HOLD=${FAB_HOLD:-30}
# shellcheck source=../../tests/e2e/lib/fabric.sh
source "$HERE/../../tests/e2e/lib/fabric.sh"
BENCH=$FAB_BUILD/tools/bagpipe-bgp-bench
[ -x "$BENCH" ] || fab_die "$BENCH not built"
fab_init dataplane_burst
fab_underlay
fab_host h2 2 linux linux
INJ=$FAB_NET.200
CLI=$FAB_NET.201
sed -i "s/^peers = .*/peers = $INJ, $CLI/" "$FAB_RUN/h2.conf"
printf '[BGP_PEER %s]\npassive = True\n' "$INJ" "$CLI" >>"$FAB_RUN/h2.conf"
fab_x h2 ip addr add "$INJ/32" dev lo
fab_x h2 ip addr add "$CLI/32" dev lo
fab_start h2
fab_x h2 ip link add tport type veth peer name tpeer || fab_die "tport"
fab_x h2 ip link set tport up
fab_x h2 curl -sf -o /dev/null --max-time 5 -H 'Content-Type: application/json' \
  -d '{"vpn_instance_id": "burst-evpn", "vpn_type": "evpn", "mac_address": "02:20:00:00:00:01",
       "ip_address": "10.200.0.1/16", "gateway_ip": "10.200.0.254", "vni": 16001,
       "local_port": {"linuxif": "tport"}, "import_rt": ["64512:1"], "export_rt": ["64512:1"]}' \
  http://127.0.0.1:8082/attach_localport || fab_die "h2 evpn attach"
VX=$(fab_x h2 ip -o link show type vxlan | awk -F': ' '{print $2}' | cut -d@ -f1 | head -1)
[ -n "$VX" ] || fab_die "no VXLAN device on h2"
fab_x h2 ip -d link show "$VX" | grep -q 'vxlan id 16001' || fab_die "$VX is not VNI 16001"
j=$(fab_x h2 /usr/bin/python3 "$HERE/nlwatch.py" burst --count "$N" --bgp-pid "${FAB_PID[h2]}" \
  --fdb-dev "$VX" --timeout "$TT" -- "$BENCH" --target "$FAB_NET.2" --injector-address "$INJ" \
  --client "$CLI" --family "evpn-mac=$N" --rts 1 --as "$FAB_AS" --next-hop "$FAB_NET.9" \
  --label-base 1000 --hold-time 90 --timeout "$TT")
rc=$?
echo "$j"
/usr/bin/python3 -c '
import json, sys
j = json.loads(sys.argv[1]); a = j["h2_at_complete"] or {}; b = j["h2_before"] or {}
f = lambda v, fmt: (fmt % v) if v is not None else "-"
print("| routes | first FDB entry | all FDB entries | FDB entries/s | injection done | h2 CPU during | h2 RSS before / at end |")
print("|---|---|---|---|---|---|---|")
print("| %d | %s | %s | %s | %s | %s | %s / %s |" % (j["routes"], f(j["first_fdb_s"], "%.3f s"),
      f(j["all_fdb_s"], "%.3f s"), f(j.get("fdb_per_s"), "%d"), f(j["tool_inject_done_s"], "%.3f s"),
      f(j.get("h2_cpu_s_during"), "%.2f s"), f((b.get("rss_kib") or 0) / 1024, "%.1f MiB"),
      f((a.get("rss_kib") or 0) / 1024, "%.1f MiB")))
' "$j"
[ "$rc" -eq 0 ] || fab_die "not all $N FDB entries seen"
