#!/bin/bash
# Regenerate the interop captures in this folder from real, independent BGP implementations.
#
#   sudo tests/data/captures/capture.sh [SCENARIO...]     (default: all scenarios)
#
# Developer tool, not run by the tests. Needs root (tshark on lo) and the Debian packages
# of scripts/lib/packages.sh (gobgpd, frr, exabgp, tshark, python3).
#
# Every scenario runs a sending BGP speaker and a receiving one on their own 127.0.3.x
# addresses and a non-179 port, captures the session with `tshark -i lo -f "tcp port P"`,
# and writes (via extract.py):
#   <peer>-<scenario>.hex          one BGP message per line, both directions, each with a
#                                  '# [i] sender -> receiver: TYPE ...' comment line
#   <peer>-<scenario>.tshark.json  tshark's decode of the same messages, same order
# A "# decode-flags:" header line gives the session context (bagpipe-bgp-decode flags:
# --add-path FAMILY, --ebgp, --no-asn4) needed to decode the file's messages.
# Traffic stays on loopback. Route next hops are TEST-NET values (192.0.2.x, 2001:db8::x):
# data inside the routes only (FRR and BIRD refuse 127/8 next hops); nothing is sent there.
# Every process started here is stopped by PID (trap), also on error or Ctrl-C.
#
# Environment: KEEP=1 keeps the work dir (pcaps, configs, daemon logs) and prints its path.

set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bagpipe-capture.XXXXXX")
chmod 755 "$WORK" # FRR's bgpd drops to user frr and must read its config here
PIDS=()
TSHARK_PID=""

log() { printf '[capture %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() {
  log "ERROR: $*"
  exit 1
}

stop_pid() { # stop_pid PID: TERM, wait up to 5 s, then KILL
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

stop_all() { # stop every daemon started so far, newest first
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[$i]}"; done
  PIDS=()
}

