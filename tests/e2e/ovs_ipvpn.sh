#!/bin/bash
# The IP-VPN `ovs` dataplane driver for real: three "hosts" (network
# namespaces) on an underlay switch (a Linux bridge in namespace sw), each
# with a private Open vSwitch (ovsdb-server + ovs-vswitchd, userspace
# datapath) and a real bagpipe-bgp with [DATAPLANE_DRIVER_IPVPN]
# dataplane_driver = ovs; a bagpipe-bgp route reflector in host 1's namespace
# (its own address on the underlay); VM namespaces on veths whose host end
# (tapN) the driver adds to br-int when the port is attached with
# bagpipe-rest-attach.
#
#   h1 (.1, RR .101): vm1  10.1.1.10 tap1  VPN 1 (64512:1)
#                     vm1b 10.1.1.10 tap1b VPN 2 (64512:2)
#   h2 (.2):          vm2  10.1.2.10 tap2  VPN 1,  vm2b 10.1.2.10 tap2b VPN 2,
#                     vm2c 10.1.2.99 tap2c VPN 1 (anycast)
#   h3 (.3):          vm3  10.1.2.99 tap3  VPN 1 (anycast)
#   underlay 192.168.100.0/24: h1 eth0, h2 eth0, h3 eth0 -- [sw br0]
#
# Phase GRE  (MPLS over GRE, mpls_gre port, packet_type=legacy_l3): the
#   underlay IP on br-phy (eth0 in it), tunnels on br-int (as OVS userspace
#   tunnelling needs).
# Phase BARE (MPLS over Ethernet, mpls_interface = eth0): eth0 and the
#   underlay IP on br-int itself; the driver learns the remote PE's MAC from
#   the kernel's neighbour table.
# Each phase proves: VM to VM ping through the VPN; MPLS (in GRE, or
# ethertype 0x8847) on the underlay wire (tcpdump in h2); the instance
# cookie on the flows; detach -> route withdrawn, no traffic, port removed
# from br-int; no driver errors; (bare) the remote PE's MAC learnt from the
# kernel neighbour table; bagpipe-bgp-cleanup wipes every flow and group;
# (GRE) a restart of h1's daemon with reconcile = True keeps the flows, the
# replay takes them over, the sweep removes the stale ones; (GRE, bare) two
# VPNs with overlapping addresses stay isolated (the VMs' echo request
# counters: nothing crosses, not even with VPN 2's remote VM detached);
# VPN 1's anycast 10.1.2.99 is reached through a select group with a bucket
# per PE (h2, h3), one bucket left (and traffic) after detaching the VM that
# answered.
# Everything lives in namespaces $P-* (P = bovs<pid>), removed on exit; every
# process is killed by PID.
set -u -o pipefail

NAME=ovs_ipvpn
ROOT=${BAGPIPE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BAGPIPE_BUILD_DIR:-$ROOT/build}
DAEMON=$BUILD/src/daemon/bagpipe-bgp
CLI=$BUILD/tools/bagpipe-rest-attach
CLEANUP=$BUILD/tools/bagpipe-bgp-cleanup
P=bovs$$
API_PORT=18290
RR_API_PORT=18291
NET=192.168.100

skip() { echo "SKIP $NAME: $*"; exit 77; }
die() { echo "FAIL $NAME: $*"; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
[ -x "$DAEMON" ] || die "$DAEMON not built"
[ -x "$CLI" ] || die "$CLI not built"
[ -x "$CLEANUP" ] || die "$CLEANUP not built"
for t in ovsdb-server ovs-vswitchd ovs-vsctl ovs-ofctl ovsdb-tool tcpdump ping /usr/bin/python3; do
  command -v $t >/dev/null || skip "$t is not installed"
done
ip netns add "$P-probe" 2>/dev/null || skip "cannot create network namespaces"
ip netns del "$P-probe"

RUN=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX") || die "mktemp"
NSLIST=()
declare -A PID
OVS_PIDS=()
# kill_pid PID: SIGTERM, then SIGKILL after 3 s; reaped.
kill_pid() { local p=$1
  kill -TERM "$p" 2>/dev/null || return 0
  for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null
  wait "$p" 2>/dev/null
}
cleanup() {
  local p n
  for p in "${PID[@]}"; do kill_pid "$p"; done
  PID=()
  stop_ovs
  for n in "${NSLIST[@]}"; do ip netns del "$n" 2>/dev/null; done
  [ -n "${KEEP_RUN:-}" ] && echo "# kept $RUN" || rm -rf "$RUN"
}
trap cleanup EXIT

FAILS=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }

