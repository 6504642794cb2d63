#!/bin/bash
# IP-VPN over the kernel path, end to end: three hosts (network namespaces) each running
# bagpipe-bgp with the IP-VPN `linux` driver (per-VRF routing tables and rules, VXLAN
# with router's MACs: E-VPN type 5 routes), one route reflector, VM namespaces attached
# with bagpipe-rest-attach; packets really flow (ping).
#
# Variant 1, bagpipe-bgp as route reflector:
#   1. VMs of VPN red on three hosts, in three subnets, ping each other (routed);
#   2. VPN blue reuses red's addresses on the same hosts: each VPN reaches only its
#      own VMs (blue cannot reach a red-only prefix; with blue's VM gone, blue does
#      not reach red's VM of the same address); a VM reaches its own VRF's gateway
#      address on the host, not another VRF's;
#   3. ECMP: one address behind two hosts → one route with two next hops, reachable;
#   4. detach → unreachable;
#   5. the route reflector is killed and restarted → pings resume;
#   6. a host's bagpipe-bgp is killed and restarted → pings resume, no duplicate or
#      stale rule, route or device;
#   7. detach everything → no table, rule or VXLAN device of ours is left.
#   Also: a second subnet in red on h1 (another attach, another gateway_ip): its VM
#   pings its own gateway, the first subnet's VM still its own.
# Variant 2, FRR's bgpd as route reflector: (1).
# Variant 3, `mode = vrf` (VRF devices bvrf-N, kernel MPLS over eth0): VMs of red on two
# hosts ping each other over MPLS. Only where the kernel has VRF devices and MPLS;
# elsewhere (this project's CI kernel) it is reported SKIPPED with the reason.
set -u -o pipefail
# shellcheck source=lib/fabric.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/fabric.sh"
fab_init ipvpn_linux

RED=64512:10
BLUE=64512:20

attach_vm() { # attach_vm HOST VM VPN RT MAC IP/LEN GW
  fab_attach "$1" --port "t$2" --mac "$5" --ip "$6" --gateway-ip "$7" \
    --network-type ipvpn --vpn-instance-id "$3" --rt "$4" >/dev/null
}
detach_vm() { # detach_vm HOST VM VPN RT MAC IP/LEN [GW]
  fab_detach "$1" --port "t$2" --mac "$5" --ip "$6" ${7:+--gateway-ip "$7"} --network-type ipvpn \
    --vpn-instance-id "$3" --rt "$4" >/dev/null
}
check_ping() { if fab_wait_ping "$2" "$3" 10; then ok "$1"; else bad "$1"; fi; }
check_noping() { # the destination must stay silent
  if fab_ping "$2" "$3"; then bad "$1"; else ok "$1"; fi
}
# ours HOST: rules, routes (proto 19) and VXLAN devices of ours, as one sorted text
ours() {
  {
    fab_x "$1" ip rule show | grep -E 'lookup (1[0-9]{3})' | sed 's/^[0-9]*:/rule/'
    fab_x "$1" ip route show table all proto 19
    fab_x "$1" ip -o link show type vxlan | awk '{print "link", $2}'
  } | sort
}

fabric() { # fabric RR-KIND
  fab_underlay
  for i in 1 2 3; do fab_host "h$i" "$i" dummy linux; done
  if [ "$1" = ours ]; then fab_rr_ours 254 1 2 3; else fab_rr_peer "$1" 254 1 2 3; fi
  for i in 1 2 3; do fab_start "h$i"; done
  for i in 1 2 3; do fab_wait_established "h$i" 20 || bad "h$i: BGP session to the $1 RR not Established"; done
  for i in 1 2 3; do
    fab_vm "h$i" "r$i" "52:54:00:00:01:0$i" "10.1.$i.10/24" "10.1.$i.1"
    attach_vm "h$i" "r$i" red "$RED" "52:54:00:00:01:0$i" "10.1.$i.10/24" "10.1.$i.1" || bad "attach r$i"
  done
}

