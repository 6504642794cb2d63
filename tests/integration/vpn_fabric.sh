#!/bin/bash
# The VPN service end to end on loopback, with dummy dataplane drivers:
# three bagpipe-bgp compute nodes (A .2, B .3, C .4) peer only with a
# bagpipe-bgp route reflector (.1); VM ports are attached over the REST API.
#   1. E-VPN: attach on A → B's dummy driver holds A's MAC (remote PE, VNI,
#      VXLAN) and a BUM entry; RTC keeps the routes away from C, which imports
#      another route target;
#   2. IP-VPN: attach on A and B → each holds the other's /32 with the port
#      label and MPLS;
#   3. detach on A → removed on B; an export RT change re-advertises (B
#      loses the prefix, then gets it back);
#   4. the REST error matrix: 400 JSON errors (never 500), 405, the
#      original's requests from the reference replayed on B, the looking glass
#      vpns/... tree;
#   5. A killed (SIGKILL) → its routes removed on B within the hold time.
# Loopback only: 127.0.76.0/24, API port 18276 on each node's address.
set -u -o pipefail

NAME=vpn_fabric
ROOT=${BAGPIPE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BAGPIPE_BUILD_DIR:-$ROOT/build}
DAEMON=$BUILD/src/daemon/bagpipe-bgp
NET=127.0.76
PORT=18276
HOLD=6

die() { echo "$NAME: FAIL: $*" >&2; exit 1; }
[ -x "$DAEMON" ] || die "$DAEMON not built"
command -v curl >/dev/null || die "curl is required"

RUN=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX") || die "mktemp"
declare -A PID
cleanup() {
  local p
  for p in "${PID[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PID[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$RUN"
}
trap cleanup EXIT

FAILS=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }

# http METHOD URL [JSON-BODY]: prints the status; the body goes to $RUN/body.
http() {
  local args=(-s -o "$RUN/body" -w '%{http_code}' -X "$1" --max-time 10)
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  curl "${args[@]}" "$2" || true
}
# jtrue PYTHON-EXPR: exit status of EXPR with j = the JSON of $RUN/body.
jtrue() {
  python3 - "$RUN/body" "$1" <<'PY'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(1)
sys.exit(0 if eval('(' + sys.argv[2] + ')') else 1)
PY
}
jcheck() { if jtrue "$2"; then ok "$1"; else fail "$1: $(head -c 600 "$RUN/body")"; fi; }
# wait_for NAME URL EXPR [TRIES]: polls URL until EXPR holds (0.1 s steps).
wait_for() {
  local tries=${4:-100}
  for _ in $(seq 1 "$tries"); do
    http GET "$2" >/dev/null
    jtrue "$3" && { ok "$1"; return 0; }
    sleep 0.1
  done
  fail "$1: $(head -c 600 "$RUN/body")"
  return 1
}
api() { echo "http://$NET.$1:$PORT"; }
attach() { # attach NODE JSON: expects 200 null
  local code
  code=$(http POST "$(api "$1")/attach_localport" "$2")
  [ "$code" = 200 ] && [ "$(cat "$RUN/body")" = null ] ||
    fail "attach on .$1 -> $code $(cat "$RUN/body")"
}
detach() {
  local code
  code=$(http POST "$(api "$1")/detach_localport" "$2")
  [ "$code" = 200 ] || fail "detach on .$1 -> $code $(cat "$RUN/body")"
}

cat > "$RUN/rr.conf" <<EOF2
[BGP]
local_address = $NET.1
peers = $NET.2, $NET.3, $NET.4
my_as = 64512
route_reflector = True
rtc_wildcard = True
hold_time = $HOLD
[API]
host = $NET.1
port = $PORT
EOF2
for n in 2 3 4; do
  cat > "$RUN/n$n.conf" <<EOF2
[BGP]
local_address = $NET.$n
peers = $NET.1
my_as = 64512
enable_rtc = True
hold_time = $HOLD
connect_retry_min = 1
[API]
host = $NET.$n
port = $PORT
[DATAPLANE_DRIVER_IPVPN]
dataplane_driver = dummy
[DATAPLANE_DRIVER_EVPN]
dataplane_driver = dummy
EOF2
done

"$DAEMON" --config-file "$RUN/rr.conf" --log-file "$RUN/rr.log" &
PID[rr]=$!
for n in 2 3 4; do
  "$DAEMON" --config-file "$RUN/n$n.conf" --log-file "$RUN/n$n.log" &
  PID[n$n]=$!