cleanup() {
  stop_all
  [ -n "$TSHARK_PID" ] && stop_pid "$TSHARK_PID"
  TSHARK_PID=""
  if [ "${KEEP:-0}" = 1 ]; then
    log "work dir kept: $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

start_bg() { # start_bg NAME CMD...: start a daemon in the background, output to $WORK/NAME.log
  local name=$1
  shift
  "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
}

[ "$(id -u)" -eq 0 ] || die "run as root (tshark captures on lo)"
for c in tshark gobgpd gobgp exabgp /usr/lib/frr/bgpd python3; do
  command -v "$c" >/dev/null || die "missing $c (see scripts/lib/packages.sh)"
done

capture_start() { # capture_start NAME PORT
  local name=$1 port=$2 i
  tshark -i lo -f "tcp port $port" -w "$WORK/$name.pcap" >"$WORK/$name.tshark.log" 2>&1 &
  TSHARK_PID=$!
  for i in $(seq 100); do
    grep -q "Capturing on" "$WORK/$name.tshark.log" && { sleep 0.5; return 0; }
    sleep 0.1
  done
  die "tshark did not start: $(cat "$WORK/$name.tshark.log")"
}

capture_stop() {
  sleep 1
  stop_pid "$TSHARK_PID"
  TSHARK_PID=""
}

# extract NAME PORT TITLE [extract.py args...]
extract() {
  local name=$1 port=$2 title=$3
  shift 3
  python3 "$HERE/extract.py" --pcap "$WORK/$name.pcap" --port "$port" --out "$HERE/$name" \
    --title "$title" "$@" || die "extract $name failed"
}

# gobgp_conf FILE AS ROUTER_ID LISTEN_PORT NEIGHBOR PEER_AS (active:PORT|passive) FAMILY... [-- EXTRA_NEIGHBOR_TOML]
# (EXTRA_NEIGHBOR_TOML ends up after the last afi-safi; $GOBGP_AFI_EXTRA goes into every afi-safi)
gobgp_conf() {
  local file=$1 as=$2 rid=$3 lport=$4 nbr=$5 peer_as=$6 mode=$7
  shift 7
  local fams=() extra=""
  while [ "$#" -gt 0 ]; do
    if [ "$1" = "--" ]; then
      extra=$2
      break
    fi
    fams+=("$1")
    shift
  done
  {
    echo "[global.config]"
    echo "  as = $as"
    echo "  router-id = \"$rid\""
    echo "  port = $lport"
    echo "  local-address-list = [\"$rid\"]"
    echo "[[neighbors]]"
    echo "  [neighbors.config]"
    echo "    neighbor-address = \"$nbr\""
    echo "    peer-as = $peer_as"
    echo "  [neighbors.transport.config]"
    echo "    local-address = \"$rid\""
    if [ "$mode" = passive ]; then
      echo "    passive-mode = true"
    else
      echo "    remote-port = ${mode#active:}"
    fi
    echo "  [neighbors.timers.config]"
    echo "    connect-retry = 1"
    local f
    for f in "${fams[@]}"; do
      echo "  [[neighbors.afi-safis]]"
      echo "    [neighbors.afi-safis.config]"
      echo "      afi-safi-name = \"$f\""
      [ -n "${GOBGP_AFI_EXTRA:-}" ] && echo "$GOBGP_AFI_EXTRA"
    done
    [ -n "$extra" ] && echo "$extra"
  } >"$file"
}

# wait_gobgp_established API_ADDR NEIGHBOR [SECONDS]
wait_gobgp_established() {
  local api=$1 nbr=$2 secs=${3:-30} i
  for i in $(seq $((secs * 2))); do
    if gobgp -u "$api" neighbor "$nbr" 2>/dev/null | grep -qi 'BGP state = established'; then
      return 0
    fi
    sleep 0.5
  done
  die "session $api <-> $nbr not established (logs in $WORK, rerun with KEEP=1)"
}

GOBGP_VER="gobgpd $(dpkg-query -W -f='${Version}' gobgpd 2>/dev/null)"
FRR_VER="FRR bgpd $(dpkg-query -W -f='${Version}' frr 2>/dev/null)"
EXABGP_VER="ExaBGP $(dpkg-query -W -f='${Version}' exabgp 2>/dev/null)"

# ============================================================== GoBGP as sender
# S = GoBGP 127.0.3.1 (API 127.0.3.1:50051) connects to R = GoBGP 127.0.3.2 port 1791.

gobgp_pair() { # gobgp_pair NAME FAMILY... : start S and R, wait for the session
  local name=$1
  shift
  gobgp_conf "$WORK/$name-s.toml" 64512 127.0.3.1 -1 127.0.3.2 64512 active:1791 "$@"
  gobgp_conf "$WORK/$name-r.toml" 64512 127.0.3.2 1791 127.0.3.1 64512 passive "$@"
  start_bg "$name-r" gobgpd -f "$WORK/$name-r.toml" --api-hosts 127.0.3.2:50051 -l debug
  start_bg "$name-s" gobgpd -f "$WORK/$name-s.toml" --api-hosts 127.0.3.1:50051 -l debug
  sleep 1
  wait_gobgp_established 127.0.3.1 127.0.3.2
}

gobgp_shutdown() { # admin shutdown of S's session: NOTIFICATION cease/2 with a reason
  gobgp -u 127.0.3.1 neighbor 127.0.3.2 shutdown --reason "$1" >/dev/null 2>&1 || die "gobgp neighbor shutdown failed"
  sleep 2
}

scenario_gobgp_vpn() {
  local name=gobgp-vpn S="gobgp -u 127.0.3.1"
  log "$name: GoBGP VPNv4/VPNv6/RTC -> GoBGP"
  capture_start $name 1791
  gobgp_pair $name l3vpn-ipv4-unicast l3vpn-ipv6-unicast rtc
  # R negotiated RTC, so S only sends R the VPN routes whose RTs R asked for (RFC 4684):
  # give R a VRF importing all the RTs used below (R then sends one RTC route per RT)
  gobgp -u 127.0.3.2 vrf add red id 1 rd 64512:99 rt import 64512:1 64512:2 64512:3 192.0.2.1:3 \
    4200000000:4 64512:5 64512:10 export 64512:99 || die "vrf add on R"
  sleep 2
  # VRF with import/export RT: GoBGP originates the RT-Constraint route for its import RT
  $S vrf add blue id 1 rd 64512:10 rt import 64512:10 export 64512:10 || die "vrf add"
  sleep 1
  $S global rib -a vpnv4 add 10.1.1.0/24 label 100 rd 64512:1 rt 64512:1 encap mpls-in-gre nexthop 192.0.2.1 ||
    die "vpnv4 add"
  $S global rib -a vpnv4 add 10.2.2.0/24 label 200 rd 64512:2 rt 64512:2 encap vxlan nexthop 192.0.2.1 med 20 local-pref 200
  $S global rib -a vpnv4 add 10.3.3.0/24 label 300 rd 192.0.2.1:3 rt 64512:3 rt 192.0.2.1:3 nexthop 192.0.2.1 community 64512:77
  $S global rib -a vpnv4 add 10.4.4.4/32 label 1048575 rd 4200000000:4 rt 4200000000:4 nexthop 192.0.2.1 large-community 64512:1:2
  $S global rib -a vpnv6 add 2001:db8:5::/48 label 500 rd 64512:5 rt 64512:5 nexthop 2001:db8::1
  $S vrf blue rib add 10.9.0.0/24 -a ipv4 nexthop 192.0.2.1 || log "warning: vrf rib add failed"
  sleep 2
  $S global rib -a vpnv4 del 10.2.2.0/24 label 200 rd 64512:2 rt 64512:2
  $S global rib -a vpnv6 del 2001:db8:5::/48 label 500 rd 64512:5 rt 64512:5
  sleep 1
  $S vrf del blue
  sleep 2
  gobgp_shutdown "capture done"
  stop_all
  capture_stop
  extract $name 1791 "GoBGP 3.10 session (VPNv4, VPNv6, RT-Constraint): RTC routes from VRFs, VPN routes with RT/encap/label, withdrawals, admin shutdown" \
    --peer "127.0.3.1=S=$GOBGP_VER (sender: VRF blue + VPN routes added with the gobgp CLI)" \
    --peer "127.0.3.2=R=$GOBGP_VER (receiver: VRF red importing RTs 64512:1,2,3,5,10 192.0.2.1:3 4200000000:4, so it sends RTC routes for them)"
}

scenario_gobgp_evpn() {
  local name=gobgp-evpn S="gobgp -u 127.0.3.1 -a evpn"
  log "$name: GoBGP EVPN -> GoBGP"
  capture_start $name 1791
  gobgp_pair $name l2vpn-evpn
  sleep 1
  # type 2 MAC/IP, VXLAN (the VNI goes into the label field)
  $S global rib add macadv aa:bb:cc:00:00:01 10.1.1.5 etag 0 label 5001 rd 64512:1 rt 64512:1 encap vxlan nexthop 192.0.2.1 ||
    die "evpn macadv add"
  # type 2 MAC only (IP 0.0.0.0 = no IP), type-1 (LACP) ESI, MPLS label, no encap community
  $S global rib add macadv aa:bb:cc:00:00:02 0.0.0.0 esi LACP aa:bb:cc:dd:ee:01 1 etag 10 label 3000 rd 64512:1 rt 64512:1 nexthop 192.0.2.1
  # type 2 with an IPv6 address and the router's MAC extended community
  $S global rib add macadv aa:bb:cc:00:00:03 2001:db8::5 etag 0 label 5001 rd 64512:1 rt 64512:1 encap vxlan router-mac aa:bb:cc:ff:ff:ff nexthop 192.0.2.1
  # type 2 with the default-gateway community (GoBGP 3.10 puts that community in twice)
  $S global rib add macadv aa:bb:cc:00:00:04 10.1.1.4 etag 0 label 5001 rd 64512:1 rt 64512:1 default-gateway encap vxlan nexthop 192.0.2.1
  # type 3 inclusive multicast with PMSI tunnel (ingress replication)
  $S global rib add multicast 192.0.2.1 etag 0 rd 64512:1 rt 64512:1 encap vxlan pmsi ingress-repl 5001 192.0.2.1 nexthop 192.0.2.1
  # type 1 Ethernet A-D per ES (max etag), ESI label extended community
  $S global rib add a-d esi LACP aa:bb:cc:dd:ee:01 1 etag 4294967295 label 0 rd 64512:1 rt 64512:1 esi-label 100 nexthop 192.0.2.1
  # type 4 Ethernet Segment (GoBGP adds the ES-Import RT)
  $S global rib add esi 192.0.2.1 esi LACP aa:bb:cc:dd:ee:01 1 rd 64512:1 rt 64512:1 nexthop 192.0.2.1
  # type 5 IP prefix (IPv4 and IPv6)
  $S global rib add prefix 10.5.0.0/24 gw 0.0.0.0 etag 0 label 5005 rd 64512:5 rt 64512:5 encap vxlan router-mac aa:bb:cc:00:00:05 nexthop 192.0.2.1
  $S global rib add prefix 2001:db8:5::/64 gw :: etag 0 label 5005 rd 64512:5 rt 64512:5 encap vxlan router-mac aa:bb:cc:00:00:05 nexthop 192.0.2.1
  sleep 2
  # withdrawals
  $S global rib del macadv aa:bb:cc:00:00:01 10.1.1.5 etag 0 label 5001 rd 64512:1
  $S global rib del multicast 192.0.2.1 etag 0 rd 64512:1
  $S global rib del prefix 10.5.0.0/24 gw 0.0.0.0 etag 0 label 5005 rd 64512:5
  sleep 2
  gobgp_shutdown "capture done"
  stop_all
  capture_stop
  extract $name 1791 "GoBGP 3.10 session (EVPN): route types 1-5, PMSI tunnel, ESI, router MAC, withdrawals, admin shutdown" \
    --peer "127.0.3.1=S=$GOBGP_VER (sender: routes added with the gobgp CLI)" \
    --peer "127.0.3.2=R=$GOBGP_VER (receiver)"
}

scenario_gobgp_unicast() {
  local name=gobgp-unicast S="gobgp -u 127.0.3.1"
  log "$name: GoBGP IPv4/IPv6 unicast + flowspec -> GoBGP"
  capture_start $name 1791
  gobgp_pair $name ipv4-unicast ipv6-unicast ipv4-flowspec
  sleep 1
  $S global rib -a ipv4 add 10.10.0.0/16 nexthop 192.0.2.1 origin igp aspath 64500,64501 med 10 local-pref 150 community 64512:100,no-export large-community 64512:1:1,64512:2:2 aggregator 64500:192.0.2.9 ||
    die "ipv4 add"
  $S global rib -a ipv4 add 10.11.0.0/24 nexthop 192.0.2.1 origin incomplete
  $S global rib -a ipv6 add 2001:db8:10::/48 nexthop 2001:db8::1 community 64512:200
  $S global rib -a ipv4-flowspec add match destination 10.20.0.0/24 protocol tcp destination-port '==80' then rate-limit 1000 ||
    log "warning: flowspec add failed"
  $S global rib -a ipv4-flowspec add match source 10.21.0.0/24 then discard
  sleep 2
  $S global rib -a ipv4 del 10.11.0.0/24
  $S global rib -a ipv6 del 2001:db8:10::/48
  sleep 2
  gobgp_shutdown "capture done"
  stop_all
  capture_stop
  extract $name 1791 "GoBGP 3.10 session (IPv4, IPv6 unicast, IPv4 flowspec): path attributes, communities, withdrawals, admin shutdown" \
    --peer "127.0.3.1=S=$GOBGP_VER (sender: routes added with the gobgp CLI)" \
    --peer "127.0.3.2=R=$GOBGP_VER (receiver)"
}

# ============================================================== ExaBGP as sender
# X = ExaBGP 127.0.3.11 connects to R = GoBGP 127.0.3.12 port 1792. X's routes come from an API
# process that waits until the session is up, then plays a command file (lines "sleep N" or
# ExaBGP API commands). The command files end with "teardown 2" (NOTIFICATION cease/admin
# shutdown): on SIGTERM ExaBGP 4.2 just closes the TCP connection, with no NOTIFICATION.

cat >"$WORK/exa-api.py" <<'PY'
import os, sys, time
cmds, go, done = sys.argv[1], sys.argv[2], sys.argv[3]
while not os.path.exists(go):
    time.sleep(0.1)
for line in open(cmds):
    line = line.strip()
    if not line or line.startswith('#'):
        continue
    if line.startswith('sleep '):
        time.sleep(float(line.split()[1]))
        continue
    sys.stdout.write(line + '\n')
    sys.stdout.flush()
    time.sleep(0.3)
open(done, 'w').close()
while True:
    time.sleep(3600)
PY

# exabgp_run NAME 'FAMILY;...' 'EXTRA NEIGHBOR CONFIG' GOBGP_FAMILY... [-- GOBGP_EXTRA_TOML]
# (X's API commands are read from $WORK/NAME.cmds)
exabgp_run() {
  local name=$1 fams=$2 extra=$3
  shift 3
  gobgp_conf "$WORK/$name-r.toml" 64512 127.0.3.12 1792 127.0.3.11 64512 passive "$@"
  {
    echo "process api {"
    echo "    run /usr/bin/python3 $WORK/exa-api.py $WORK/$name.cmds $WORK/$name.go $WORK/$name.done;"
    echo "    encoder text;"
    echo "}"
    echo "neighbor 127.0.3.12 {"
    echo "    router-id 127.0.3.11;"
    echo "    local-address 127.0.3.11;"
    echo "    local-as 64512;"
    echo "    peer-as 64512;"
    echo "    connect 1792;"
    echo "    family {"
    tr ';' '\n' <<<"$fams" | sed '/^ *$/d; s/^ */        /; s/$/;/'
    echo "    }"
    [ -n "$extra" ] && echo "$extra"
    echo "    api {"
    echo "        processes [ api ];"
    echo "    }"
    echo "}"
  } >"$WORK/$name.conf"
  capture_start "$name" 1792
  start_bg "$name-r" gobgpd -f "$WORK/$name-r.toml" --api-hosts 127.0.3.12:50051 -l debug
  sleep 1
  start_bg "$name-x" env exabgp.daemon.user=root exabgp.daemon.daemonize=false exabgp.api.cli=false \
    exabgp.tcp.bind= exabgp.log.destination="$WORK/$name-exabgp.log" exabgp "$WORK/$name.conf"
  wait_gobgp_established 127.0.3.12 127.0.3.11
  sleep 1
  if [ -n "${EXA_R_CMD:-}" ]; then eval "$EXA_R_CMD" || log "warning: $EXA_R_CMD failed"; fi
  touch "$WORK/$name.go"
  local i
  for i in $(seq 120); do
    [ -e "$WORK/$name.done" ] && break
    sleep 0.5
  done
  [ -e "$WORK/$name.done" ] || die "$name: ExaBGP API script did not finish"
  sleep 0.5
}

exabgp_peers=(--until-notification --peer "127.0.3.11=X=$EXABGP_VER (sender: routes from its text API)"
  --peer "127.0.3.12=R=$GOBGP_VER (receiver)")

scenario_exabgp_unicast() {
  local name=exabgp-unicast
  log "$name: ExaBGP IPv4/IPv6 unicast with path attributes -> GoBGP"
  cat >"$WORK/$name.cmds" <<'CMDS'
announce route 10.20.0.0/16 next-hop 192.0.2.11 origin igp as-path [ 64500 64501 ] med 50 local-preference 120 community [ 64512:100 no-export ] large-community [ 64512:1:1 4200000000:2:3 ]
announce route 10.21.1.0/24 next-hop 192.0.2.11 origin egp atomic-aggregate aggregator ( 64500:192.0.2.9 ) community [ 65535:65281 ]
announce route 10.22.0.0/24 next-hop 192.0.2.11 as-path [ 64500 4200000001 ] originator-id 192.0.2.99 cluster-list [ 192.0.2.98 192.0.2.97 ]
announce route 10.23.0.0/24 next-hop 192.0.2.11 origin incomplete extended-community [ target:64512:1 origin:64512:2 ]
announce route 10.24.0.0/24 next-hop 192.0.2.11 attribute [ 0xf0 0xc0 0xdeadbeef ]
announce route 2001:db8:20::/48 next-hop 2001:db8::11 community [ 64512:6 ] med 7
announce attributes next-hop 192.0.2.11 med 0 nlri 10.25.0.0/24 10.25.1.0/24 10.25.2.0/25 10.25.3.128/25 10.26.0.0/15 0.0.0.0/0
sleep 1
withdraw route 10.21.1.0/24 next-hop 192.0.2.11
withdraw route 2001:db8:20::/48 next-hop 2001:db8::11
withdraw attributes next-hop 192.0.2.11 nlri 10.25.0.0/24 10.25.1.0/24
sleep 1
neighbor 127.0.3.12 teardown 2
CMDS
  exabgp_run $name "ipv4 unicast; ipv6 unicast" "" ipv4-unicast ipv6-unicast
  stop_all
  capture_stop
  extract $name 1792 "ExaBGP 4.2 session (IPv4, IPv6 unicast): AS_PATH with 4-octet ASNs, MED, LOCAL_PREF, communities, large and extended communities, aggregator, originator/cluster list, an unknown optional transitive attribute 0xf0, withdrawals, stop" \
    "${exabgp_peers[@]}"
}

scenario_exabgp_vpn() {
  local name=exabgp-vpn
  log "$name: ExaBGP VPNv4/VPNv6/labeled unicast -> GoBGP"
  cat >"$WORK/$name.cmds" <<'CMDS'
announce route 10.30.0.0/24 rd 64512:30 label 300 next-hop 192.0.2.11 extended-community [ target:64512:30 0x030c00000000000b ]
announce route 10.31.0.0/24 rd 192.0.2.11:31 label [ 310 311 ] next-hop 192.0.2.11 local-preference 200 extended-community [ target:64512:31 target:192.0.2.11:31 ]
announce route 10.32.0.0/24 rd 4200000000:32 label 320 next-hop 192.0.2.11 extended-community [ target:4200000000:32 ]
announce route 2001:db8:33::/48 rd 64512:33 label 330 next-hop 2001:db8::11 extended-community [ target:64512:33 ]
announce route 10.40.0.0/24 label 400 next-hop 192.0.2.11
announce route 10.41.0.0/24 label [ 410 411 ] next-hop 192.0.2.11
sleep 1
withdraw route 10.30.0.0/24 rd 64512:30 label 300 next-hop 192.0.2.11
withdraw route 10.40.0.0/24 label 400 next-hop 192.0.2.11
sleep 1
neighbor 127.0.3.12 teardown 2
CMDS
  exabgp_run $name "ipv4 mpls-vpn; ipv6 mpls-vpn; ipv4 nlri-mpls" "" l3vpn-ipv4-unicast l3vpn-ipv6-unicast ipv4-labelled-unicast
  stop_all
  capture_stop
  extract $name 1792 "ExaBGP 4.2 session (VPNv4, VPNv6, IPv4 labeled unicast): RDs of type 0/1/2, label stacks, RTs, encapsulation community given as raw hex, withdrawals, stop" \
    "${exabgp_peers[@]}"
}

scenario_exabgp_flowspec() {
  local name=exabgp-flowspec
  log "$name: ExaBGP flowspec -> GoBGP"
  cat >"$WORK/$name.cmds" <<'CMDS'
announce flow route { match { source 10.50.0.1/32; destination 10.50.0.2/32; destination-port =3128; protocol tcp; } then { discard; } }
announce flow route { match { source 10.51.0.0/24; destination-port [ >8080&<8088 =3128 ]; source-port >1024; protocol [ udp tcp ]; } then { rate-limit 9600; } }
announce flow route { match { destination 10.52.0.0/24; packet-length [ >200&<300 ]; fragment [ last-fragment ]; } then { redirect 65500:12345; } }
announce flow route { match { destination 10.53.0.0/24; tcp-flags [ syn rst&fin&!=push ]; } then { mark 10; } }
announce flow route { match { source 2001:db8:54::/48/0; next-header udp; } then { discard; } }
sleep 1
withdraw flow route { match { source 10.50.0.1/32; destination 10.50.0.2/32; destination-port =3128; protocol tcp; } }
sleep 1
neighbor 127.0.3.12 teardown 2
CMDS
  exabgp_run $name "ipv4 flow; ipv6 flow" "" ipv4-flowspec ipv6-flowspec
  stop_all
  capture_stop
  extract $name 1792 "ExaBGP 4.2 session (IPv4 and IPv6 flowspec): match components, traffic actions as extended communities, withdrawal, stop" \
    "${exabgp_peers[@]}"
}

scenario_exabgp_addpath() {
  local name=exabgp-addpath
  log "$name: ExaBGP ADD-PATH (IPv4 unicast, VPNv4) <-> GoBGP"
  cat >"$WORK/$name.cmds" <<'CMDS'
announce route 10.60.0.0/24 path-information 1 next-hop 192.0.2.11 med 10
announce route 10.60.0.0/24 path-information 2 next-hop 192.0.2.12 med 20
announce route 10.61.0.0/24 path-information 0.0.0.7 next-hop 192.0.2.11
announce route 10.62.0.0/24 rd 64512:62 label 620 path-information 5 next-hop 192.0.2.11 extended-community [ target:64512:62 ]
sleep 1
withdraw route 10.60.0.0/24 path-information 1 next-hop 192.0.2.11
sleep 1
neighbor 127.0.3.12 teardown 2
CMDS
  EXA_R_CMD="gobgp -u 127.0.3.12 global rib -a ipv4 add 10.63.0.0/24 nexthop 192.0.2.12 >/dev/null" \
    exabgp_run $name "ipv4 unicast; ipv4 mpls-vpn" "    capability {
        add-path send/receive;
    }
    add-path {
        ipv4 unicast;
        ipv4 mpls-vpn;
    }" l3vpn-ipv4-unicast ipv4-unicast -- "    [neighbors.afi-safis.add-paths.config]
      receive = true
      send-max = 4"
  stop_all
  capture_stop
  extract $name 1792 "ExaBGP 4.2 session with ADD-PATH (RFC 7911) for IPv4 unicast (and offered for VPNv4): NLRI with path identifiers, withdrawal of one path, stop" \
    "${exabgp_peers[@]}" --decode-flags="--add-path ipv4-unicast"
}