# ---------------------------------------------------------------- variant 1: our RR
echo "== variant 1: bagpipe-bgp route reflector"
fabric ours
check_ping "red: r1 (h1) reaches r2 (h2), routed over VXLAN" r1 10.1.2.10
check_ping "red: r1 (h1) reaches r3 (h3)" r1 10.1.3.10
check_ping "red: r3 (h3) reaches r2 (h2)" r3 10.1.2.10
ttl=$(fab_x r1 ping -c 1 -W 1 10.1.2.10 | sed -n 's/.*ttl=\([0-9]*\).*/\1/p')
if [ "$ttl" = 62 ]; then ok "routed on both hosts (TTL 62)"; else bad "TTL $ttl, want 62"; fi

# blue: the same addresses on h1 and h2
fab_vm h1 b1 52:54:00:00:02:01 10.1.1.10/24 10.1.1.1
fab_vm h2 b2 52:54:00:00:02:02 10.1.2.10/24 10.1.2.1
attach_vm h1 b1 blue "$BLUE" 52:54:00:00:02:01 10.1.1.10/24 10.1.1.1 || bad "attach b1"
attach_vm h2 b2 blue "$BLUE" 52:54:00:00:02:02 10.1.2.10/24 10.1.2.1 || bad "attach b2"
check_ping "blue: b1 (h1) reaches b2 (h2) at red's addresses" b1 10.1.2.10
sleep 1
check_noping "blue: b1 does not reach red's r3 (10.1.3.10, red only)" b1 10.1.3.10
check_ping "red still: r1 reaches r2" r1 10.1.2.10
detach_vm h2 b2 blue "$BLUE" 52:54:00:00:02:02 10.1.2.10/24 || bad "detach b2"
if fab_wait_noping b1 10.1.2.10 10; then
  ok "blue without b2: b1 does not reach 10.1.2.10 (red's r2 has it)"
else
  bad "blue's b1 reaches 10.1.2.10 although blue's b2 is gone: VPNs are not isolated"
fi
check_ping "red's r1 still reaches r2 (10.1.2.10)" r1 10.1.2.10

# the host's gateway addresses are per VRF too: green on h1 has gateway 10.77.0.1
fab_vm h1 g1 52:54:00:00:03:01 10.77.0.10/24 10.77.0.1
attach_vm h1 g1 green 64512:30 52:54:00:00:03:01 10.77.0.10/24 10.77.0.1 || bad "attach g1"
check_ping "green: g1 reaches its gateway 10.77.0.1" g1 10.77.0.1
check_ping "red: r1 reaches its gateway 10.1.1.1" r1 10.1.1.1
check_noping "red: r1 does not reach green's gateway 10.77.0.1 on the same host" r1 10.77.0.1
check_noping "green: g1 does not reach red's gateway 10.1.1.1 on the same host" g1 10.1.1.1
detach_vm h1 g1 green 64512:30 52:54:00:00:03:01 10.77.0.10/24 || bad "detach g1"

# two subnets in red on h1: each VM gets an ARP answer from, and pings, its own gateway
fab_vm h1 s1 52:54:00:00:04:01 10.1.11.10/24 10.1.11.1
attach_vm h1 s1 red "$RED" 52:54:00:00:04:01 10.1.11.10/24 10.1.11.1 || bad "attach s1"
check_ping "red, second subnet: s1 reaches its gateway 10.1.11.1" s1 10.1.11.1
check_ping "red, first subnet: r1 still reaches its gateway 10.1.1.1" r1 10.1.1.1
check_ping "red, second subnet: s1 reaches r2 (h2), routed" s1 10.1.2.10
if fab_x h1 ip -o addr show dev ts1 | grep -q 'inet 10.1.11.1/24' &&
  ! fab_x h1 ip -o addr show dev tr1 | grep -q 'inet 10.1.11.1/'; then
  ok "h1: 10.1.11.1/24 on s1's port only"
else
  bad "h1: gateway addresses: $(fab_x h1 ip -o addr show | grep -E 'inet 10\.1\.(1|11)\.1/' | tr '\n' ' ')"