nsx() { local ns=$1; shift; ip netns exec "$P-$ns" "$@"; }
ns_add() { ip netns add "$P-$1" || die "netns $1"; NSLIST+=("$P-$1"); ip -n "$P-$1" link set lo up; }
veth() { ip -n "$P-$1" link add "$2" type veth peer name "$4" netns "$P-$3" || die "veth";
         ip -n "$P-$1" link set "$2" up; ip -n "$P-$3" link set "$4" up; }

# --- private OVS per host ---------------------------------------------------
ovs_dir() { echo "$RUN/ovs-$1"; }
start_ovs() { local h=$1 d; d=$(ovs_dir "$h"); rm -rf "$d"; mkdir -p "$d"
  ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema || return 1
  nsx "$h" env OVS_RUNDIR="$d" OVS_DBDIR="$d" OVS_LOGDIR="$d" ovsdb-server "$d/conf.db" \
    --remote=punix:"$d/db.sock" --unixctl="$d/ovsdb-server.ctl" --pidfile="$d/ovsdb-server.pid" \
    --log-file="$d/ovsdb-server.log" --detach --no-chdir -vconsole:off 2>/dev/null || return 1
  OVS_PIDS+=("$(cat "$d/ovsdb-server.pid")")
  ovs-vsctl --db=unix:"$d/db.sock" --no-wait init || return 1
  nsx "$h" env OVS_RUNDIR="$d" OVS_DBDIR="$d" OVS_LOGDIR="$d" ovs-vswitchd unix:"$d/db.sock" \
    --unixctl="$d/ovs-vswitchd.ctl" --pidfile="$d/ovs-vswitchd.pid" \
    --log-file="$d/ovs-vswitchd.log" --detach --no-chdir -vconsole:off 2>/dev/null || return 1
  OVS_PIDS+=("$(cat "$d/ovs-vswitchd.pid")")
}
stop_ovs() { local p
  for p in "${OVS_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${OVS_PIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$p" 2>/dev/null
  done
  OVS_PIDS=()
}
vsctl() { local h=$1; shift; nsx "$h" ovs-vsctl --db=unix:"$(ovs_dir "$h")/db.sock" --timeout=10 "$@"; }
ofctl() { local h=$1; shift; nsx "$h" env OVS_RUNDIR="$(ovs_dir "$h")" ovs-ofctl -O OpenFlow15 "$@"; }

# --- daemons ----------------------------------------------------------------
# http_get NS PORT PATH: the body (python3: no curl needed).
http_get() { nsx "$1" /usr/bin/python3 -c '
import sys, urllib.request
try: sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())
except Exception as e: sys.stdout.write(str(e))' "http://127.0.0.1:$2$3"; }
# wait_json NS PORT PATH PYTHON-EXPR [TRIES]: polls until EXPR (j = JSON) holds.
wait_json() {
  local tries=${5:-100} body
  for _ in $(seq 1 "$tries"); do
    body=$(http_get "$1" "$2" "$3" 2>/dev/null)
    if printf '%s' "$body" | /usr/bin/python3 -c '
import json, sys
try: j = json.load(sys.stdin)
except Exception: sys.exit(1)
sys.exit(0 if eval(sys.argv[1]) else 1)' "$4" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "# last answer of $3 on $1: $(printf '%s' "$body" | head -c 800)"
  return 1
}