# ============================================================== FRR as sender
# FRR's bgpd runs alone: no zebra (-Z), no FIB (-n), as root (-S), vty on a unix socket in $WORK.

# frr_start NAME LISTEN_ADDR LISTEN_PORT (config in $WORK/NAME.conf)
frr_start() {
  local name=$1 addr=$2 port=$3
  mkdir -p "$WORK/$name-vty"
  /usr/lib/frr/bgpd -C -f "$WORK/$name.conf" -Z -n -S >"$WORK/$name-dryrun.log" 2>&1 ||
    die "$name: FRR config check failed: $(cat "$WORK/$name-dryrun.log")"
  start_bg "$name-frr" /usr/lib/frr/bgpd -f "$WORK/$name.conf" -l "$addr" -p "$port" -Z -n -S -P 0 \
    --vty_socket "$WORK/$name-vty" -i "$WORK/$name-vty/bgpd.pid" --log stdout
}

frr_vtysh() { # frr_vtysh NAME COMMAND...
  local name=$1
  shift
  local args=() c
  for c in "$@"; do args+=(-c "$c"); done
  vtysh --vty_socket "$WORK/$name-vty" -d bgpd "${args[@]}" || log "warning: vtysh failed: ${*: -1}"
}

# FRR as route reflector: GoBGP A (127.0.3.22) sends VPNv4 + EVPN routes to FRR (127.0.3.21,
# port 1793), FRR reflects them to GoBGP C (127.0.3.23, port 1794). Captured: FRR <-> C.
scenario_frr_rr() {
  local name=frr-rr A="gobgp -u 127.0.3.22"
  log "$name: GoBGP -> FRR route reflector -> GoBGP (VPNv4, EVPN)"
  cat >"$WORK/$name.conf" <<'CONF'
frr defaults traditional
hostname rr-frr
log stdout informational
!
router bgp 64512
 bgp router-id 127.0.3.21
 bgp cluster-id 127.0.3.21
 no bgp default ipv4-unicast
 no bgp network import-check
 bgp graceful-restart
 bgp long-lived-graceful-restart stale-time 300
 neighbor 127.0.3.22 remote-as 64512
 neighbor 127.0.3.22 update-source 127.0.3.21
 neighbor 127.0.3.22 passive
 neighbor 127.0.3.23 remote-as 64512
 neighbor 127.0.3.23 update-source 127.0.3.21
 neighbor 127.0.3.23 port 1794
 neighbor 127.0.3.23 timers connect 1
 !
 address-family ipv4 vpn
  neighbor 127.0.3.22 activate
  neighbor 127.0.3.22 route-reflector-client
  neighbor 127.0.3.23 activate
  neighbor 127.0.3.23 route-reflector-client
  neighbor 127.0.3.23 addpath-tx-all-paths
 exit-address-family
 !
 address-family l2vpn evpn
  neighbor 127.0.3.22 activate
  neighbor 127.0.3.22 route-reflector-client
  neighbor 127.0.3.23 activate
  neighbor 127.0.3.23 route-reflector-client
 exit-address-family
exit
!
CONF
  gobgp_conf "$WORK/$name-a.toml" 64512 127.0.3.22 -1 127.0.3.21 64512 active:1793 l3vpn-ipv4-unicast l2vpn-evpn
  # C does graceful restart (so both send End-of-RIB) and takes ADD-PATH for VPNv4 (FRR then
  # sends path identifiers there), not for EVPN
  GOBGP_AFI_EXTRA="    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true" \
    gobgp_conf "$WORK/$name-c.toml" 64512 127.0.3.23 1794 127.0.3.21 64512 passive l2vpn-evpn l3vpn-ipv4-unicast \
    -- "    [neighbors.afi-safis.add-paths.config]
      receive = true
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = 120"
  capture_start $name 1794
  start_bg "$name-c" gobgpd -f "$WORK/$name-c.toml" --api-hosts 127.0.3.23:50051 -l debug
  frr_start $name 127.0.3.21 1793
  start_bg "$name-a" gobgpd -f "$WORK/$name-a.toml" --api-hosts 127.0.3.22:50051 -l debug
  wait_gobgp_established 127.0.3.23 127.0.3.21
  wait_gobgp_established 127.0.3.22 127.0.3.21
  sleep 3 # let FRR send its End-of-RIB markers first
  # next hops must not be in 127/8: FRR treats them as martians (withdraws the route)
  $A global rib -a vpnv4 add 10.1.1.0/24 label 100 rd 64512:1 rt 64512:1 encap mpls-in-gre nexthop 192.0.2.22 ||
    die "vpnv4 add on A"
  $A global rib -a vpnv4 add 10.2.2.0/24 label 200 rd 64512:2 rt 64512:2 encap vxlan nexthop 192.0.2.22 med 5
  $A global rib -a evpn add macadv aa:bb:cc:00:00:01 10.1.1.5 etag 0 label 5001 rd 64512:1 rt 64512:1 encap vxlan nexthop 192.0.2.22
  $A global rib -a evpn add multicast 192.0.2.22 etag 0 rd 64512:1 rt 64512:1 encap vxlan pmsi ingress-repl 5001 192.0.2.22 nexthop 192.0.2.22
  $A global rib -a evpn add prefix 10.5.0.0/24 gw 0.0.0.0 etag 0 label 5005 rd 64512:5 rt 64512:5 encap vxlan router-mac aa:bb:cc:00:00:05 nexthop 192.0.2.22
  sleep 4 # FRR holds updates for ~1 s (update-group coalesce timer)
  $A global rib -a vpnv4 del 10.2.2.0/24 label 200 rd 64512:2 rt 64512:2
  $A global rib -a evpn del macadv aa:bb:cc:00:00:01 10.1.1.5 etag 0 label 5001 rd 64512:1
  sleep 4
  frr_vtysh $name "configure terminal" "router bgp 64512" "neighbor 127.0.3.23 shutdown message capture done"
  sleep 2
  stop_all
  capture_stop
  extract $name 1794 "FRR 8.4 bgpd as route reflector (VPNv4 with ADD-PATH towards C, EVPN types 2/3/5): OPEN with GR/LLGR/ADD-PATH/extended message, End-of-RIB, reflected routes with ORIGINATOR_ID/CLUSTER_LIST, withdrawals, admin shutdown with a message" \
    --peer "127.0.3.21=F=$FRR_VER (route reflector; its client A = gobgpd at 127.0.3.22 injects the routes)" \
    --peer "127.0.3.23=C=$GOBGP_VER (route reflector client, receives; ADD-PATH receive for VPNv4)" \
    --decode-flags="--add-path ipv4-vpn"
}

