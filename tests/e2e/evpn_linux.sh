#!/bin/bash
# E-VPN over kernel VXLAN, end to end: three hosts (network namespaces) each running
# bagpipe-bgp with the E-VPN `linux` driver, one route reflector, one VM namespace per
# host attached with bagpipe-rest-attach; packets really flow (ping).
#
# Variant 1, bagpipe-bgp as route reflector:
#   1. VMs on different hosts ping each other;
#   2. nothing is learnt by flooding: the VXLAN device's FDB holds exactly the entries
#      the driver programmed (flood list of the other VTEPs, the remote MACs);
#   3. ARP is answered locally (neigh_suppress): no ARP crosses the underlay;
#   4. detach → the ping fails and the remote hosts' entries are gone;
#   5. the MAC moves to another host (MAC mobility) → traffic follows, one FDB entry;
#   6. the route reflector is killed and restarted → pings resume;
#   7. a host's bagpipe-bgp is killed and restarted → pings resume, nothing stale remains;
#   8. detach everything → the hosts' bridges and VXLAN devices are gone.
# Variant 2, FRR's bgpd as route reflector: (1) and (4).
# Addresses exist only inside the namespaces this script creates (prefix unique per run).
set -u -o pipefail
# shellcheck source=lib/fabric.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/fabric.sh"
fab_init evpn_linux

RT=64512:100
MAC1=02:00:00:00:01:01
MAC2=02:00:00:00:01:02
MAC3=02:00:00:00:01:03
BR=evpn---e1
VX=vxlan--e1

# vxlan_fdb HOST: "<mac> <dst>" lines of the VXLAN device's FDB (self entries with a dst)
vxlan_fdb() {
  fab_x "$1" bridge fdb show dev "$VX" | awk '/ dst /{for(i=1;i<=NF;i++) if($i=="dst") print $1, $(i+1)}' | sort
}
# learnt HOST: FDB entries on the VXLAN port that nobody programmed (not permanent/static)
learnt() {
  fab_x "$1" bridge fdb show dev "$VX" | grep -v -e permanent -e static -e ' dst ' || true
}
attach_vm() { # attach_vm HOST VM MAC IP
  fab_attach "$1" --port "t$2" --mac "$3" --ip "$4/24" --gateway-ip 10.100.0.254 \
    --network-type evpn --vpn-instance-id e1 --rt "$RT" >/dev/null
}
detach_vm() {
  fab_detach "$1" --port "t$2" --mac "$3" --ip "$4/24" --network-type evpn \
    --vpn-instance-id e1 --rt "$RT" >/dev/null
}
check_ping() { # check_ping NAME VM DST
  if fab_wait_ping "$2" "$3" 10; then ok "$1"; else bad "$1"; fi
}

fabric() { # fabric RR-KIND
  fab_underlay
  for i in 1 2 3; do fab_host "h$i" "$i" linux dummy; done
  if [ "$1" = ours ]; then fab_rr_ours 254 1 2 3; else fab_rr_peer "$1" 254 1 2 3; fi
  for i in 1 2 3; do fab_start "h$i"; done
  for i in 1 2 3; do fab_wait_established "h$i" 20 || bad "h$i: BGP session to the $1 RR not Established"; done
  fab_vm h1 vm1 "$MAC1" 10.100.0.1/24
  fab_vm h2 vm2 "$MAC2" 10.100.0.2/24
  fab_vm h3 vm3 "$MAC3" 10.100.0.3/24
  attach_vm h1 vm1 "$MAC1" 10.100.0.1 || bad "attach vm1"
  attach_vm h2 vm2 "$MAC2" 10.100.0.2 || bad "attach vm2"
  attach_vm h3 vm3 "$MAC3" 10.100.0.3 || bad "attach vm3"
}

# ---------------------------------------------------------------- variant 1: our RR
echo "== variant 1: bagpipe-bgp route reflector"
fabric ours
check_ping "vm1 (h1) reaches vm2 (h2) over VXLAN" vm1 10.100.0.2
check_ping "vm1 (h1) reaches vm3 (h3)" vm1 10.100.0.3
check_ping "vm3 (h3) reaches vm2 (h2)" vm3 10.100.0.2

want="00:00:00:00:00:00 $FAB_NET.2
00:00:00:00:00:00 $FAB_NET.3
$MAC2 $FAB_NET.2
$MAC3 $FAB_NET.3"
got=$(vxlan_fdb h1)
if [ "$got" = "$want" ] && [ -z "$(learnt h1)" ]; then
  ok "h1's $VX FDB holds exactly the programmed entries (flood list + 2 remote MACs), nothing learnt"
else
  bad "h1's $VX FDB: got [$got] learnt [$(learnt h1)], want [$want]"
fi
if fab_x h1 bridge -d link show dev "$VX" | grep -q 'neigh_suppress on'; then
  ok "neigh_suppress is on on $VX"
else
  bad "neigh_suppress is not on on $VX: $(fab_x h1 bridge -d link show dev "$VX")"
fi

# ARP suppression: vm1 forgets vm2's MAC and pings again; no ARP goes over the underlay.
fab_x vm1 ip neigh flush all
fab_x h1 timeout 5 tcpdump -l -n -i eth0 -c 1 'udp dst port 4789 and udp[28:2] = 0x0806' \
  >"$FAB_RUN/arp.txt" 2>/dev/null &