write_configs() { local mode=$1 n
  cat > "$RUN/rr.conf" <<EOF
[BGP]
local_address = $NET.101
peers = $NET.1, $NET.2, $NET.3
my_as = 64512
route_reflector = True
rtc_wildcard = True
hold_time = 9
connect_retry_min = 1
[API]
host = 127.0.0.1
port = $RR_API_PORT
EOF
  for n in 1 2 3; do
    cat > "$RUN/h$n.conf" <<EOF
[BGP]
local_address = $NET.$n
peers = $NET.101
my_as = 64512
enable_rtc = True
hold_time = 9
connect_retry_min = 1
[API]
host = 127.0.0.1
port = $API_PORT
[DATAPLANE_DRIVER_IPVPN]
dataplane_driver = ovs
ovs_bridge = br-int
arp_responder = True
ovsdb_connection = unix:$(ovs_dir h$n)/db.sock
EOF
    if [ "$mode" = bare ]; then
      printf 'mpls_over_gre = False\nmpls_interface = eth0\n' >> "$RUN/h$n.conf"
    elif [ "$mode" = vxlan ]; then
      printf 'mpls_over_gre = True\nvxlan_encap = True\n' >> "$RUN/h$n.conf"
    else
      printf 'mpls_over_gre = True\n' >> "$RUN/h$n.conf"
    fi
  done
}

# `ip netns exec` and `env` exec the daemon: $! is the daemon's PID.
start_daemons() { local n
  ip netns exec "$P-h1" "$DAEMON" --config-file "$RUN/rr.conf" --log-file "$RUN/rr-$1.log" \
    >/dev/null 2>&1 &
  PID[rr]=$!
  for n in 1 2 3; do
    ip netns exec "$P-h$n" env OVS_RUNDIR="$(ovs_dir h$n)" "$DAEMON" --config-file "$RUN/h$n.conf" \
      --log-file "$RUN/h$n-$1.log" >/dev/null 2>&1 &
    PID[h$n]=$!
  done
  for n in 1 2 3; do
    wait_json h$n $API_PORT /looking-glass/bgp/peers/$NET.101/protocol/state "j == 'Established'" 150 ||
      { tail -5 "$RUN/h$n-$1.log"; return 1; }
  done
}
stop_daemons() { local k
  for k in "${!PID[@]}"; do kill_pid "${PID[$k]}"; done
  PID=()
}

attach() { # attach|detach HOST VMNUM
  attach_vm "$1" "h$2" "tap$3" "02:00:00:00:01:0$3" "10.1.$3.10" vpn1 64512:1
}
# attach_vm attach|detach HOST TAP MAC IP VPN RT: a /24 port, gateway .1.
attach_vm() {
  nsx "$2" "$CLI" "--$1" --port "$3" --mac "$4" --ip "$5/24" --gateway-ip "${5%.*}.1" \
    --network-type ipvpn --vpn-instance-id "$6" --rt "$7" \
    --server 127.0.0.1 --api-port $API_PORT >"$RUN/cli.out" 2>&1
}

# ping_ok [VM DST]; ping_eventually [VM DST]: default vm1 -> 10.1.2.10.
ping_ok() { nsx "${1:-vm1}" ping -c 3 -i 0.2 -W 1 "${2:-10.1.2.10}" >"$RUN/ping.out" 2>&1; }
ping_eventually() { for _ in $(seq 1 25); do nsx "${1:-vm1}" ping -c 1 -W 1 "${2:-10.1.2.10}" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }
# ping_never VM DST: not one answer in ~2 s.
ping_never() { ! nsx "$1" ping -c 4 -i 0.3 -W 1 "$2" >"$RUN/ping.out" 2>&1; }

# --- topology -----------------------------------------------------------------
# vm_add VM HOST TAP MAC IP: a VM namespace on a veth to HOST (end TAP).
vm_add() {
  ns_add "$1"
  veth "$1" eth0 "$2" "$3"
  ip -n "$P-$1" link set eth0 address "$4"
  ip -n "$P-$1" addr add "$5/24" dev eth0
  ip -n "$P-$1" route add default via "${5%.*}.1"
}
# The underlay: a Linux bridge in namespace sw, each host's eth0 on it.
ns_add sw
ip -n "$P-sw" link add br0 type bridge || die "bridge"
ip -n "$P-sw" link set br0 up
for n in 1 2 3; do
  ns_add h$n
  veth h$n eth0 sw p$n
  ip -n "$P-sw" link set p$n master br0
  start_ovs h$n || die "cannot start OVS in $P-h$n"
