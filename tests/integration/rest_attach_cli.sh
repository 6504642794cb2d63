#!/bin/bash
# bagpipe-rest-attach against the original's printouts and a fake REST API:
#   1. --dry-run: the request printed for the original's invocations of
#      bagpipe-rest-attach (reference bagpipe-ref/responses/cli_session.txt)
#      is the original's, key for key and byte for byte, with the same
#      "using X as gateway address" line; other options (evpn:, --ovs-preplug,
#      readvertise, attract traffic sent as to_rt, --import-rt/--export-rt);
#      usage errors exit 2;
#   2. a Python http.server on 127.0.75.1 (free port) records what is POSTed:
#      /attach_localport and /detach_localport with Content-Type
#      application/json and the printed body; "response: 200 null"; a 400
#      {"error": ...} (this project's API) and a 400 HTML page (the original's)
#      exit 1 with the message on stderr; the port comes from --api-port, from
#      [API] port of --config-file, else 8082; no bgp.conf is needed;
#   3. --port netns (root only, else skipped): namespace, veth pair, address,
#      default route, MTUs, and the namespace side's MAC sent as mac_address.
# Run by scripts/test (BAGPIPE_BUILD_DIR); standalone:
#   BAGPIPE_BUILD_DIR=build-cli tests/integration/rest_attach_cli.sh
# Exit: 0 pass, 77 skip (no python3), 1 fail. Loopback only: 127.0.75.0/24.
set -u -o pipefail

NAME=rest_attach_cli
ROOT=${BAGPIPE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BAGPIPE_BUILD_DIR:-${BUILD_DIR:-$ROOT/build}}
CLI=$BUILD/tools/bagpipe-rest-attach
NET=127.0.75

die() { echo "$NAME: FAIL: $*" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "$NAME: SKIP: python3 not installed"; exit 77; }
[ -x "$CLI" ] || die "$CLI not built"

RUN=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX") || die "mktemp"
SERVER_PID=""
NETNS=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  if [ -n "$NETNS" ]; then
    ip netns del "$NETNS" 2>/dev/null
    ip link del "ns-$NETNS" 2>/dev/null
  fi
  rm -rf "$RUN"
}
trap cleanup EXIT

FAILS=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }

# run ARGS...: runs the CLI; stdout in $RUN/out, stderr in $RUN/err, status in $RC.
run() {
  "$CLI" "$@" >"$RUN/out" 2>"$RUN/err"
  RC=$?
}
printed_request() { sed -n 's/^request: //p' "$RUN/out"; }

# pycheck NAME EXPR: EXPR in Python, with r = the printed request (parsed),
# p = the last POST the fake server recorded ({path, ctype, body}).
pycheck() {
  if python3 - "$RUN" "$2" <<'PY'
import json, os, sys
run, expr = sys.argv[1], sys.argv[2]
out = open(os.path.join(run, 'out')).read().splitlines()
req = [l[len('request: '):] for l in out if l.startswith('request: ')]
r = json.loads(req[-1]) if req else None
p = None
if os.path.exists(os.path.join(run, 'last.json')):
    p = json.load(open(os.path.join(run, 'last.json')))
sys.exit(0 if eval('(' + expr + ')') else 1)
PY
  then ok "$1"; else fail "$1: $(head -c 600 "$RUN/out") $(head -c 300 "$RUN/err")"; fi
}