TCPD=$!
sleep 1
fab_ping vm1 10.100.0.2 || bad "vm1 -> vm2 after the ARP flush"
lladdr=$(fab_x vm1 ip neigh show 10.100.0.2 | awk '{for(i=1;i<=NF;i++) if($i=="lladdr") print $(i+1)}')
wait "$TCPD" 2>/dev/null
if [ "$lladdr" = "$MAC2" ] && ! grep -q ARP "$FAB_RUN/arp.txt"; then
  ok "ARP for vm2 answered on h1 ($lladdr), no ARP in VXLAN on the underlay"
else
  bad "ARP suppression: vm1 resolved [$lladdr], underlay capture: $(head -c 300 "$FAB_RUN/arp.txt")"
fi

# detach vm2 → unreachable, entries gone on h1
detach_vm h2 vm2 "$MAC2" 10.100.0.2 || bad "detach vm2"
if fab_wait_noping vm1 10.100.0.2 10; then ok "detach vm2 on h2 → vm1 cannot reach it"; else bad "vm2 still answers after detach"; fi
sleep 0.5
if ! vxlan_fdb h1 | grep -q "$MAC2"; then ok "h1 removed vm2's FDB entry"; else bad "h1 still has $MAC2: $(vxlan_fdb h1)"; fi

# MAC mobility: vm2 comes back behind h3 (same MAC and IP) → traffic follows
fab_vm h3 vm2b "$MAC2" 10.100.0.2/24
attach_vm h3 vm2b "$MAC2" 10.100.0.2 || bad "attach vm2 on h3"
check_ping "vm2 moved to h3: vm1 reaches it there" vm1 10.100.0.2
moved=$(vxlan_fdb h1 | grep -c "^$MAC2 ")
if [ "$moved" = 1 ] && vxlan_fdb h1 | grep -q "^$MAC2 $FAB_NET.3$"; then
  ok "h1 has one FDB entry for vm2's MAC, towards h3"
else
  bad "after the move h1 has: $(vxlan_fdb h1 | grep "$MAC2")"
fi
# and back to h2 (the newest advertisement wins: RFC 7432 §15 sequence numbers)
detach_vm h3 vm2b "$MAC2" 10.100.0.2 || bad "detach vm2 on h3"
attach_vm h2 vm2 "$MAC2" 10.100.0.2 || bad "re-attach vm2 on h2"
check_ping "vm2 back on h2: vm1 reaches it" vm1 10.100.0.2

# the RR is killed and restarted
fab_kill rr
_fab_spawn rr "$FAB_RUN/rr.conf" "$FAB_RUN/rr.log"
for i in 1 2 3; do fab_wait_established "h$i" 30 || bad "h$i: no session after the RR restart"; done
check_ping "RR restarted: vm1 reaches vm2" vm1 10.100.0.2
check_ping "RR restarted: vm3 reaches vm1" vm3 10.100.0.1

# h2's daemon is killed and restarted: its VM is re-attached (the agent replays its ports)
before=$(vxlan_fdb h2)
fab_kill h2
fab_start h2
fab_wait_established h2 20 || bad "h2: no session after its restart"
attach_vm h2 vm2 "$MAC2" 10.100.0.2 || bad "re-attach vm2 after h2's restart"
check_ping "h2 restarted: vm1 reaches vm2" vm1 10.100.0.2
check_ping "h2 restarted: vm2 reaches vm3" vm2 10.100.0.3
sleep 1
after=$(vxlan_fdb h2)
if [ "$after" = "$before" ] && [ "$(fab_x h2 ip -o link show type vxlan | wc -l)" = 1 ]; then
  ok "h2 after its restart: the same FDB entries, one VXLAN device"
else
  bad "h2 after its restart: FDB [$after] (before [$before]), devices: $(fab_x h2 ip -o link show type vxlan)"
fi

# detach everything: the drivers remove their devices
detach_vm h1 vm1 "$MAC1" 10.100.0.1
detach_vm h2 vm2 "$MAC2" 10.100.0.2
detach_vm h3 vm3 "$MAC3" 10.100.0.3
sleep 0.5
left=""
for i in 1 2 3; do
  left+=$(fab_x "h$i" ip -o link show | grep -e "$BR" -e "$VX")
done
if [ -z "$left" ]; then ok "last detach: no $BR / $VX left on any host"; else bad "left behind: $left"; fi
fab_teardown

# ---------------------------------------------------------------- variant 2: FRR as RR
echo "== variant 2: FRR bgpd route reflector"
fabric frr
check_ping "FRR RR: vm1 (h1) reaches vm2 (h2)" vm1 10.100.0.2
check_ping "FRR RR: vm3 (h3) reaches vm1 (h1)" vm3 10.100.0.1
detach_vm h2 vm2 "$MAC2" 10.100.0.2 || bad "detach vm2"
if fab_wait_noping vm1 10.100.0.2 10; then ok "FRR RR: detach vm2 → unreachable"; else bad "FRR RR: vm2 still answers after detach"; fi

fab_finish