done
vm_add vm1 h1 tap1 02:00:00:00:01:01 10.1.1.10
vm_add vm2 h2 tap2 02:00:00:00:01:02 10.1.2.10
# VPN 2 (route target 64512:2) reuses VPN 1's addresses.
vm_add vm1b h1 tap1b 02:00:00:00:02:01 10.1.1.10
vm_add vm2b h2 tap2b 02:00:00:00:02:02 10.1.2.10
# The anycast 10.1.2.99 of VPN 1, on h2 and on h3 (ECMP from h1).
vm_add vm2c h2 tap2c 02:00:00:00:03:02 10.1.2.99
vm_add vm3 h3 tap3 02:00:00:00:03:03 10.1.2.99

# One phase: MODE gre|bare.
phase() { local mode=$1 uplink n tdfilter label
  case $mode in
    gre) uplink=br-phy; label="MPLS over GRE"; tdfilter="proto gre" ;;
    vxlan) uplink=br-phy; label="VXLAN"; tdfilter="udp port 4789" ;;
    *) uplink=br-int; label="MPLS over Ethernet"; tdfilter="mpls" ;;
  esac
  for n in 1 2 3; do
    vsctl h$n -- --if-exists del-br br-phy -- --if-exists del-br br-int || return 1
    vsctl h$n add-br br-int -- set bridge br-int datapath_type=netdev \
      other_config:hwaddr=02:00:00:aa:0$n:01 || return 1
    if [ "$uplink" = br-phy ]; then
      vsctl h$n add-br br-phy -- set bridge br-phy datapath_type=netdev \
        other_config:hwaddr=02:00:00:aa:0$n:02 -- add-port br-phy eth0 || return 1
    else
      vsctl h$n add-port br-int eth0 || return 1
    fi
    ip -n "$P-h$n" addr add "$NET.$n/24" dev $uplink
    ip -n "$P-h$n" link set $uplink up
  done
  ip -n "$P-h1" addr add "$NET.101/24" dev $uplink
  write_configs "$mode"
  if ! start_daemons "$mode"; then fail "$label: BGP sessions with the RR"; stop_daemons; return; fi
  ok "$label: h1, h2 and h3 Established with the route reflector"

  attach attach 1 1 || { fail "$label: attach vm1: $(cat "$RUN/cli.out")"; }
  attach attach 2 2 || { fail "$label: attach vm2: $(cat "$RUN/cli.out")"; }
  if wait_json h1 $API_PORT /looking-glass/vpns/instances/vpn1/dataplane \
       "any(r['prefix'].startswith('10.1.2.10') for r in j['remote_endpoints'])" 100 &&
     wait_json h2 $API_PORT /looking-glass/vpns/instances/vpn1/dataplane \
       "any(r['prefix'].startswith('10.1.1.10') for r in j['remote_endpoints'])" 100; then
    ok "$label: each ovs driver programs the other VM's /32"
  else
    fail "$label: routes not programmed"
  fi
  ip netns exec "$P-h2" timeout 8 tcpdump -nnv -i eth0 -c 2 $tdfilter >"$RUN/td.txt" 2>/dev/null &
  local td=$!
  PID[tcpdump]=$td
  sleep 0.5
  if ping_eventually && ping_ok; then
    ok "$label: vm1 (h1) pings vm2 (h2) through the VPN"
  else
    fail "$label: vm1 cannot ping vm2: $(tail -2 "$RUN/ping.out" | tr '\n' ' ')"
    ofctl h1 dump-flows br-int | sed 's/^/#   /'; ofctl h1 dump-groups br-int | sed 's/^/#   /'
    http_get h1 $API_PORT /looking-glass/vpns/dataplane/drivers/ipvpn | head -c 1500; echo
  fi
  wait $td 2>/dev/null
  unset 'PID[tcpdump]'
  if [ "$mode" = vxlan ]; then
    if grep -q "VXLAN.*vni [0-9]" "$RUN/td.txt" && ! grep -q "MPLS" "$RUN/td.txt"; then
      ok "$label: the underlay carries VXLAN ($(grep -o 'vni [0-9]*' "$RUN/td.txt" | head -1))"
    else
      fail "$label: no VXLAN seen on h2 eth0: $(head -c 400 "$RUN/td.txt")"
      http_get h1 $API_PORT /looking-glass/vpns/instances/vpn1/dataplane | head -c 3000; echo
    fi
  elif grep -q "MPLS (label" "$RUN/td.txt" && { [ "$mode" = bare ] || grep -q GRE "$RUN/td.txt"; }; then
    ok "$label: the underlay carries MPLS ($(grep -o 'MPLS (label [0-9]*' "$RUN/td.txt" | head -1))"
  else
    fail "$label: no MPLS seen on h2 eth0: $(head -c 400 "$RUN/td.txt")"
  fi
  if ofctl h1 dump-flows br-int | grep -q "cookie=0x1,.*reg0=0x1,nw_dst=10.1.2.10"; then
    ok "$label: h1's route flow carries the instance cookie"
  else
    fail "$label: no route flow with cookie 0x1 on h1"
  fi
  [ "$mode" = gre ] && reconcile_restart
  [ "$mode" = vxlan ] || { isolation_ecmp "$label"; }
  attach detach 2 2 || fail "$label: detach vm2: $(cat "$RUN/cli.out")"
  if wait_json h1 $API_PORT /looking-glass/vpns/instances/vpn1/dataplane \
       "not any(r['prefix'].startswith('10.1.2.10') for r in j['remote_endpoints'])" 100; then
    ok "$label: the route is withdrawn on h1 after detach"
  else
    fail "$label: route still programmed on h1 after detach"
  fi
  sleep 0.3
  if ping_ok; then fail "$label: vm1 still reaches vm2 after detach"
  else ok "$label: no traffic after detach"; fi
  if vsctl h2 list-ports br-int | grep -qx tap2; then fail "$label: tap2 still in br-int on h2"
  else ok "$label: the driver removed tap2 from br-int"; fi
  if http_get h1 $API_PORT /looking-glass/vpns/dataplane/drivers/ipvpn |
       /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); sys.exit(0 if j["errors"]==[] else 1)'; then
    ok "$label: no dataplane errors on h1"
  else
    fail "$label: dataplane errors on h1: $(http_get h1 $API_PORT /looking-glass/vpns/dataplane/drivers/ipvpn | head -c 800)"
  fi
  if [ "$mode" = bare ]; then
    # The neighbour tables were flushed before the phase: the entry comes
    # from a fresh resolution, read by the driver from /proc/net/arp.
    local h1mac
    h1mac=$(nsx h2 ip neigh show $NET.1 | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2)
    if [ -n "$h1mac" ] && wait_json h2 $API_PORT /looking-glass/vpns/dataplane/drivers/ipvpn \
         "j['neighbours'].get('$NET.1') == '$h1mac'" 20; then
      ok "$label: h2's driver learnt h1's MAC ($h1mac) from the kernel neighbour table"
    else
      fail "$label: h2's driver did not resolve h1's MAC (kernel: '$h1mac')"
    fi
  fi
  stop_daemons
  # bagpipe-bgp-cleanup (ResetState) wipes what the driver left: vm1's
  # flows, the mpls dispatch flow, the groups; the bridge's NORMAL flow stays.
  ofctl h1 dump-flows br-int --no-stats >"$RUN/before.txt"
  if ip netns exec "$P-h1" env OVS_RUNDIR="$(ovs_dir h1)" "$CLEANUP" --config-file "$RUN/h1.conf" \
       --no-warnings >"$RUN/cleanup.out" 2>&1 &&
     grep -q -- "0x1->reg0" "$RUN/before.txt" &&
     [ "$(ofctl h1 dump-flows br-int --no-stats | grep -vc 'OFPST_FLOW')" = 1 ] &&
     ofctl h1 dump-flows br-int --no-stats | grep -q "priority=0 actions=NORMAL" &&
     [ "$(ofctl h1 dump-groups br-int | grep -c group_id)" = 0 ]; then
    ok "$label: bagpipe-bgp-cleanup removes every flow and group of the driver"
  else
    fail "$label: bagpipe-bgp-cleanup: $(cat "$RUN/cleanup.out"); left: $(ofctl h1 dump-flows br-int --no-stats | head -5)"
  fi
  for n in 1 2 3; do
    ip -n "$P-h$n" addr flush dev $uplink 2>/dev/null
    ip -n "$P-h$n" neigh flush all 2>/dev/null   # the next phase resolves afresh
  done
}