done
for n in 2 3 4; do
  wait_for "node .$n Established with the RR" "$(api $n)/looking-glass/bgp/peers/$NET.1/protocol/state" \
    "j == 'Established'" 100 || { tail -20 "$RUN/n$n.log"; die "node .$n"; }
done

# 1. E-VPN.
EVPN_A='{"vpn_instance_id": "net1", "vpn_type": "evpn", "mac_address": "52:54:00:00:0a:01",
  "ip_address": "10.0.1.1/24", "gateway_ip": "10.0.1.254", "local_port": {"linuxif": "tap-a1"},
  "import_rt": ["64512:513"], "export_rt": ["64512:513"]}'
EVPN_B='{"vpn_instance_id": "net1", "vpn_type": "evpn", "mac_address": "52:54:00:00:0b:01",
  "ip_address": "10.0.1.2/24", "gateway_ip": "10.0.1.254", "local_port": "tap-b1",
  "import_rt": "64512:513", "export_rt": "64512:513"}'
EVPN_C='{"vpn_instance_id": "other", "vpn_type": "evpn", "mac_address": "52:54:00:00:0c:01",
  "local_port": "tap-c1", "import_rt": ["64512:999"], "export_rt": ["64512:999"]}'
attach 2 "$EVPN_A"
attach 3 "$EVPN_B"
attach 4 "$EVPN_C"
http GET "$(api 2)/looking-glass/vpns/instances/net1" >/dev/null
VNI_A=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["instance_dataplane_id"])' "$RUN/body")
wait_for "E-VPN: B programs A's MAC (remote PE .2, VNI $VNI_A, VXLAN)" \
  "$(api 3)/looking-glass/vpns/instances/net1/dataplane" \
  "any(r['mac'] == '52:54:00:00:0a:01' and r['remote_pe'] == '$NET.2' and r['vni'] == $VNI_A
       and 'encap:VXLAN' in r['encaps'] for r in j['remote_endpoints'])"
wait_for "E-VPN: B floods BUM to A (ingress replication)" \
  "$(api 3)/looking-glass/vpns/instances/net1/dataplane" \
  "any(b['remote_pe'] == '$NET.2' and b['vni'] == $VNI_A for b in j['bum_endpoints'])"
wait_for "E-VPN: A programs B's MAC" "$(api 2)/looking-glass/vpns/instances/net1/dataplane" \
  "any(r['mac'] == '52:54:00:00:0b:01' and r['remote_pe'] == '$NET.3' for r in j['remote_endpoints'])"
http GET "$(api 3)/looking-glass/vpns/dataplane/drivers/evpn/calls" >/dev/null
jcheck "E-VPN: B's dummy call log has setup_dataplane_for_remote_endpoint and add_dataplane_for_bum_endpoint" \
  "any(c['method'] == 'setup_dataplane_for_remote_endpoint' for c in (j['calls'] if isinstance(j, dict) else j))
   and any(c['method'] == 'add_dataplane_for_bum_endpoint' for c in (j['calls'] if isinstance(j, dict) else j))"
http GET "$(api 3)/looking-glass/vpns/instances/net1/best_routes" >/dev/null
jcheck "E-VPN: B's best_routes, keyed like the original" \
  "\"('MAC', 52:54:00:00:0a:01)\" in j"
sleep 0.5
http GET "$(api 4)/looking-glass/bgp/routes" >/dev/null
jcheck "RTC: C (imports 64512:999 only) receives none of 64512:513's routes" \
  "all('target:64512:513' not in json.dumps(v) for v in j.values())"
http GET "$(api 4)/looking-glass/vpns/instances/other/dataplane" >/dev/null
jcheck "RTC: C's instance has no remote endpoint" "j['remote_endpoints'] == [] and j['bum_endpoints'] == []"

# 2. IP-VPN.
IPVPN_A='{"vpn_instance_id": "vrf1", "vpn_type": "ipvpn", "mac_address": "52:54:00:00:0a:02",
  "ip_address": "10.0.0.1/24", "gateway_ip": "10.0.0.254", "local_port": {"linuxif": "tap-a2"},
  "import_rt": ["64512:512"], "export_rt": ["64512:512"], "local_pref": 200}'