# ------------------------------------------------------------------ 1. --dry-run
# The original's invocations and printouts (cli_session.txt). The third
# command line of the transcript reads "--rt 64512:999" but its printout has
# 64512:514 and direction to-port (which the replay with curl confirms:
# "Unsupported direction: to-port"); the command below is the one that
# printout belongs to.
ARGS=(
  "--attach --port tap-cli1 --mac 52:54:00:cc:00:01 --ip 10.0.2.1 --network-type evpn --vpn-instance-id evpn-cli --rt 64512:514"
  "--attach --port tap-cli2 --ip 10.0.3.1/24 --network-type ipvpn --rt 64512:515 --local-pref 300"
  "--attach --port tap-cli3 --mac 52:54:00:cc:00:03 --ip 10.0.2.3 --network-type evpn --vpn-instance-id evpn-cli --rt 64512:514 --direction to-port"
  "--detach --port tap-cli1 --mac 52:54:00:cc:00:01 --ip 10.0.2.1 --network-type evpn --vpn-instance-id evpn-cli"
)
GATEWAYS=(10.0.2.254 10.0.3.254 10.0.2.254 10.0.2.254)
EXPECTED=(
  '{"import_rt": ["64512:514"], "export_rt": ["64512:514"], "local_port": {"linuxif": "tap-cli1"}, "vpn_instance_id": "evpn-cli", "vpn_type": "evpn", "gateway_ip": "10.0.2.254", "mac_address": "52:54:00:cc:00:01", "ip_address": "10.0.2.1/24", "advertise_subnet": false, "readvertise": null, "attract_traffic": {}, "lb_consistent_hash_order": 0, "vni": 0, "direction": "both"}'
  '{"import_rt": ["64512:515"], "export_rt": ["64512:515"], "local_port": {"linuxif": "tap-cli2"}, "vpn_instance_id": "ipvpn-bagpipe-test", "vpn_type": "ipvpn", "gateway_ip": "10.0.3.254", "mac_address": "52:54:00:99:99:22", "ip_address": "10.0.3.1/24", "advertise_subnet": false, "readvertise": null, "attract_traffic": {}, "lb_consistent_hash_order": 0, "vni": 0, "local_pref": 300, "direction": "both"}'
  '{"import_rt": ["64512:514"], "export_rt": ["64512:514"], "local_port": {"linuxif": "tap-cli3"}, "vpn_instance_id": "evpn-cli", "vpn_type": "evpn", "gateway_ip": "10.0.2.254", "mac_address": "52:54:00:cc:00:03", "ip_address": "10.0.2.3/24", "advertise_subnet": false, "readvertise": null, "attract_traffic": {}, "lb_consistent_hash_order": 0, "vni": 0, "direction": "to-port"}'
  '{"import_rt": ["64512:513"], "export_rt": ["64512:513"], "local_port": {"linuxif": "tap-cli1"}, "vpn_instance_id": "evpn-cli", "vpn_type": "evpn", "gateway_ip": "10.0.2.254", "mac_address": "52:54:00:cc:00:01", "ip_address": "10.0.2.1/24", "advertise_subnet": false, "readvertise": null, "attract_traffic": {}, "lb_consistent_hash_order": 0, "vni": 0, "direction": "both"}'
)
for i in "${!ARGS[@]}"; do
  # shellcheck disable=SC2086  # the arguments are words
  run --dry-run ${ARGS[$i]}
  got=$(printed_request)
  printf '%s' "$got" >"$RUN/got.json"
  printf '%s' "${EXPECTED[$i]}" >"$RUN/want.json"
  if [ $RC -eq 0 ] && [ "$got" = "${EXPECTED[$i]}" ] &&
     [ "$(head -1 "$RUN/out")" = "using ${GATEWAYS[$i]} as gateway address" ] &&
     python3 -c '
import json, sys
pairs = lambda f: json.load(open(f), object_pairs_hook=lambda p: p)
sys.exit(0 if pairs(sys.argv[1]) == pairs(sys.argv[2]) else 1)' "$RUN/got.json" "$RUN/want.json"
  then
    ok "dry-run, original invocation $((i + 1)): same request, key for key"
  else
    fail "dry-run invocation $((i + 1)) (rc $RC): $(cat "$RUN/out" "$RUN/err")"
  fi
done
grep -q "^dry-run: not sent to http://127.0.0.1:8082/detach_localport$" "$RUN/out" &&
  ok "dry-run sends nothing (says where it would)" || fail "dry-run target: $(cat "$RUN/out")"

run --dry-run --attach --port evpn:evpn-cli --ip 10.0.4.1/24 --gateway-ip 10.0.4.1 \
  --network-type ipvpn --vpn-instance-id vrf-cli --import-rt 64512:1 --export-rt 64512:2