# Restart of h1's daemon with `reconcile = True` (GRE phase): the flows of the
# killed run stay (no wipe at ResetState), the replayed attach replaces them
# with cookies of the new run's tag, and the sweep removes the rest after
# reconcile_grace_period.
route_cookie() { ofctl h1 dump-flows br-int table=2 | grep "nw_dst=10.1.2.10 " |
                 grep -o 'cookie=0x[0-9a-f]*' | head -1; }
reconcile_restart() { local label="reconcile" before after n
  before=$(route_cookie)
  kill -9 "${PID[h1]}"; wait "${PID[h1]}" 2>/dev/null
  printf 'reconcile = True\nreconcile_grace_period = 3\n' >> "$RUN/h1.conf"
  ip netns exec "$P-h1" env OVS_RUNDIR="$(ovs_dir h1)" "$DAEMON" --config-file "$RUN/h1.conf" \
    --log-file "$RUN/h1-reconcile.log" >/dev/null 2>&1 &
  PID[h1]=$!
  if ! wait_json h1 $API_PORT /looking-glass/bgp/peers/$NET.101/protocol/state "j == 'Established'" 150; then
    fail "$label: h1 restarted but not Established"; return
  fi
  if [ "$before" = cookie=0x1 ] && [ "$(route_cookie)" = cookie=0x1 ]; then
    ok "$label: the killed run's flows survive the restart ($before)"
  else
    fail "$label: flows not kept across the restart (before '$before', now '$(route_cookie)')"
  fi
  attach attach 1 1 || fail "$label: re-attach vm1: $(cat "$RUN/cli.out")"
  for _ in $(seq 1 50); do after=$(route_cookie); [ -n "$after" ] && [ "$after" != "$before" ] && break; sleep 0.1; done
  if [ -n "$after" ] && [ "$after" != "$before" ] && ping_eventually && ping_ok; then
    ok "$label: the replayed state replaces them ($after) and vm1 pings vm2"
  else
    fail "$label: after the replay: route cookie '$after', ping $(tail -1 "$RUN/ping.out")"
  fi
  sleep 3.5
  local stale groups
  stale=$(ofctl h1 dump-flows br-int | grep -c "cookie=0x1,")
  groups=$(ofctl h1 dump-groups br-int | grep -c group_id)
  if [ "$stale" = 0 ] && [ "$groups" = 1 ] && ping_ok &&
     wait_json h1 $API_PORT /looking-glass/vpns/dataplane/drivers/ipvpn "j['reconcile']['sweep'].startswith('done: 1 ')" 30; then
    ok "$label: the sweep removed the old run's flows and group; traffic goes on"
  else
    fail "$label: after the sweep: $stale stale flow(s), $groups group(s)"
  fi
}

