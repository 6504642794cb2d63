#!/bin/bash
# The VPN service end to end with GoBGP 3.10 (Debian's gobgpd) as the route reflector: the
# variant of tests/integration/vpn_fabric.sh where the RR is not bagpipe-bgp.
#
#   gobgpd RR 127.0.78.1: passive, route-reflector-clients, families l3vpn-ipv4-unicast,
#     l2vpn-evpn, rtc; no graceful restart (so GoBGP sends no End-of-RIB); hold time 6 s.
#   bagpipe-bgp compute nodes A 127.0.78.2, B .3, C .4: each peers only with the RR,
#     enable_rtc = True, hold time 6 s, REST API + looking glass on ADDR:18278, dummy
#     dataplane drivers. VM ports are attached over REST.
#
# Checks (everything observed through each node's looking glass, plus GoBGP's RIB):
#   1. E-VPN: ports on A and B in RT 64512:513 -> each dummy driver holds the other's MAC
#      (remote PE, VNI = the other's instance VNI, encap:VXLAN) and a BUM (ingress
#      replication) entry. GoBGP holds the RTC routes of A, B and C. RTC through GoBGP: C,
#      which imports only 64512:999, receives none of the 64512:513 routes (and GoBGP's
#      adj-out towards C has none).
#   2. IP-VPN: ports on A and B in RT 64512:512 -> each holds the other's /32 with the port's
#      label, the right remote PE and encap:MPLS. RTC interest change: C attaches a port in
#      RT 64512:512 (new RTC route) -> GoBGP sends C the /32s it holds, B gets C's /32; C
#      detaches (RTC route withdrawn) -> GoBGP withdraws them from C (its adj-out towards C
#      and C's Loc-RIB hold none), B removes C's /32.
#   3. export RT of A's IP-VPN port changed to 64512:777 -> B loses 10.0.0.1/32 (GoBGP must
#      withdraw it: B's RTC no longer matches); changed back -> B gets it again.
#   4. E-VPN detach on A -> B removes A's MAC and BUM entry.
#   5. B frozen (SIGSTOP, its TCP session stays open): GoBGP's hold timer expires and A
#      removes B's routes, no sooner than hold - keepalive and within the hold time (+2 s
#      polling slack). B resumed (SIGCONT): it reconnects, and A and B get each other's
#      routes back.
#   6. A killed (SIGKILL) -> B removes A's routes within the hold time. On loopback the kernel
#      closes A's socket, so GoBGP sees the session go down at once ("read-failed"); the hold
#      timer itself is what step 5 checks.
#
# GoBGP quirks that matter here (see docs/interop.md): without graceful restart GoBGP 3.10
# sends no End-of-RIB, not even for RTC. bagpipe-bgp holds its VPN routes back from an RTC
# peer until that peer's RTC End-of-RIB (RFC 4684 section 6), bounded by 5 s, so after every
# session (re)establishment a node's routes reach GoBGP 5 s late ("no RTC End-of-RIB after
# 5 s" in its log); the timeouts here allow for it. GoBGP sends its clients no default RTC
# route, only the other clients' RTC routes, so a node sends a VPN route to GoBGP only when
# some node imports one of its RTs (with RT 64512:777 nobody does: A withdraws it).
#
# Loopback only, 127.0.78.0/24 (gobgpd gRPC API on 127.0.78.1:50051). Every process is
# stopped by PID (lib/peers.sh). Temp dir under ${TMPDIR:-/tmp}; PEERS_KEEP=1 keeps it.
# Exit 0 pass, 1 fail. A missing gobgpd, curl or bagpipe-bgp is a failure, not a skip.
#   BAGPIPE_BUILD_DIR=build tests/interop/vpn_gobgp_rr.sh
set -u -o pipefail
D=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/interop/lib/peers.sh
. "$D/lib/peers.sh"
# shellcheck source=tests/interop/lib/vpn_rest.sh
. "$D/lib/vpn_rest.sh"

NET=127.0.78
RR=$NET.1 A=$NET.2 B=$NET.3 C=$NET.4
HOLD=6 KEEPALIVE=2
VPN_API_PORT=18278

peers_init vpn_gobgp_rr
[ -x "$BAGPIPE_BIN" ] || die "bagpipe-bgp not built: $BAGPIPE_BIN"
command -v gobgpd >/dev/null || die "gobgpd not installed (Debian package gobgpd)"
command -v curl >/dev/null || die "curl is required"

peer_start gobgp rr "$RR" neighbors="$A,$B,$C" families=vpnv4,evpn,rtc hold=$HOLD ||
  die "gobgpd RR did not start: $(tail -5 "$PEERS_DIR/$RR/gobgpd.log")"