pycheck "evpn:<id> port, --gateway-ip, --import-rt/--export-rt alone" \
  "$RC == 0 and r['local_port'] == {'evpn': {'id': 'evpn-cli'}} and r['gateway_ip'] == '10.0.4.1'
   and r['import_rt'] == ['64512:1'] and r['export_rt'] == ['64512:2']
   and 'will plug evpn evpn-cli into the IPVPN' in out and not any('gateway address' in l for l in out)"
run --dry-run --attach --port tap-x --ip 10.0.4.1/24 --network-type ipvpn --rt 64512:7 \
  --rt 64512:8 --import-rt 64512:9 --ovs-preplug --ovs-bridge br-test --ovs-vlan 12 --vni 77 \
  --lb-consistent-hash-order 3 --advertise-subnet --readv-from-rt 64512:10 --readv-to-rt 64512:11 \
  --redirect-rts 64512:20 --destination-port 80 --protocol tcp --source-prefix 10.1.0.0/16 \
  --attract-to-rt 64512:21 --static-destination-prefix 10.2.0.0/16 --mac 52:54:00:00:00:77
pycheck "every option in the request (attract_traffic.to_rt, not the original's 'to')" \
  "$RC == 0 and r['import_rt'] == ['64512:7', '64512:8', '64512:9'] and r['export_rt'] == ['64512:7', '64512:8']
   and r['local_port'] == {'linuxif': 'tap-x', 'ovs': {'port_name': 'tap-x', 'plugged': True, 'vlan': 12}}
   and r['vni'] == 77 and r['lb_consistent_hash_order'] == 3 and r['advertise_subnet'] is True
   and r['mac_address'] == '52:54:00:00:00:77'
   and r['readvertise'] == {'from_rt': ['64512:10'], 'to_rt': ['64512:11']}
   and list(r['attract_traffic']) == ['redirect_rts', 'classifier', 'to_rt', 'static_destination_prefixes']
   and list(r['attract_traffic']['classifier'].items()) == [('destinationPort', '80'), ('protocol', 'tcp'), ('sourcePrefix', '10.1.0.0/16')]
   and r['attract_traffic']['to_rt'] == ['64512:21'] and 'local_pref' not in r
   and 'pre-plugging tap-x into br-test' in out
   and 'dry-run, not running: ovs-vsctl add-port br-test tap-x' in out"
run --dry-run --attach --port tap-y --ip 10.0.4.1 --network-type ipvpn --direction from-port \
  --vpn-instance-id other --local-pref 0
pycheck "defaults: RT 64512:512, MAC 52:54:00:99:99:22, /24; --local-pref 0 omitted" \
  "$RC == 0 and r['import_rt'] == ['64512:512'] and r['mac_address'] == '52:54:00:99:99:22'
   and r['ip_address'] == '10.0.4.1/24' and r['vpn_instance_id'] == 'other'
   and r['direction'] == 'from-port' and 'local_pref' not in r"

usage_error() { # usage_error NAME MESSAGE ARGS...
  local name=$1 msg=$2
  shift 2
  run "$@"
  [ $RC -eq 2 ] && grep -qF -- "$msg" "$RUN/err" && ok "usage error: $name" ||
    fail "usage error $name (rc $RC): $(cat "$RUN/err")"
}
usage_error "no --attach/--detach" "Need to specify --attach or --detach" \
  --port tap --ip 10.0.0.1 --network-type ipvpn
usage_error "no --ip" "Need to specify --ip" --attach --port tap --network-type ipvpn
usage_error "evpn without --mac" "Need to specify --mac for an EVPN network attachment" \
  --attach --port tap --ip 10.0.0.1 --network-type evpn
usage_error "bad --network-type" "--network-type" \
  --attach --port tap --ip 10.0.0.1 --network-type l3vpn
usage_error "--redirect-rts without classifier" "at least one traffic classifier option" \
  --attach --port tap --ip 10.0.0.1 --network-type ipvpn --redirect-rts 64512:1
usage_error "evpn: port into an evpn" "Can only plug an evpn into an ipvpn" \
  --attach --port evpn:x --ip 10.0.0.1 --network-type evpn --mac 52:54:00:00:00:01