# Isolation and ECMP (GRE and bare phases), vm1/vm2 of VPN 1 attached:
# VPN 2 (route target 64512:2, vpn_instance_id vpn2) with vm1b on h1 and vm2b
# on h2 reusing vm1's and vm2's addresses; VPN 1's anycast 10.1.2.99 on h2
# (vm2c) and on h3 (vm3): h1 reaches it through a select group with a
# bucket per PE. Both VPNs reach their own 10.1.2.10; with vm2b detached,
# vm1b reaches nothing at 10.1.2.10 although VPN 1 has vm2 there; VPN 2 never
# reaches VPN 1's 10.1.2.99; one bucket less after detaching the VM that
# answered, and the other one answers. (The anycast is in h2's VPN 1 subnet:
# a VPN instance has one gateway, the one of its first port; a VM of another
# subnet there would get no ARP answer for its gateway.)
lg_has() { # HOST VPN PREFIX COUNT: COUNT remote endpoints for PREFIX
  wait_json "$1" $API_PORT "/looking-glass/vpns/instances/$2/dataplane" \
    "len([r for r in j['remote_endpoints'] if r['prefix'].startswith('$3/')]) == $4" "${5:-100}"
}
group_of() { ofctl h1 dump-flows br-int | grep "reg0=$1,nw_dst=$2 " | grep -o 'group:[0-9]*' | head -1 | cut -d: -f2; }
buckets() { ofctl h1 dump-groups br-int | grep "group_id=$1," | grep -o 'bucket_id:' | wc -l; }
# rx VM: the echo requests VM received (Icmp InEchos of its namespace).
rx() { nsx "$1" awk '/^Icmp:/ { if (!h) { for (i = 2; i <= NF; i++) if ($i == "InEchos") c = i; h = 1 }
                                  else print $c }' /proc/net/snmp; }