fi
detach_vm h1 s1 red "$RED" 52:54:00:00:04:01 10.1.11.10/24 || bad "detach s1"
sleep 1
if fab_x h1 ip route show table all proto 19 | grep -q '10\.1\.11\.1'; then
  bad "h1: 10.1.11.1's local route left after its last endpoint went"
else
  ok "h1: the second gateway's local route went with its last endpoint"
fi
check_ping "red: r1 still reaches its gateway 10.1.1.1" r1 10.1.1.1

# ECMP: 10.1.9.9 behind h2 and h3 (one VM on each, an anycast /32 whose gateway is the
# VRF's gateway on that host)
ecmp_vm() { # ecmp_vm HOST VM MAC GW
  fab_vm "$1" "$2" "$3" 10.1.9.9/32
  fab_x "$2" ip route add "$4" dev eth0
  fab_x "$2" ip route add default via "$4"
  attach_vm "$1" "$2" red "$RED" "$3" 10.1.9.9/32 "$4" || bad "attach $2"
}
ecmp_vm h2 e2 52:54:00:00:09:02 10.1.2.1
ecmp_vm h3 e3 52:54:00:00:09:03 10.1.3.1
check_ping "ECMP: r1 reaches 10.1.9.9" r1 10.1.9.9
hops=$(fab_x h1 ip route show table all 10.1.9.9 proto 19 | grep -c nexthop)
if [ "$hops" = 2 ]; then ok "ECMP: h1 routes 10.1.9.9 over 2 next hops"; else
  bad "ECMP: h1's route: $(fab_x h1 ip route show table all 10.1.9.9)"; fi
detach_vm h3 e3 red "$RED" 52:54:00:00:09:03 10.1.9.9/32 10.1.3.1 || bad "detach e3"
sleep 1
hops=$(fab_x h1 ip route show table all 10.1.9.9 proto 19 | grep -c -e nexthop -e via)
check_ping "ECMP: after one is gone, r1 still reaches 10.1.9.9 (via h2)" r1 10.1.9.9
[ "$hops" = 1 ] && ok "ECMP: one next hop left" || bad "ECMP: $(fab_x h1 ip route show table all 10.1.9.9)"

# detach → unreachable
detach_vm h3 r3 red "$RED" 52:54:00:00:01:03 10.1.3.10/24 || bad "detach r3"
if fab_wait_noping r1 10.1.3.10 10; then ok "detach r3 → r1 cannot reach it"; else bad "r3 still answers after detach"; fi
attach_vm h3 r3 red "$RED" 52:54:00:00:01:03 10.1.3.10/24 10.1.3.1 || bad "re-attach r3"
check_ping "re-attached r3 is reachable again" r1 10.1.3.10

# the RR is killed and restarted
fab_kill rr
_fab_spawn rr "$FAB_RUN/rr.conf" "$FAB_RUN/rr.log"
for i in 1 2 3; do fab_wait_established "h$i" 30 || bad "h$i: no session after the RR restart"; done
check_ping "RR restarted: r1 reaches r2" r1 10.1.2.10
check_ping "RR restarted: r3 reaches r1" r3 10.1.1.10

# h2's daemon is killed and restarted; the agent replays its ports
before=$(ours h2)
fab_kill h2
fab_start h2
fab_wait_established h2 20 || bad "h2: no session after its restart"
attach_vm h2 r2 red "$RED" 52:54:00:00:01:02 10.1.2.10/24 10.1.2.1 || bad "re-attach r2"
attach_vm h2 e2 red "$RED" 52:54:00:00:09:02 10.1.9.9/32 10.1.2.1 || bad "re-attach e2"
check_ping "h2 restarted: r1 reaches r2" r1 10.1.2.10
check_ping "h2 restarted: r2 reaches r3" r2 10.1.3.10
sleep 1
after=$(ours h2)
if [ "$after" = "$before" ]; then
  ok "h2 after its restart: the same rules, routes and devices as before"
else
  bad "h2 after its restart differs: $(diff <(echo "$before") <(echo "$after") | head -20 | tr '\n' ' ')"
fi

