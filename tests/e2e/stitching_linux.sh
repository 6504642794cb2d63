#!/bin/bash
# E-VPN → IP-VPN stitching (`local_port.evpn`) with the linux drivers, end to end: on
# host h1 an E-VPN VM (b1) is also attached to IP-VPN red through its EVI; the VPN
# manager creates the veth pair evpn<E>-ipvpn<V> / ipvpn<V>-evpn<E> (netlink), the
# E-VPN driver enslaves one end to the EVI's bridge (gateway port), the IP-VPN driver
# plugs the other into the VRF with the gateway address. b1 then reaches red's VM on h2
# (routed, type 5 over VXLAN) and back; detach removes the pair and the path.
set -u -o pipefail
# shellcheck source=lib/fabric.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/fabric.sh"
fab_init stitching_linux

fab_underlay
fab_host h1 1 linux linux
fab_host h2 2 linux linux
fab_rr_ours 254 1 2
fab_start h1
fab_start h2
for h in h1 h2; do fab_wait_established "$h" 20 || bad "$h: BGP session not Established"; done
B1=(--mac 02:00:00:00:0b:01 --ip 10.50.0.11/24)
fab_vm h1 b1 02:00:00:00:0b:01 10.50.0.11/24 10.50.0.1
fab_attach h1 --port tb1 "${B1[@]}" --gateway-ip 10.50.0.1 --network-type evpn \
  --vpn-instance-id blue --rt 64512:100 >/dev/null || bad "attach b1 to E-VPN blue"
fab_attach h1 --port evpn:blue "${B1[@]}" --gateway-ip 10.50.0.1 --network-type ipvpn \
  --vpn-instance-id red --rt 64512:10 >/dev/null || bad "attach blue to IP-VPN red (evpn:blue)"
fab_vm h2 r2 52:54:00:00:0a:02 10.1.2.10/24 10.1.2.1
fab_attach h2 --port tr2 --mac 52:54:00:00:0a:02 --ip 10.1.2.10/24 --gateway-ip 10.1.2.1 \
  --network-type ipvpn --vpn-instance-id red --rt 64512:10 >/dev/null || bad "attach r2"

pair=$(fab_x h1 ip -o link show type veth | awk -F': ' '{print $2}' | grep -E '^(evpn[0-9]+-ipvpn[0-9]+|ipvpn[0-9]+-evpn[0-9]+)@' | cut -d@ -f1 | sort | tr '\n' ' ')
if [ "$(echo "$pair" | wc -w)" = 2 ]; then ok "h1 has the stitching veth pair: $pair"; else bad "stitching veth pair: [$pair]"; fi
evi_side=$(echo "$pair" | tr ' ' '\n' | grep '^evpn')
if fab_x h1 ip -o link show "$evi_side" | grep -q "master evpn---blue"; then
  ok "$evi_side is a port of evpn---blue (the EVI's gateway port)"
else
  bad "$evi_side not in evpn---blue: $(fab_x h1 ip -o link show "$evi_side")"
fi
if fab_wait_ping b1 10.1.2.10 10; then ok "E-VPN VM b1 reaches IP-VPN red's r2 on h2"; else bad "b1 -> r2"; fi
if fab_wait_ping r2 10.50.0.11 10; then ok "r2 reaches the stitched b1"; else bad "r2 -> b1"; fi

fab_detach h1 --port evpn:blue "${B1[@]}" --gateway-ip 10.50.0.1 --network-type ipvpn \
  --vpn-instance-id red --rt 64512:10 >/dev/null || bad "detach evpn:blue from red"
if fab_wait_noping b1 10.1.2.10 10; then ok "detach: b1 no longer reaches red"; else bad "b1 still reaches red after detach"; fi
left=$(fab_x h1 ip -o link show type veth | grep -c -E 'evpn[0-9]+-ipvpn|ipvpn[0-9]+-evpn')
[ "$left" = 0 ] && ok "detach: the veth pair is gone" || bad "detach: $left stitching veth(s) left"
fab_finish