# ------------------------------------------------------------------ 2. fake REST API
cat >"$RUN/server.py" <<'PY'
import http.server, json, os, sys
run, host = sys.argv[1], sys.argv[2]
HTML = ('<html>\n <head>\n  <title>400 Bad Request</title>\n </head>\n <body>\n'
        '  <h1>400 Bad Request</h1>\n  The server could not comply with the request since it '
        'is either malformed or otherwise incorrect.<br /><br />\n'
        'API error: MAC address zz is not valid\n\n\n </body>\n</html>')
class Handler(http.server.BaseHTTPRequestHandler):
    count = 0
    def log_message(self, *args):
        pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0))).decode()
        Handler.count += 1
        record = {'path': self.path, 'ctype': self.headers.get('Content-Type'), 'body': body,
                  'n': Handler.count}
        with open(os.path.join(run, 'last.tmp'), 'w') as f:
            json.dump(record, f)
        os.rename(os.path.join(run, 'last.tmp'), os.path.join(run, 'last.json'))
        try:
            vid = json.loads(body).get('vpn_instance_id')
        except Exception:
            vid = None
        if vid == 'bad-instance':
            code, ctype, out = 400, 'application/json', json.dumps(
                {'error': 'API error: VPN bad-instance could not be found'})
        elif vid == 'html-error':
            code, ctype, out = 400, 'text/html; charset=UTF-8', HTML
        else:
            code, ctype, out = 200, 'application/json', 'null'
        data = out.encode()
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
server = http.server.HTTPServer((host, 0), Handler)
with open(os.path.join(run, 'port.tmp'), 'w') as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(run, 'port.tmp'), os.path.join(run, 'port'))
server.serve_forever()
PY
python3 "$RUN/server.py" "$RUN" "$NET.1" &
SERVER_PID=$!
for _ in $(seq 1 50); do [ -s "$RUN/port" ] && break; sleep 0.1; done
[ -s "$RUN/port" ] || die "the fake REST API did not start"
PORT=$(cat "$RUN/port")
API=(--server "$NET.1" --api-port "$PORT")

run "${API[@]}" --attach --port tap-cli2 --ip 10.0.3.1/24 --network-type ipvpn --rt 64512:515 \
  --local-pref 300
pycheck "attach: POST /attach_localport, application/json, the printed body; 200 null" \
  "$RC == 0 and p['path'] == '/attach_localport' and p['ctype'] == 'application/json'
   and p['body'] == '''${EXPECTED[1]}''' and out[-1] == 'response: 200 null'"
run "${API[@]}" ${ARGS[3]}
pycheck "detach: POST /detach_localport with the printed body" \
  "$RC == 0 and p['path'] == '/detach_localport' and p['body'] == '''${EXPECTED[3]}'''
   and p['n'] == 2"
run "${API[@]}" --attach --port tap-z --ip 10.0.3.1/24 --network-type ipvpn \
  --vpn-instance-id bad-instance
[ $RC -eq 1 ] && grep -q "error 400 (Bad Request): API error: VPN bad-instance could not be found" \
  "$RUN/err" && ok "400 JSON error: exit 1, the server's message" ||
  fail "400 JSON (rc $RC): $(cat "$RUN/out" "$RUN/err")"
run "${API[@]}" --attach --port tap-z --ip 10.0.3.1/24 --network-type ipvpn \
  --vpn-instance-id html-error
[ $RC -eq 1 ] && grep -q "error 400 (Bad Request): API error: MAC address zz is not valid$" \
  "$RUN/err" && ok "400 HTML error (the original's pages): exit 1, the message" ||
  fail "400 HTML (rc $RC): $(cat "$RUN/out" "$RUN/err")"

printf '[API]\nhost = %s\nport = %s\n' "$NET.1" "$PORT" >"$RUN/bgp.conf"
rm -f "$RUN/last.json"
run --server "$NET.1" --config-file "$RUN/bgp.conf" --attach --port tap-c --ip 10.0.3.1 \
  --network-type ipvpn