# detach everything: nothing of ours is left
for i in 1 2 3; do detach_vm "h$i" "r$i" red "$RED" "52:54:00:00:01:0$i" "10.1.$i.10/24"; done
detach_vm h2 e2 red "$RED" 52:54:00:00:09:02 10.1.9.9/32 10.1.2.1
detach_vm h1 b1 blue "$BLUE" 52:54:00:00:02:01 10.1.1.10/24
sleep 1
left=""
for i in 1 2 3; do left+=$(ours "h$i"); done
if [ -z "$left" ]; then ok "last detach: no rule, route or VXLAN device of ours is left"; else bad "left behind: $left"; fi
fab_teardown

# ---------------------------------------------------------------- variant 2: FRR as RR
echo "== variant 2: FRR bgpd route reflector"
fabric frr
check_ping "FRR RR: red r1 (h1) reaches r2 (h2)" r1 10.1.2.10
check_ping "FRR RR: red r3 (h3) reaches r1 (h1)" r3 10.1.1.10
fab_teardown

# ---------------------------------------------------------------- variant 3: mode = vrf
# kernel_vrf_mpls: empty when the kernel has VRF devices and MPLS, else what it lacks
kernel_vrf_mpls() {
  local lacks=()
  unshare --net sh -c 'ip link add bpvrfprobe type vrf table 4242' 2>/dev/null ||
    lacks+=("VRF devices (CONFIG_NET_VRF)")
  [ -e /proc/sys/net/mpls/platform_labels ] ||
    lacks+=("kernel MPLS (CONFIG_MPLS_ROUTING: no /proc/sys/net/mpls/platform_labels)")
  local out="" l
  for l in "${lacks[@]}"; do out+="${out:+ and }$l"; done
  echo "$out"
}
lacks=$(kernel_vrf_mpls)
if [ -n "$lacks" ]; then
  echo "== variant 3: mode = vrf"
  skip "variant 3 (IP-VPN linux driver, mode = vrf, MPLS): this kernel has no $lacks"
else
  echo "== variant 3: mode = vrf (VRF devices, kernel MPLS)"
  fab_underlay
  for i in 1 2; do
    fab_host "h$i" "$i" dummy linux
    printf 'mode = vrf\nmpls_interface = eth0\n' >>"$FAB_RUN/h$i.conf"
  done
  fab_rr_ours 254 1 2
  for i in 1 2; do fab_start "h$i"; done
  for i in 1 2; do fab_wait_established "h$i" 20 || bad "h$i: BGP session not Established"; done
  for i in 1 2; do
    fab_vm "h$i" "r$i" "52:54:00:00:01:0$i" "10.1.$i.10/24" "10.1.$i.1"
    attach_vm "h$i" "r$i" red "$RED" "52:54:00:00:01:0$i" "10.1.$i.10/24" "10.1.$i.1" || bad "attach r$i"
  done
  if fab_x h1 ip -o link show type vrf | grep -q 'bvrf-'; then ok "vrf mode: h1 has a bvrf- device"; else
    bad "vrf mode: no bvrf- device on h1: $(fab_lg h1 vpns/dataplane/drivers/ipvpn)"; fi
  check_ping "vrf mode: r1 (h1) reaches r2 (h2) over MPLS" r1 10.1.2.10
  check_ping "vrf mode: r1 reaches its gateway 10.1.1.1" r1 10.1.1.1
  if fab_x h2 ip -f mpls route show | grep -q 'via inet 10.1.2.10'; then ok "vrf mode: h2 has r2's label route"; else
    bad "vrf mode: h2's MPLS routes: $(fab_x h2 ip -f mpls route show | tr '\n' ' ')"; fi
  for i in 1 2; do detach_vm "h$i" "r$i" red "$RED" "52:54:00:00:01:0$i" "10.1.$i.10/24"; done
  sleep 1
  if [ -z "$(fab_x h1 ip -o link show type vrf)$(fab_x h1 ip -f mpls route show proto 19)" ]; then
    ok "vrf mode: last detach leaves no VRF device or label route on h1"
  else
    bad "vrf mode: left on h1: $(fab_x h1 ip -o link show type vrf) $(fab_x h1 ip -f mpls route show)"
  fi
fi

fab_finish