IPVPN_B='{"vpn_instance_id": "vrf1", "vpn_type": "ipvpn", "mac_address": "52:54:00:00:0b:02",
  "ip_address": "10.0.0.2/24", "gateway_ip": "10.0.0.254", "local_port": {"linuxif": "tap-b2"},
  "import_rt": ["64512:512"], "export_rt": ["64512:512"]}'
attach 2 "$IPVPN_A"
attach 3 "$IPVPN_B"
http GET "$(api 2)/looking-glass/vpns/instances/vrf1/ports" >/dev/null
LABEL_A=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tap-a2"]["endpoints"][0]["label"])' "$RUN/body")
wait_for "IP-VPN: B programs 10.0.0.1/32 via .2, label $LABEL_A, MPLS" \
  "$(api 3)/looking-glass/vpns/instances/vrf1/dataplane" \
  "any(r['prefix'] == '10.0.0.1/32' and r['remote_pe'] == '$NET.2' and r['label'] == $LABEL_A
       and 'encap:MPLS' in r['encaps'] for r in j['remote_endpoints'])"
wait_for "IP-VPN: A programs 10.0.0.2/32 via .3" "$(api 2)/looking-glass/vpns/instances/vrf1/dataplane" \
  "any(r['prefix'] == '10.0.0.2/32' and r['remote_pe'] == '$NET.3' for r in j['remote_endpoints'])"
http GET "$(api 3)/looking-glass/vpns/instances/vrf1/received_routes" >/dev/null
jcheck "IP-VPN: B's received route carries LOCAL_PREF 200 from A" \
  "list(j[\"'10.0.0.1/32'\"][0].values())[0]['attributes']['local-preference'] == '200'"

# 3. Detach, RT change.
detach 2 "$EVPN_A"
wait_for "E-VPN detach on A: B removes A's MAC and BUM entry" \
  "$(api 3)/looking-glass/vpns/instances/net1/dataplane" \
  "not any(r['mac'] == '52:54:00:00:0a:01' for r in j['remote_endpoints'])
   and not any(b['remote_pe'] == '$NET.2' for b in j['bum_endpoints'])"
http GET "$(api 2)/looking-glass/vpns/instances" >/dev/null
jcheck "A's last E-VPN port gone: the instance is gone" "[i['id'] for i in j] == ['vrf1']"
attach 2 "${IPVPN_A/\"export_rt\": \[\"64512:512\"\]/\"export_rt\": [\"64512:777\"]}"
wait_for "export RT changed on A: B no longer imports 10.0.0.1/32" \
  "$(api 3)/looking-glass/vpns/instances/vrf1/dataplane" \
  "not any(r['prefix'] == '10.0.0.1/32' for r in j['remote_endpoints'])"
attach 2 "$IPVPN_A"
wait_for "export RT back: B imports 10.0.0.1/32 again" \
  "$(api 3)/looking-glass/vpns/instances/vrf1/dataplane" \
  "any(r['prefix'] == '10.0.0.1/32' for r in j['remote_endpoints'])"

# 4. Errors and the original's requests.
B=$(api 3)
check_error() { # check_error NAME EXPECTED-CODE BODY [PATH]
  local code
  code=$(http POST "$B${4:-/attach_localport}" "$3")
  if [ "$code" = "$2" ] && jtrue "isinstance(j, dict) and 'error' in j"; then
    ok "$1: $code $(cat "$RUN/body")"
  else
    fail "$1: expected $2, got $code $(cat "$RUN/body")"
  fi
}
check_error "non-JSON body" 400 'not json'
check_error "missing vpn_type" 400 '{"vpn_instance_id": "x"}'
check_error "bad MAC" 400 '{"vpn_type":"evpn","vpn_instance_id":"x","local_port":"tap1","mac_address":"zz","import_rt":[],"export_rt":[]}'
check_error "malformed RT (the original: 500)" 400 '{"vpn_type":"evpn","vpn_instance_id":"x","local_port":"tap1","mac_address":"52:54:00:00:00:01","import_rt":["bad"],"export_rt":[]}'
check_error "type mismatch on an existing id (the original: 500)" 400 "${EVPN_B/\"net1\", \"vpn_type\": \"evpn\"/\"vrf1\", \"vpn_type\": \"evpn\"}"
check_error "same IP, other MAC" 400 '{"vpn_instance_id": "net1", "vpn_type": "evpn", "mac_address": "52:54:00:00:0b:99", "ip_address": "10.0.1.2", "local_port": "tap-b9", "import_rt": "64512:513", "export_rt": "64512:513"}'
check_error "detach unknown instance" 400 '{"vpn_instance_id": "nope", "vpn_type": "evpn", "mac_address": "52:54:00:00:00:01", "local_port": "tap1"}' /detach_localport
check_error "detach what is not attached" 400 '{"vpn_instance_id": "net1", "vpn_type": "evpn", "mac_address": "52:54:00:00:00:42", "local_port": "tap-b1"}' /detach_localport
code=$(http PUT "$B/attach_localport" '{}')
[ "$code" = 405 ] && ok "PUT /attach_localport: 405" || fail "PUT: $code"
code=$(http GET "$B/attach_localport")
[ "$code" = 200 ] && [ "$(cat "$RUN/body")" = "{}" ] && ok "GET /attach_localport: {}" || fail "GET attach: $code"
REF=$ROOT/tests/data/bagpipe-ref/requests
for f in attach_evpn attach_ipvpn; do
  code=$(http POST "$B/attach_localport" "@$REF/$f.json")
  [ "$code" = 200 ] && [ "$(cat "$RUN/body")" = null ] && ok "reference $f.json: 200 null" ||
    fail "reference $f.json: $code $(cat "$RUN/body")"