for n in $A $B $C; do
  peer_start bagpipe client "$n" neighbors="$RR" families=vpnv4,evpn,rtc hold=$HOLD \
    api_port=$VPN_API_PORT dataplane=dummy || die "bagpipe-bgp $n did not start"
done
up=1
for n in $A $B $C; do
  peer_wait_established "$RR" "$n" 40 || up=0
  vpn_wait "node $n Established with the GoBGP RR (its looking glass)" "$n" \
    "bgp/peers/$RR/protocol/state" "j == 'Established'" 20 || up=0
done
[ $up = 1 ] || die "sessions not Established: $(tail -5 "$PEERS_DIR/$A/bagpipe.log")"
check "hold time $HOLD negotiated (GoBGP says so for A)" test "$(peer_hold_time "$RR" "$A")" = $HOLD

nodelg() { echo "vpns/instances/$1/dataplane"; }

# ------------------------------------------------------------------ 1. E-VPN + RTC
MAC_A=52:54:00:00:0a:01 MAC_B=52:54:00:00:0b:01
EVPN_A='{"vpn_instance_id": "net1", "vpn_type": "evpn", "mac_address": "'$MAC_A'",
  "ip_address": "10.0.1.1/24", "gateway_ip": "10.0.1.254", "local_port": {"linuxif": "tap-a1"},
  "import_rt": ["64512:513"], "export_rt": ["64512:513"]}'
EVPN_B='{"vpn_instance_id": "net1", "vpn_type": "evpn", "mac_address": "'$MAC_B'",
  "ip_address": "10.0.1.2/24", "gateway_ip": "10.0.1.254", "local_port": "tap-b1",
  "import_rt": "64512:513", "export_rt": "64512:513"}'
EVPN_C='{"vpn_instance_id": "other", "vpn_type": "evpn", "mac_address": "52:54:00:00:0c:01",
  "local_port": "tap-c1", "import_rt": ["64512:999"], "export_rt": ["64512:999"]}'
vpn_attach "$A" "$EVPN_A"
vpn_attach "$B" "$EVPN_B"
vpn_attach "$C" "$EVPN_C"
VNI_A=$(vpn_get "$A" vpns/instances/net1 "j['instance_dataplane_id']") || VNI_A=-1
VNI_B=$(vpn_get "$B" vpns/instances/net1 "j['instance_dataplane_id']") || VNI_B=-1

# evpn_remote MAC PE VNI / evpn_bum PE VNI: Python expressions on a dataplane JSON
evpn_remote() {
  echo "any(r['mac'] == '$1' and r['remote_pe'] == '$2' and r['vni'] == $3
            and 'encap:VXLAN' in r['encaps'] for r in j['remote_endpoints'])"
}
evpn_bum() { echo "any(b['remote_pe'] == '$1' and b['vni'] == $2 for b in j['bum_endpoints'])"; }

# (15 s: the nodes' VPN routes wait 5 s after session up for an RTC End-of-RIB GoBGP never sends)
vpn_wait "E-VPN: B programs A's MAC (remote PE $A, VNI $VNI_A, VXLAN)" "$B" "$(nodelg net1)" \
  "$(evpn_remote $MAC_A "$A" "$VNI_A")" 15
vpn_wait "E-VPN: B has a BUM entry for A (ingress replication, VNI $VNI_A)" "$B" "$(nodelg net1)" \
  "$(evpn_bum "$A" "$VNI_A")"
vpn_wait "E-VPN: A programs B's MAC (remote PE $B, VNI $VNI_B, VXLAN)" "$A" "$(nodelg net1)" \
  "$(evpn_remote $MAC_B "$B" "$VNI_B")" 15
vpn_wait "E-VPN: A has a BUM entry for B (VNI $VNI_B)" "$A" "$(nodelg net1)" "$(evpn_bum "$B" "$VNI_B")"
vpn_http GET "$(vpn_api "$B")/looking-glass/$(nodelg net1)" >/dev/null
vpn_check "E-VPN: B's dummy driver holds exactly one remote MAC and one BUM entry (A's)" \
  "len(j['remote_endpoints']) == 1 and len(j['bum_endpoints']) == 1"