isolation_ecmp() { local label=$1 gid n v1 v2 r2 r2b
  attach_vm attach h1 tap1b 02:00:00:00:02:01 10.1.1.10 vpn2 64512:2 || fail "$label: attach vm1b: $(cat "$RUN/cli.out")"
  attach_vm attach h2 tap2b 02:00:00:00:02:02 10.1.2.10 vpn2 64512:2 || fail "$label: attach vm2b: $(cat "$RUN/cli.out")"
  attach_vm attach h2 tap2c 02:00:00:00:03:02 10.1.2.99 vpn1 64512:1 || fail "$label: attach vm2c: $(cat "$RUN/cli.out")"
  attach_vm attach h3 tap3 02:00:00:00:03:03 10.1.2.99 vpn1 64512:1 || fail "$label: attach vm3: $(cat "$RUN/cli.out")"
  v1=$(http_get h1 $API_PORT /looking-glass/vpns/instances/vpn1/dataplane |
       /usr/bin/python3 -c 'import json,sys; print(hex(json.load(sys.stdin)["instance_id"]))' 2>/dev/null)
  v2=$(http_get h1 $API_PORT /looking-glass/vpns/instances/vpn2/dataplane |
       /usr/bin/python3 -c 'import json,sys; print(hex(json.load(sys.stdin)["instance_id"]))' 2>/dev/null)
  if lg_has h1 vpn2 10.1.2.10 1 && lg_has h2 vpn2 10.1.1.10 1 && lg_has h1 vpn1 10.1.2.10 1 &&
     [ -n "$v1" ] && [ -n "$v2" ] && [ "$v1" != "$v2" ]; then
    ok "$label: VPN 2 on h1 and h2 (instance $v2 beside VPN 1's $v1), the same addresses as VPN 1"
  else
    fail "$label: VPN 2 not programmed (instances '$v1' '$v2')"
  fi
  ping_eventually vm1b 10.1.2.10
  r2=$(rx vm2); r2b=$(rx vm2b)
  if ping_ok vm1b 10.1.2.10 && [ "$(rx vm2)" = "$r2" ] && [ $(( $(rx vm2b) - r2b )) -ge 3 ] &&
     r2b=$(rx vm2b) && ping_ok vm1 10.1.2.10 && [ "$(rx vm2b)" = "$r2b" ]; then
    ok "$label: vm1b pings its 10.1.2.10 (vm2b) in VPN 2, vm1 its own (vm2) in VPN 1, nothing crosses"
  else
    fail "$label: overlapping VPNs: echo requests vm2 $r2 -> $(rx vm2), vm2b -> $(rx vm2b); $(tail -2 "$RUN/ping.out" | tr '\n' ' ')"
  fi
  # ECMP: two next hops (h2, h3) for 10.1.2.99/32 in VPN 1 on h1.
  if wait_json h1 $API_PORT /looking-glass/vpns/instances/vpn1/dataplane \
       "sorted(r['remote_pe'] for r in j['remote_endpoints'] if r['prefix'] == '10.1.2.99/32') == ['$NET.2', '$NET.3']" 100; then
    ok "$label: h1 programs the anycast 10.1.2.99 with two next hops (h2, h3)"
  else
    fail "$label: the anycast prefix has not two next hops on h1"
  fi
  gid=$(group_of "$v1" 10.1.2.99)
  n=$([ -n "$gid" ] && buckets "$gid")
  if [ "$n" = 2 ] && ofctl h1 dump-groups br-int | grep "group_id=$gid," | grep -q "type=select"; then
    ok "$label: the flow for 10.1.2.99 points to select group $gid with 2 buckets"
  else
    fail "$label: group for 10.1.2.99: '$gid', $n bucket(s)"
    ofctl h1 dump-flows br-int | grep 10.1.2.99 | sed 's/^/#   /'; ofctl h1 dump-groups br-int | sed 's/^/#   /'
  fi
  local r3 gone=vm3 left=vm2c gh=h3 gt=tap3 gm=02:00:00:00:03:03
  r2=$(rx vm2c); r3=$(rx vm3)
  if ping_eventually vm1 10.1.2.99 && ping_ok vm1 10.1.2.99; then
    # Detach the VM that answered: the other bucket must take over.
    if [ $(( $(rx vm2c) - r2 )) -gt $(( $(rx vm3) - r3 )) ]; then
      gone=vm2c; left=vm3; gh=h2; gt=tap2c; gm=02:00:00:00:03:02
    fi
    ok "$label: vm1 pings the anycast 10.1.2.99 through the group ($gone answers)"
  else
    fail "$label: vm1 cannot ping 10.1.2.99: $(tail -2 "$RUN/ping.out" | tr '\n' ' ')"
  fi
  # Isolation: VPN 1's own prefix is neither programmed in VPN 2 nor reachable.
  if lg_has h1 vpn2 10.1.2.99 0 1 && [ -z "$(group_of "$v2" 10.1.2.99)" ] && ping_never vm1b 10.1.2.99; then
    ok "$label: VPN 1's 10.1.2.99 is neither programmed in VPN 2 nor reachable from vm1b"
  else
    fail "$label: VPN 2 reaches (or has a route to) VPN 1's 10.1.2.99"
  fi
  attach_vm detach $gh $gt $gm 10.1.2.99 vpn1 64512:1 || fail "$label: detach $gone: $(cat "$RUN/cli.out")"
  for _ in $(seq 1 50); do n=$(buckets "$gid"); [ "$n" = 1 ] && break; sleep 0.1; done
  if [ "$n" = 1 ] && [ "$(group_of "$v1" 10.1.2.99)" = "$gid" ] && lg_has h1 vpn1 10.1.2.99 1 &&
     ping_eventually vm1 10.1.2.99 && ping_ok vm1 10.1.2.99; then
    ok "$label: $gone detached: group $gid has 1 bucket, vm1 still pings 10.1.2.99 ($left)"
  else
    fail "$label: after detaching $gone: $n bucket(s), group '$(group_of "$v1" 10.1.2.99)', ping $(tail -2 "$RUN/ping.out" | tr '\n' ' ')"
    http_get h1 $API_PORT /looking-glass/vpns/instances/vpn1/dataplane | head -c 3000; echo
  fi
  attach_vm detach h2 tap2b 02:00:00:00:02:02 10.1.2.10 vpn2 64512:2 || fail "$label: detach vm2b: $(cat "$RUN/cli.out")"
  r2=$(rx vm2)
  if lg_has h1 vpn2 10.1.2.10 0 && ping_never vm1b 10.1.2.10 && [ "$(rx vm2)" = "$r2" ] &&
     ping_ok vm1 10.1.2.10; then
    ok "$label: vm2b detached: vm1b no longer reaches 10.1.2.10, not a packet to VPN 1's vm2 there; vm1 still does"
  else
    fail "$label: after detaching vm2b: leak between the VPNs or VPN 1 broken: vm2 echo requests $r2 -> $(rx vm2), $(tail -2 "$RUN/ping.out" | tr '\n' ' ')"
  fi
}

t0=$(date +%s)
for m in ${OVS_E2E_PHASES:-gre bare vxlan}; do phase "$m"; done
echo "# $NAME: $(( $(date +%s) - t0 )) s"
if [ $FAILS -eq 0 ]; then echo "PASS $NAME"; exit 0; fi
echo "FAIL $NAME: $FAILS check(s) failed"
exit 1