done
http GET "$B/looking-glass/vpns/instances" >/dev/null
jcheck "vpns/instances lists the reference instances" \
  "{'evpn-test', 'ipvpn-test'} <= {i['id'] for i in j} and all('href' in i and 'name' in i for i in j)"
http GET "$B/looking-glass/vpns/instances/evpn-test" >/dev/null
jcheck "vpns/instances/evpn-test: the original's fields" \
  "j['instance_type'] == 'EVI' and j['external_instance_id'] == 'evpn-test'
   and j['description'] == 'evpn test instance' and j['route_targets']['import'] == ['target:64512:513']
   and j['gateway_ip'] == '10.0.1.254' and j['subnet_prefix_length'] == 24
   and 'href' in j['ports'] and 'href' in j['adv_routes'] and j['readvertise'] == {}"
http GET "$B/looking-glass/vpns/instances/ipvpn-test/ports" >/dev/null
jcheck "vpns/instances/ipvpn-test/ports" \
  "j['tap-ipvpn1']['endpoints'][0]['ip_address'] == '10.0.0.1/24'
   and j['tap-ipvpn1']['endpoints'][0]['local_pref'] == 200"
http GET "$B/looking-glass/vpns/instances/evpn-test/adv_routes" >/dev/null
jcheck "vpns/instances/evpn-test/adv_routes: type 3 and type 2" \
  "len(j) == 2 and all(list(r.values())[0]['afi-safi'] == 'l2vpn/evpn' for r in j)"
http GET "$B/looking-glass/summary" >/dev/null
jcheck "summary.vpn_instances_count" "j['vpn_instances_count'] == 4"
http GET "$B/looking-glass/vpns/dataplane/ids" >/dev/null
jcheck "vpns/dataplane/ids: labels with their use" "all(int(k) >= 16 for k in j) and len(j) >= 6"
for f in detach_evpn detach_ipvpn; do
  code=$(http POST "$B/detach_localport" "@$REF/$f.json")
  [ "$code" = 200 ] && ok "reference $f.json: 200" || fail "reference $f.json: $code $(cat "$RUN/body")"
done

# 5. A killed: its routes go when the RR's hold timer expires.
kill -KILL "${PID[n2]}" 2>/dev/null
wait "${PID[n2]}" 2>/dev/null
unset 'PID[n2]'
wait_for "A killed: B removes 10.0.0.1/32 within the hold time (${HOLD} s)" \
  "$B/looking-glass/vpns/instances/vrf1/dataplane" \
  "not any(r['prefix'] == '10.0.0.1/32' for r in j['remote_endpoints'])" $((HOLD * 10 + 30))

for k in "${!PID[@]}"; do
  kill -0 "${PID[$k]}" 2>/dev/null || fail "$k exited early: $(tail -5 "$RUN/$k.log")"
done
grep -h "error\|critical" "$RUN"/*.log | grep -v "API error" | head -5
if [ "$FAILS" -gt 0 ]; then
  echo "$NAME: $FAILS check(s) failed"; tail -15 "$RUN/n3.log"; exit 1
fi
echo "$NAME: all checks passed"