# GoBGP's view: RTC routes from the three nodes (prefix "ASN:RT" in its JSON)
gobgp_rtc_json() { _gobgp "$RR" global rib -a rtc -j 2>/dev/null; }
# shellcheck disable=SC2317  # called through wait_until
_rtc_has() { # _rtc_has NEIGHBOR RT
  gobgp_rtc_json | jq -e --arg n "$1" --arg rt "$2" \
    '[.[][] | select(."neighbor-ip" == $n) | select(.nlri.prefix | tostring | endswith($rt))] | length > 0' >/dev/null
}
if wait_until 10 _rtc_has "$A" 64512:513 && wait_until 5 _rtc_has "$B" 64512:513 &&
  wait_until 5 _rtc_has "$C" 64512:999; then
  ok "GoBGP RR holds the RTC routes of A and B (64512:513) and of C (64512:999)"
else
  bad "GoBGP RR's RTC RIB: $(gobgp_rtc_json | head -c 800)"
fi
# gobgp_adj_out_rt NEIGHBOR evpn|vpnv4 RT: routes GoBGP sends NEIGHBOR that carry route target RT
gobgp_adj_out_rt() {
  _gobgp "$RR" neighbor "$1" adj-out -a "$2" -j 2>/dev/null | jq --arg rt "$3" \
    '[.[][] | select([.attrs[] | select(.type == 16) | .value[] | .value?] | index($rt))] | length'
}
sleep 1 # C must *not* receive: give GoBGP the time it took to send to B once more
vpn_http GET "$(vpn_api "$C")/looking-glass/bgp/routes" >/dev/null
# C's Loc-RIB: its own E-VPN routes (source local) and the RTC routes GoBGP reflects; no VPN
# route from another node
c_vpn_routes="[list(r.values())[0] for k, v in j.items() if not k.startswith('ipv4/rtc') for r in v]"
vpn_check "RTC: C (imports 64512:999 only) received none of 64512:513's routes" \
  "all('target:64512:513' not in json.dumps(r) for r in $c_vpn_routes)"
vpn_check "RTC: C's VPN routes are all its own (source local)" \
  "all(r['source']['id'] == 'local' for r in $c_vpn_routes)"
vpn_http GET "$(vpn_api "$C")/looking-glass/$(nodelg other)" >/dev/null
vpn_check "RTC: C's dummy driver has no remote endpoint and no BUM entry" \
  "j['remote_endpoints'] == [] and j['bum_endpoints'] == []"
check "GoBGP's adj-out towards B holds A's two E-VPN routes (type 2 + type 3, RT 64512:513)" \
  test "$(gobgp_adj_out_rt "$B" evpn 64512:513)" = 2
check "RTC: GoBGP's adj-out towards C holds no 64512:513 E-VPN route" \
  test "$(gobgp_adj_out_rt "$C" evpn 64512:513)" = 0

# ------------------------------------------------------------------ 2. IP-VPN
IPVPN_A='{"vpn_instance_id": "vrf1", "vpn_type": "ipvpn", "mac_address": "52:54:00:00:0a:02",
  "ip_address": "10.0.0.1/24", "gateway_ip": "10.0.0.254", "local_port": {"linuxif": "tap-a2"},
  "import_rt": ["64512:512"], "export_rt": ["64512:512"]}'
IPVPN_B='{"vpn_instance_id": "vrf1", "vpn_type": "ipvpn", "mac_address": "52:54:00:00:0b:02",
  "ip_address": "10.0.0.2/24", "gateway_ip": "10.0.0.254", "local_port": {"linuxif": "tap-b2"},
  "import_rt": ["64512:512"], "export_rt": ["64512:512"]}'
vpn_attach "$A" "$IPVPN_A"
vpn_attach "$B" "$IPVPN_B"
LABEL_A=$(vpn_get "$A" vpns/instances/vrf1/ports "j['tap-a2']['endpoints'][0]['label']") || LABEL_A=-1
LABEL_B=$(vpn_get "$B" vpns/instances/vrf1/ports "j['tap-b2']['endpoints'][0]['label']") || LABEL_B=-1
ipvpn_remote() { # PREFIX PE LABEL
  echo "any(r['prefix'] == '$1' and r['remote_pe'] == '$2' and r['label'] == $3
            and 'encap:MPLS' in r['encaps'] for r in j['remote_endpoints'])"
}
ipvpn_absent() { echo "not any(r['prefix'] == '$1' for r in j['remote_endpoints'])"; }
vpn_wait "IP-VPN: B programs 10.0.0.1/32 via $A, label $LABEL_A, MPLS" "$B" "$(nodelg vrf1)" \
  "$(ipvpn_remote 10.0.0.1/32 "$A" "$LABEL_A")"
vpn_wait "IP-VPN: A programs 10.0.0.2/32 via $B, label $LABEL_B, MPLS" "$A" "$(nodelg vrf1)" \
  "$(ipvpn_remote 10.0.0.2/32 "$B" "$LABEL_B")"