pycheck "port from [API] port of --config-file" "$RC == 0 and p['path'] == '/attach_localport'"
printf '[API]\napi_port = %s\n' "$PORT" >"$RUN/old.conf"
rm -f "$RUN/last.json"
run --server "$NET.1" --config-file "$RUN/old.conf" --detach --port tap-c --ip 10.0.3.1 \
  --network-type ipvpn
pycheck "port from the old name [API] api_port" "$RC == 0 and p['path'] == '/detach_localport'"
run --server "$NET.1" --config-file "$RUN/missing/bgp.conf" --api-port "$PORT" --attach \
  --port tap-c --ip 10.0.3.1 --network-type ipvpn
[ $RC -eq 0 ] && ok "missing --config-file: no error" || fail "missing config: $(cat "$RUN/err")"
printf '[BGP]\nmy_as = 64512\n' >"$RUN/noapi.conf"
run --server "$NET.1" --config-file "$RUN/noapi.conf" --attach --port tap-c --ip 10.0.3.1 \
  --network-type ipvpn
[ $RC -eq 1 ] && grep -q "cannot reach http://$NET.1:8082/attach_localport" "$RUN/err" &&
  ok "no [API] port: 8082 (nothing there: exit 1, cannot reach)" ||
  fail "default port (rc $RC): $(cat "$RUN/err")"
if [ -e /etc/bagpipe-bgp/bgp.conf ]; then
  ok "without /etc/bagpipe-bgp/bgp.conf: skipped (the file exists here)"
else
  run "${API[@]}" --attach --port tap-d --ip 10.0.3.9 --network-type ipvpn
  [ $RC -eq 0 ] && ! grep -qi "config" "$RUN/err" &&
    ok "works without /etc/bagpipe-bgp/bgp.conf" || fail "without bgp.conf: $(cat "$RUN/err")"
fi
run --server "$NET.1" --api-port 1 --attach --port tap-c --ip 10.0.3.1 --network-type ipvpn
[ $RC -eq 1 ] && grep -q "cannot reach http://$NET.1:1/attach_localport" "$RUN/err" &&
  ok "no server: exit 1, cannot reach" || fail "no server (rc $RC): $(cat "$RUN/err")"

# ------------------------------------------------------------------ 3. --port netns
NS=bgpcli$$
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null 2>&1 || ! ip netns add "$NS" 2>/dev/null; then
  ok "--port netns: skipped (needs root and ip netns)"
else
  NETNS=$NS
  ip netns del "$NS"
  run "${API[@]}" --attach --port netns --netns "$NS" --ip 10.0.9.1 --network-type evpn \
    --vpn-instance-id evpn-ns
  mac=$(ip -n "$NS" -j link show dev tovpn 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])' 2>/dev/null)
  pycheck "--port netns: veth ns-$NS, namespace side's MAC ($mac) sent" \
    "$RC == 0 and p['path'] == '/attach_localport' and r['mac_address'] == '$mac' != ''
     and r['local_port'] == {'linuxif': 'ns-$NS'} and 'Will plug local namespace $NS into network' in out
     and 'Local port: ns-$NS ($mac)' in out"
  ip -n "$NS" -br addr show dev tovpn | grep -q "10.0.9.1/24" &&
    ip -n "$NS" route show default | grep -q "via 10.0.9.254 dev tovpn" &&
    ip -n "$NS" link show dev tovpn | grep -q "mtu 1420" &&
    ip link show dev "ns-$NS" | grep -q "mtu 9000" &&
    ok "--port netns: address, default route via the gateway, MTUs 1420 / 9000" ||
    fail "netns setup: $(ip -n "$NS" addr; ip -n "$NS" route; ip link show "ns-$NS")"
  run "${API[@]}" --detach --port netns --netns "$NS" --ip 10.0.9.1 --network-type evpn \
    --vpn-instance-id evpn-ns
  pycheck "--port netns detach: same MAC, nothing re-created" \
    "$RC == 0 and p['path'] == '/detach_localport' and r['mac_address'] == '$mac'
     and not any('Will plug' in l for l in out)"
fi

echo "$NAME: $FAILS failure(s)"
[ $FAILS -eq 0 ]
