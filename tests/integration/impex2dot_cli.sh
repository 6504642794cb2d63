#!/bin/bash
# bagpipe-impex2dot against two fake looking glasses (Python http.server on
# 127.0.75.1 and 127.0.75.2, same free port) serving tests/data/lg/ (the
# original's looking-glass documents) and tests/data/lg/server2/ (readvertise,
# attract traffic, a to-<dest> port, an EVI plugged into a VRF):
#   1. the digraph has the RT nodes, one record per VRF / EVI (with the
#      server; ids over 11 characters shortened as the original does), the import and export edges, the port edges, the
#      re-advertisement and FlowSpec redirection edges, the EVI -> VRF edge
#      and the destination of a to-<dest> port;
#   2. --prefix is used; a 404 counts as empty; an unreachable looking glass
#      exits 1 with "Error requesting <url>"; the port comes from
#      --config-file when --port is not given;
#   3. `dot` accepts the output (when Graphviz is installed).
# Run by scripts/test (BAGPIPE_BUILD_DIR); standalone:
#   BAGPIPE_BUILD_DIR=build-cli tests/integration/impex2dot_cli.sh
# Exit: 0 pass, 77 skip (no python3), 1 fail. Loopback only: 127.0.75.0/24.
set -u -o pipefail

NAME=impex2dot_cli
ROOT=${BAGPIPE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BAGPIPE_BUILD_DIR:-${BUILD_DIR:-$ROOT/build}}
CLI=$BUILD/tools/bagpipe-impex2dot
DATA=$ROOT/tests/data/lg
NET=127.0.75

die() { echo "$NAME: FAIL: $*" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "$NAME: SKIP: python3 not installed"; exit 77; }
[ -x "$CLI" ] || die "$CLI not built"
[ -f "$DATA/root_vpns_instances.json" ] || die "$DATA missing"

RUN=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX") || die "mktemp"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  rm -rf "$RUN"
}
trap cleanup EXIT

FAILS=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }

# GET /<prefix>/<a>/<b> -> <dir>/root_<a>_<b>.json, else 404 (JSON, as this
# project's API answers). One server per (address, directory), same port.
cat >"$RUN/lg.py" <<'PY'
import http.server, json, os, sys, threading, urllib.parse
run, prefix = sys.argv[1], sys.argv[2]
pairs = [a.split('=', 1) for a in sys.argv[3:]]
def handler(directory):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass
        def do_GET(self):
            with open(os.path.join(run, 'requests.log'), 'a') as f:
                f.write('%s %s\n' % (self.server.server_address[0], self.path))
            path = urllib.parse.unquote(self.path.split('?')[0]).strip('/')
            code, body = 404, json.dumps({'error': 'No such looking glass object'})
            if path == prefix or path.startswith(prefix + '/'):
                rest = path[len(prefix):].strip('/')
                name = 'root' + ('_' + rest.replace('/', '_') if rest else '') + '.json'
                f = os.path.join(directory, name)
                if os.path.isfile(f):
                    code, body = 200, open(f).read()
            data = body.encode()
            self.send_response(code)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)
    return Handler
for attempt in range(20):
    servers = []
    try:
        port = 0
        for host, directory in pairs:
            s = http.server.HTTPServer((host, port), handler(directory))
            port = s.server_address[1]
            servers.append(s)
        break
    except OSError:
        for s in servers:
            s.server_close()
else:
    sys.exit('no free port')
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
with open(os.path.join(run, 'port.tmp'), 'w') as f:
    f.write(str(port))
os.rename(os.path.join(run, 'port.tmp'), os.path.join(run, 'port'))
servers[0].serve_forever()
PY
python3 "$RUN/lg.py" "$RUN" looking-glass "$NET.1=$DATA" "$NET.2=$DATA/server2" &
SERVER_PID=$!
for _ in $(seq 1 50); do [ -s "$RUN/port" ] && break; sleep 0.1; done
[ -s "$RUN/port" ] || die "the fake looking glasses did not start"
PORT=$(cat "$RUN/port")

# has NAME LINE...: every LINE is a line of $RUN/out (leading spaces ignored).
has() {
  local name=$1 line missing=""
  shift
  for line in "$@"; do
    sed 's/^ *//' "$RUN/out" | grep -qxF -- "$line" || missing+=$'\n    '"$line"
  done
  [ -z "$missing" ] && ok "$name" || fail "$name, missing:$missing"
}

"$CLI" --server "$NET.1" --server "$NET.2" --port "$PORT" >"$RUN/out" 2>"$RUN/err"
RC=$?
[ $RC -eq 0 ] && head -1 "$RUN/out" | grep -qx "digraph import_export {" &&
  tail -1 "$RUN/out" | grep -qx "}" && ok "two looking glasses: a digraph, exit 0" ||
  fail "impex2dot (rc $RC): $(cat "$RUN/err")"

O='color="orange",fontcolor="orange"'
S1=127_0_75_1
S2=127_0_75_2
has "RT nodes" \
  "rt_64512_513 [shape=\"circle\",label=\"RT\\n64512\\n513\",$O];" \
  "rt_64512_512 [shape=\"circle\",label=\"RT\\n64512\\n512\",$O];" \
  "rt_64512_600 [shape=\"circle\",label=\"RT\\n64512\\n600\",$O];" \
  "rt_64512_601 [shape=\"circle\",label=\"RT\\n64512\\n601\",$O];" \
  "rt_64512_700 [shape=\"circle\",label=\"RT\\n64512\\n700\",$O];" \
  "rt_64512_800 [shape=\"circle\",label=\"RT\\n64512\\n800\",$O];"