# FRR eBGP speaker (AS 4200000001, 127.0.3.31) originates IPv4/IPv6 unicast and VPNv4 routes
# from its config and sends them to GoBGP R (AS 64512, 127.0.3.32, port 1795).
scenario_frr_ebgp() {
  local name=frr-ebgp
  log "$name: FRR eBGP (4-octet AS) IPv4/IPv6/VPNv4 -> GoBGP"
  cat >"$WORK/$name.conf" <<'CONF'
frr defaults traditional
hostname ebgp-frr
log stdout informational
!
! route-maps first: a "network ... route-map X" read before X exists stays denied
route-map SET1 permit 10
 set community 64512:100 64512:200
 set large-community 4200000001:1:1 64512:2:2
 set extcommunity rt 64512:70
 set metric 70
 set origin egp
 set as-path prepend 65000 4200000001
exit
!
route-map SET2 permit 10
 set community blackhole
exit
!
route-map SETVPN permit 10
 set extcommunity rt 64512:73 4200000001:73
exit
!
route-map NH4 permit 10
 set ip next-hop 192.0.2.31
exit
!
router bgp 4200000001
 bgp router-id 127.0.3.31
 no bgp default ipv4-unicast
 no bgp network import-check
 no bgp ebgp-requires-policy
 neighbor 127.0.3.32 remote-as 64512
 neighbor 127.0.3.32 update-source 127.0.3.31
 neighbor 127.0.3.32 port 1795
 neighbor 127.0.3.32 timers connect 1
 !
 address-family ipv4 unicast
  network 10.70.0.0/16 route-map SET1
  network 10.71.0.0/24
  network 10.72.0.0/24 route-map SET2
  network 10.80.1.0/24
  network 10.80.2.0/24
  aggregate-address 10.80.0.0/16 as-set summary-only
  neighbor 127.0.3.32 activate
  neighbor 127.0.3.32 route-map NH4 out
 exit-address-family
 !
 address-family ipv6 unicast
  network 2001:db8:70::/48
  neighbor 127.0.3.32 activate
 exit-address-family
 !
 address-family ipv4 vpn
  network 10.73.0.0/24 rd 4200000001:73 label 730 route-map SETVPN
  network 10.74.0.0/24 rd 192.0.2.31:74 label 740 route-map SETVPN
  neighbor 127.0.3.32 activate
 exit-address-family
exit
!
CONF
  gobgp_conf "$WORK/$name-r.toml" 64512 127.0.3.32 1795 127.0.3.31 4200000001 passive ipv4-unicast ipv6-unicast l3vpn-ipv4-unicast
  capture_start $name 1795
  start_bg "$name-r" gobgpd -f "$WORK/$name-r.toml" --api-hosts 127.0.3.32:50051 -l debug
  frr_start $name 127.0.3.31 0
  wait_gobgp_established 127.0.3.32 127.0.3.31
  sleep 5
  frr_vtysh $name "configure terminal" "router bgp 4200000001" "address-family ipv4 unicast" "no network 10.71.0.0/24"
  frr_vtysh $name "configure terminal" "router bgp 4200000001" "address-family ipv6 unicast" "no network 2001:db8:70::/48"
  frr_vtysh $name "configure terminal" "router bgp 4200000001" "address-family ipv4 vpn" \
    "no network 10.74.0.0/24 rd 192.0.2.31:74 label 740"
  sleep 4
  frr_vtysh $name "configure terminal" "router bgp 4200000001" "neighbor 127.0.3.32 shutdown message capture done"
  sleep 2
  stop_all
  capture_stop
  extract $name 1795 "FRR 8.4 bgpd eBGP from 4-octet AS 4200000001 (IPv4, IPv6 unicast, VPNv4 from config): AS_TRANS in OPEN, AS_PATH prepend, communities, large/extended communities, MED, origin, aggregate with AS_SET, IPv6 next hop of an IPv4 session, withdrawals, admin shutdown with a message" \
    --peer "127.0.3.31=F=$FRR_VER (eBGP speaker, AS 4200000001, routes from its config)" \
    --peer "127.0.3.32=R=$GOBGP_VER (receiver, AS 64512)" --decode-flags="--ebgp"
}

# ============================================================== the original bagpipe-bgp
# Not a live capture: converts the messages recorded from bagpipe-bgp 17.0.0 during the
# reference research (shared/reference/bagpipe-ref/capture/) into the same .hex format.
scenario_bagpipe_original() {
  local ref=${BAGPIPE_REF_CAPTURE:-$HERE/../../../../shared/reference/bagpipe-ref/capture}
  log "bagpipe-original: converting $ref"
  [ -d "$ref" ] || die "no $ref (set BAGPIPE_REF_CAPTURE)"
  python3 "$HERE/import_bagpipe_ref.py" "$ref" "$HERE" || die "import_bagpipe_ref.py failed"
}

# ============================================================== scenarios

ALL=(gobgp_vpn gobgp_evpn gobgp_unicast exabgp_unicast exabgp_vpn exabgp_flowspec exabgp_addpath frr_rr frr_ebgp bagpipe_original)
if [ "$#" -gt 0 ]; then
  todo=("$@")
else
  todo=("${ALL[@]}")
fi
for s in "${todo[@]}"; do
  s=${s//-/_}
  declare -F "scenario_$s" >/dev/null || die "unknown scenario $s (known: ${ALL[*]})"
  "scenario_$s"
done
log "done"