vpn_http GET "$(vpn_api "$C")/looking-glass/bgp/routes" >/dev/null
vpn_check "RTC: C received none of 64512:512's IP-VPN routes either" \
  "all(r['source']['id'] == 'local' and 'target:64512:512' not in json.dumps(r) for r in $c_vpn_routes)"

# RTC interest change: C joins vrf1 (an RTC route for 64512:512 -> GoBGP must send it the
# routes it already holds), then leaves (RTC route withdrawn -> GoBGP must withdraw them)
IPVPN_C='{"vpn_instance_id": "vrf1", "vpn_type": "ipvpn", "mac_address": "52:54:00:00:0c:02",
  "ip_address": "10.0.0.3/24", "gateway_ip": "10.0.0.254", "local_port": {"linuxif": "tap-c2"},
  "import_rt": ["64512:512"], "export_rt": ["64512:512"]}'
vpn_attach "$C" "$IPVPN_C"
LABEL_C=$(vpn_get "$C" vpns/instances/vrf1/ports "j['tap-c2']['endpoints'][0]['label']") || LABEL_C=-1
vpn_wait "RTC: C imports 64512:512 now -> C programs A's and B's /32" "$C" "$(nodelg vrf1)" \
  "$(ipvpn_remote 10.0.0.1/32 "$A" "$LABEL_A") and $(ipvpn_remote 10.0.0.2/32 "$B" "$LABEL_B")" 15
vpn_wait "RTC: C's /32 reaches B (label $LABEL_C)" "$B" "$(nodelg vrf1)" \
  "$(ipvpn_remote 10.0.0.3/32 "$C" "$LABEL_C")" 15
vpn_detach "$C" "$IPVPN_C"
vpn_wait "C detached: B removes C's /32" "$B" "$(nodelg vrf1)" "$(ipvpn_absent 10.0.0.3/32)"
# shellcheck disable=SC2317  # called through wait_until
_no_adj_out_512() { [ "$(gobgp_adj_out_rt "$C" vpnv4 64512:512)" = 0 ]; }
check "RTC: C no longer imports 64512:512 -> GoBGP's adj-out towards C drops A's and B's /32" \
  wait_until 10 _no_adj_out_512
vpn_wait "RTC: ... and C's Loc-RIB holds no VPN route from another node (GoBGP withdrew them)" "$C" \
  bgp/routes "all(r['source']['id'] == 'local' for r in $c_vpn_routes)"

# ------------------------------------------------------------------ 3. export RT change
vpn_attach "$A" "${IPVPN_A/\"export_rt\": \[\"64512:512\"\]/\"export_rt\": [\"64512:777\"]}"
vpn_wait "export RT of A's port -> 64512:777: B no longer imports 10.0.0.1/32" "$B" "$(nodelg vrf1)" \
  "$(ipvpn_absent 10.0.0.1/32)"
vpn_attach "$A" "$IPVPN_A"
vpn_wait "export RT back to 64512:512: B imports 10.0.0.1/32 again" "$B" "$(nodelg vrf1)" \
  "$(ipvpn_remote 10.0.0.1/32 "$A" "$LABEL_A")"

# ------------------------------------------------------------------ 4. detach
vpn_detach "$A" "$EVPN_A"
vpn_wait "E-VPN detach on A: B removes A's MAC and BUM entry" "$B" "$(nodelg net1)" \
  "not any(r['mac'] == '$MAC_A' for r in j['remote_endpoints'])
   and not any(b['remote_pe'] == '$A' for b in j['bum_endpoints'])"
vpn_http GET "$(vpn_api "$B")/looking-glass/$(nodelg vrf1)" >/dev/null
vpn_check "E-VPN detach on A: B still holds A's IP-VPN /32" "$(ipvpn_remote 10.0.0.1/32 "$A" "$LABEL_A")"
vpn_http GET "$(vpn_api "$A")/looking-glass/vpns/instances" >/dev/null
vpn_check "E-VPN detach of A's last port in net1: the instance is gone on A" "[i['id'] for i in j] == ['vrf1']"
# back, for step 5: a new instance, so a new VNI may be allocated
vpn_attach "$A" "$EVPN_A"
VNI_A=$(vpn_get "$A" vpns/instances/net1 "j['instance_dataplane_id']") || VNI_A=-1
vpn_wait "E-VPN re-attach on A: B programs A's MAC again (VNI $VNI_A) and its BUM entry" "$B" "$(nodelg net1)" \
  "$(evpn_remote $MAC_A "$A" "$VNI_A") and $(evpn_bum "$A" "$VNI_A")"