has "VRF and EVI records, with their server" \
  "vpn_${S1}__ipvpn_test [label=\"{<0>VRF\\nipvpn-test\\n[$NET.1]|<readv>}\",shape=\"record\"];" \
  "vpn_${S1}__evpn_test [label=\"{<0>EVI\\nevpn-test\\n[$NET.1]}\",shape=\"record\"];" \
  "vpn_${S2}__vrf_redirect [label=\"{<0>VRF\\nvrf-..irect\\n[$NET.2]|<readv>}\",shape=\"record\"];"
has "import and export edges (the original's documents)" \
  "rt_64512_513 -> vpn_${S1}__evpn_test:0 [$O,arrowhead=onormal];" \
  "vpn_${S1}__evpn_test:0 -> rt_64512_513 [$O,arrowhead=onormal];" \
  "rt_64512_512 -> vpn_${S1}__ipvpn_test:0 [$O,arrowhead=onormal];" \
  "vpn_${S1}__ipvpn_test:0 -> rt_64512_512 [$O,arrowhead=onormal];" \
  "rt_64512_600 -> vpn_${S2}__vrf_redirect:0 [$O,arrowhead=onormal];" \
  "vpn_${S2}__vrf_redirect:0 -> rt_64512_601 [$O,arrowhead=onormal];"
has "port edges and port nodes" \
  "vpn_${S1}__ipvpn_test -> port_${S1}_tap_ipvpn1 [style=dashed,dir=none,color=\"gray\",weight=3,weight=5];" \
  "vpn_${S1}__evpn_test -> port_${S1}_tap_evpn1 [style=dashed,dir=none,color=\"gray\",weight=3,weight=5];" \
  "port_${S1}_tap_ipvpn1 [label=\"\",style=invis,height=0,width=0,fixedsize=true];"
has "re-advertisement and attract-traffic edges" \
  "rt_64512_512 -> vpn_${S2}__vrf_redirect:readv [label=\"\",$O,style=dashed,arrowhead=diamond,arrowtail=oinv,headclip=false,dir=both];" \
  "vpn_${S2}__vrf_redirect:readv -> rt_64512_700 [label=\"\",$O,style=dashed,arrowhead=onormal,tailclip=false,dir=both,arrowtail=oinv];" \
  "vpn_${S2}__vrf_redirect:readv -> attract_${S2}__vrf_redirect [label=\"flow\",color=\"red\",fontcolor=\"red\",style=dotted,arrowhead=none,dir=both,arrowtail=oinv];" \
  "attract_${S2}__vrf_redirect -> rt_64512_800 [label=\"\",weight=50,color=\"red\",fontcolor=\"red\",style=dotted];" \
  "attract_${S2}__vrf_redirect -> rt_64512_700 [label=\"action\",color=\"red\",fontcolor=\"red\",style=dashed,arrowhead=none,weight=20];"
has "EVI plugged into a VRF; to-<dest> port" \
  "vpn_${S2}__evpn_gw -> vpn_${S2}__vrf_redirect [weight=500];" \
  "port_${S2}_to_dest1 -> dest_${S2}_dest1 [style=dashed,dir=none,color=\"gray\",weight=5];" \
  "dest_${S2}_dest1 [label=\"dest1\\n[$NET.2]\",shape=\"square\",color=\"gray\"];"
n=$(grep -c -- '->' "$RUN/out")
[ "$n" -eq 18 ] && ok "18 edges, no others" || fail "edge count $n: $(cat "$RUN/out")"
grep -q "^$NET.2 /looking-glass/vpns/instances/evpn-gw/ports$" "$RUN/requests.log" &&
  ok "ports href followed (a 404 counts as no ports)" || fail "requests: $(cat "$RUN/requests.log")"

if command -v dot >/dev/null 2>&1; then
  dot -Tsvg "$RUN/out" >/dev/null 2>"$RUN/dot.err" && ok "dot accepts the output" ||
    fail "dot: $(cat "$RUN/dot.err")"
else
  ok "dot syntax check: skipped (Graphviz not installed)"
fi

"$CLI" --server "$NET.1" --port "$PORT" --prefix nowhere >"$RUN/out" 2>"$RUN/err"
RC=$?
[ $RC -eq 0 ] && ! grep -q -- '->' "$RUN/out" && ok "--prefix: 404 everywhere gives an empty graph" ||
  fail "--prefix (rc $RC): $(cat "$RUN/out" "$RUN/err")"
printf '[API]\nport = %s\n' "$PORT" >"$RUN/bgp.conf"
"$CLI" --server "$NET.1" --config-file "$RUN/bgp.conf" >"$RUN/out" 2>"$RUN/err"
RC=$?
[ $RC -eq 0 ] && grep -q "vpn_${S1}__ipvpn_test" "$RUN/out" && ok "port from --config-file" ||
  fail "--config-file (rc $RC): $(cat "$RUN/err")"
"$CLI" --server "$NET.3" --port "$PORT" >"$RUN/out" 2>"$RUN/err"
RC=$?
[ $RC -eq 1 ] && grep -q "Error requesting http://$NET.3:$PORT/looking-glass/vpns/instances" \
  "$RUN/err" && [ ! -s "$RUN/out" ] && ok "unreachable looking glass: exit 1, Error requesting" ||
  fail "unreachable (rc $RC): $(cat "$RUN/out" "$RUN/err")"

echo "$NAME: $FAILS failure(s)"
[ $FAILS -eq 0 ]
