#!/bin/bash
# Per-attach dataplane latency, end to end (bagpipe-bgp + real kernel, namespaces):
# N E-VPN endpoints are attached on host h1 over the REST API, strictly one at a time,
# and for each one we time until host h2's kernel announces (netlink, RTNLGRP_NEIGH) the
# VXLAN FDB entry of its MAC; then the same for N IP-VPN /32s and the route in h2's VRF
# table (RTNLGRP_IPV4_ROUTE). Path: REST on h1, VPN layer, BGP to the RR, reflection,
# BGP to h2, import, best path, h2's linux driver, netlink. One clock (CLOCK_MONOTONIC,
# one process: bench/dataplane/nlwatch.py, netlink socket in h2, REST socket in h1).
#   bench/dataplane/latency.sh [N] [GAP_MS]   (default 1000, 5; root; BAGPIPE_BUILD_DIR)
# Prints one JSON line per family, then the markdown rows.
set -u -o pipefail
N=${1:-1000}
GAP=${2:-5}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../tests/e2e/lib/fabric.sh
source "$HERE/../../tests/e2e/lib/fabric.sh"
fab_init dataplane_latency
fab_underlay
fab_host h1 1 linux linux
fab_host h2 2 linux linux
fab_rr_ours 254 1 2
fab_start h1
fab_start h2
fab_wait_established h1 20 && fab_wait_established h2 20 || fab_die "BGP sessions"
for h in h1 h2; do
  fab_x $h ip link add tport type veth peer name tpeer || fab_die "tport on $h"
  fab_x $h ip link set tport up
done
# h2 needs its own instances importing the RT to program anything
fab_attach h2 --port tport --mac 02:20:00:00:00:01 --ip 10.96.255.254/16 --gateway-ip 10.96.0.1 \
  --network-type evpn --vpn-instance-id lat-evpn --rt 64512:77 >/dev/null || fab_die "h2 evpn"
fab_attach h2 --port tport --mac 02:20:00:00:00:02 --ip 10.94.0.2/32 --gateway-ip 10.94.0.1 \
  --network-type ipvpn --vpn-instance-id lat-ipvpn --rt 64512:77 >/dev/null || fab_die "h2 ipvpn"
sleep 1  # h2's instances announced (RTC) and the RR's RT filters updated
rows=()
for kind in evpn ipvpn; do
  j=$(fab_x h2 /usr/bin/python3 "$HERE/nlwatch.py" latency --attach-netns "/run/netns/$(fab_ns h1)" \
    --kind $kind --count "$N" --gap-ms "$GAP") || fab_die "$kind latency run"
  echo "$j"
  rows+=("$(/usr/bin/python3 -c '
import json, sys
j = json.loads(sys.argv[1]); r = j["latency_from_reply_ms"]; s = j["latency_from_send_ms"]
print("| %s | %d (%d missed) | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |" % (
    "E-VPN FDB" if j["phase"].endswith("evpn") and not j["phase"].endswith("ipvpn") else "IP-VPN route",
    j["attaches"], j["missed"], r["p50"], r["p90"], r["p99"], r["max"], s["p50"], j["rest_call_ms"]["p50"]))
' "$j")")
done
echo "| what on h2 | attaches | p50 ms | p90 ms | p99 ms | max ms | p50 from send ms | REST call p50 ms |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo "h1 RSS KiB: $(awk '/VmRSS/{print $2}' "/proc/${FAB_PID[h1]}/status"), h2 RSS KiB: $(awk '/VmRSS/{print $2}' "/proc/${FAB_PID[h2]}/status")"