# ------------------------------------------------------------------ 5. B frozen: GoBGP's hold timer
B_PID=$(_get "$B" pid)
CALLS=vpns/dataplane/drivers/ipvpn/calls
B_SEQ=$(vpn_get "$B" "$CALLS?limit=1000000" "max([c['seq'] for c in j] or [0])") || B_SEQ=0
kill -STOP "$B_PID"
vpn_wait "B frozen: GoBGP's hold timer (${HOLD}s) expires, A removes B's /32 (within ${HOLD}s + 2)" "$A" "$(nodelg vrf1)" \
  "$(ipvpn_absent 10.0.0.2/32)" $((HOLD + 2))
T_FROZEN=$VPN_WAITED
check "B frozen: the removal is GoBGP's hold timer (${T_FROZEN}s >= $((HOLD - KEEPALIVE - 1))s, not a TCP close)" \
  python3 -c "import sys; sys.exit(0 if $T_FROZEN >= $HOLD - $KEEPALIVE - 1 else 1)"
vpn_wait "B frozen: A removes B's MAC and BUM entry" "$A" "$(nodelg net1)" \
  "not any(r['mac'] == '$MAC_B' for r in j['remote_endpoints'])
   and not any(b['remote_pe'] == '$B' for b in j['bum_endpoints'])" 3
check "GoBGP logged the hold timer expiry for B" \
  grep -q "\"Key\":\"$B\".*\"msg\":\"hold timer expired\"" "$PEERS_DIR/$RR/gobgpd.log"
kill -CONT "$B_PID"
peer_wait_established "$RR" "$B" 30 || bad "B resumed: session not re-established with GoBGP"
vpn_wait "B resumed: A gets B's /32 back (label $LABEL_B)" "$A" "$(nodelg vrf1)" \
  "$(ipvpn_remote 10.0.0.2/32 "$B" "$LABEL_B")" 30
vpn_wait "B resumed: A gets B's MAC and BUM entry back" "$A" "$(nodelg net1)" \
  "$(evpn_remote $MAC_B "$B" "$VNI_B") and $(evpn_bum "$B" "$VNI_B")" 15
# B's own view: its session went down (GoBGP's NOTIFICATION 4/0 once it runs again), it
# removed A's /32, then re-learned it over the new session (B's dummy call log after B_SEQ)
vpn_wait "B resumed: B removed A's /32 (session reset) and set it up again" "$B" \
  "$CALLS?offset=$B_SEQ&limit=1000000" \
  "[c['method'] for c in j if c['args'].get('prefix') == '10.0.0.1/32'][-2:]
   == ['remove_dataplane_for_remote_endpoint', 'setup_dataplane_for_remote_endpoint']" 15
vpn_http GET "$(vpn_api "$B")/looking-glass/$(nodelg vrf1)" >/dev/null
vpn_check "B resumed: B holds A's /32 (label $LABEL_A, MPLS)" "$(ipvpn_remote 10.0.0.1/32 "$A" "$LABEL_A")"
vpn_wait "B resumed: B holds A's MAC and BUM entry" "$B" "$(nodelg net1)" \
  "$(evpn_remote $MAC_A "$A" "$VNI_A") and $(evpn_bum "$A" "$VNI_A")" 5

# ------------------------------------------------------------------ 6. A killed
peer_kill "$A"
vpn_wait "A killed (SIGKILL): B removes 10.0.0.1/32 within the hold time (${HOLD}s + 2)" "$B" "$(nodelg vrf1)" \
  "$(ipvpn_absent 10.0.0.1/32)" $((HOLD + 2))
vpn_wait "A killed: B removes A's MAC and BUM entry" "$B" "$(nodelg net1)" \
  "not any(r['mac'] == '$MAC_A' for r in j['remote_endpoints'])
   and not any(b['remote_pe'] == '$A' for b in j['bum_endpoints'])" 3

for n in $RR $B $C; do
  _alive "$(_get "$n" pid)" || bad "$n exited early: $(tail -3 "$PEERS_DIR/$n/"*.log)"
done
if [ "$PEERS_FAILS" -gt 0 ]; then
  for n in $A $B $C; do
    echo "--- $n: errors in bagpipe.log"
    grep -iE "error|critical|warn" "$PEERS_DIR/$n/bagpipe.log" | grep -v "API error" | tail -5
  done
  echo "--- gobgpd.log (last lines)"
  tail -5 "$PEERS_DIR/$RR/gobgpd.log"
fi
peers_finish
