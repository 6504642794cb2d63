#!/bin/bash
# The REST API and looking glass of bagpipe-bgp, over HTTP:
#   1. two bagpipe-bgp daemons peer (A 127.0.74.1 <-> B 127.0.74.2, B sends
#      the RTC wildcard); A's API on 127.0.74.1:18274;
#   2. /ping is one integer for the life of the process; / is {};
#   3. the looking glass: root (summary inline, hrefs built from the Host
#      header), summary/version, bgp/peers[/<ip>] (Established, counters),
#      bgp/workers, bgp/routes (the RTC wildcard from BGP-127.0.74.2),
#      config (MD5 password masked), vpns/instances, logs; JSON 404/405/413;
#   4. bagpipe-looking-glass prints the original's text format, reads the
#      port from --config-file, and prints "No such looking glass path";
#   5. --state-file still works; an [API] endpoint already in use is a clear
#      error and exit 1; SIGTERM closes the API.
# Loopback only: 127.0.74.0/24. HTTP with curl when installed, else python3.
set -u -o pipefail

NAME=looking_glass
ROOT=${BAGPIPE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BAGPIPE_BUILD_DIR:-$ROOT/build}
DAEMON=$BUILD/src/daemon/bagpipe-bgp
LG=$BUILD/tools/bagpipe-looking-glass
NET=127.0.74
PORT=18274

die() { echo "$NAME: FAIL: $*" >&2; exit 1; }
[ -x "$DAEMON" ] || die "$DAEMON not built"
[ -x "$LG" ] || die "$LG not built"

RUN=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX") || die "mktemp"
PIDS=()
stop_pid() { # stop_pid PID: SIGTERM, wait; returns its exit status
  kill -TERM "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$RUN"
}
trap cleanup EXIT

FAILS=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }

# http METHOD URL [BODY-FILE]: prints the status; the body goes to $RUN/body.
if command -v curl >/dev/null 2>&1; then
  http() {
    local args=(-s -o "$RUN/body" -w '%{http_code}' -X "$1" --max-time 10)
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "@$3")
    curl "${args[@]}" "$2" || true
  }
else
  http() {
    python3 - "$@" "$RUN/body" <<'PY'
import sys, urllib.request, urllib.error
method, url = sys.argv[1], sys.argv[2]
out = sys.argv[-1]
data = open(sys.argv[3], 'rb').read() if len(sys.argv) > 4 else None
req = urllib.request.Request(url, data=data, method=method,
                             headers={'Content-Type': 'application/json'})
try:
    r = urllib.request.urlopen(req, timeout=10)
    code, body = r.status, r.read()
except urllib.error.HTTPError as e:
    code, body = e.code, e.read()
except Exception:
    code, body = 0, b''
open(out, 'wb').write(body)
print(code, end='')
PY
  }
fi

# jcheck NAME PYTHON-EXPR: evaluates EXPR with j = the JSON of $RUN/body.
jcheck() {
  if python3 - "$RUN/body" "$2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if eval('(' + sys.argv[2] + ')') else 1)
PY
  then ok "$1"; else fail "$1: $(head -c 400 "$RUN/body")"; fi
}

API=http://$NET.1:$PORT
cat > "$RUN/a.conf" <<EOF2
[BGP]
local_address = $NET.1
peers = $NET.2, $NET.3
my_as = 64512
enable_rtc = True
hold_time = 30

[BGP_PEER $NET.3]
passive = True
md5_password = very-secret-password

[API]
host = $NET.1
port = $PORT
EOF2
cat > "$RUN/b.conf" <<EOF2
[BGP]
local_address = $NET.2
peers = $NET.1
my_as = 64512
enable_rtc = True
rtc_wildcard = True
hold_time = 30

[API]
host = $NET.2
port = $PORT
EOF2

"$DAEMON" --config-file "$RUN/a.conf" --log-file "$RUN/a.log" --state-file "$RUN/state.json" &
A=$!
PIDS+=("$A")
"$DAEMON" --config-file "$RUN/b.conf" --log-file "$RUN/b.log" &
PIDS+=($!)

# 1. API up, session Established.
for _ in $(seq 1 50); do
  [ "$(http GET "$API/ping")" = 200 ] && break
  kill -0 "$A" 2>/dev/null || { tail -20 "$RUN/a.log" >&2; die "bagpipe-bgp A exited"; }
  sleep 0.1
done
[ "$(http GET "$API/ping")" = 200 ] || die "no API on $API"
state=""
for _ in $(seq 1 100); do
  http GET "$API/looking-glass/bgp/peers/$NET.2/protocol/state" >/dev/null
  state=$(cat "$RUN/body")
  [ "$state" = '"Established"' ] && break
  sleep 0.1
done
[ "$state" = '"Established"' ] && ok "A <-> B Established (bgp/peers/$NET.2/protocol/state)" ||
  fail "session A <-> B: $state"

# 2. /ping and /.
http GET "$API/ping" >/dev/null
p1=$(cat "$RUN/body")
sleep 0.2
http POST "$API/ping" "$RUN/a.conf" >/dev/null
p2=$(cat "$RUN/body")
[[ "$p1" =~ ^[0-9]+$ ]] && [ "$p1" = "$p2" ] && ok "/ping stable ($p1)" || fail "/ping: $p1 / $p2"
[ "$(http GET "$API/")" = 200 ] && [ "$(cat "$RUN/body")" = "{}" ] && ok "GET / is {}" ||
  fail "GET /"

# 3. The looking glass.
[ "$(http GET "$API/looking-glass")" = 200 ] || fail "GET /looking-glass"
jcheck "root: summary inline, hrefs from Host" \
  "j['summary']['BGP_established_peers'] == 1 and j['config']['href'] == '$API/looking-glass/config'
   and list(j) == ['summary', 'config', 'bgp', 'vpns', 'logs']
   and set(j['summary']) >= {'route_counts', 'vpn_instances_count', 'warnings_and_errors',
                             'start_time', 'version'}"
http GET "$API/looking-glass/summary/version" >/dev/null
jcheck "summary/version is a string" "isinstance(j, str)"
http GET "$API/looking-glass/bgp/peers" >/dev/null
jcheck "bgp/peers lists both peers with state and href" \
  "[p['id'] for p in j] == ['$NET.2', '$NET.3'] and j[0]['state'] == 'Established'
   and j[0]['href'] == '$API/looking-glass/bgp/peers/$NET.2'"
http GET "$API/looking-glass/bgp/peers/$NET.2" >/dev/null
jcheck "bgp/peers/$NET.2: addresses, AS, RTC, families, counters" \
  "j['peeringAddresses'] == {'peer_address': '$NET.2', 'local_address': '$NET.1'}
   and j['as_info'] == {'local': 64512, 'peer': 64512} and j['rtc']['active']
   and '(ipv4, rtc)' in j['active_families'] and '(ipv4, mpls-vpn)' in j['active_families']
   and j['counters']['messages_in']['open'] >= 1 and j['name'] == 'BGP-$NET.2'"
http GET "$API/looking-glass/bgp/workers" >/dev/null
jcheck "bgp/workers: BGP-<ip>" "[w['id'] for w in j] == ['BGP-$NET.2', 'BGP-$NET.3']"
for _ in $(seq 1 30); do
  http GET "$API/looking-glass/bgp/routes" >/dev/null
  grep -q "rtc" "$RUN/body" && grep -q "BGP-$NET.2" "$RUN/body" && break
  sleep 0.1
done
jcheck "bgp/routes: the RTC wildcard from BGP-$NET.2" \
  "len(j['ipv4/rtc,*']) == 1 and j['ipv4/mpls-vpn,*'] == []
   and list(j['ipv4/rtc,*'][0].values())[0]['source']['id'] == 'BGP-$NET.2'"
http GET "$API/looking-glass/bgp/routes/ipv4-rtc?limit=1" >/dev/null
jcheck "bgp/routes/ipv4-rtc?limit=1: a page" "j['count'] == 1 and len(j['items']) == 1"
http GET "$API/looking-glass/config" >/dev/null
jcheck "config: the loaded file" "j['API']['port'] == $PORT and j['BGP']['my_as'] == 64512"
grep -q "very-secret-password" "$RUN/body" && fail "config shows the MD5 password" ||
  ok "config masks the MD5 password"
http GET "$API/looking-glass/vpns/instances" >/dev/null
jcheck "vpns/instances: []" "j == []"
http GET "$API/looking-glass/logs" >/dev/null
jcheck "logs: newest first" "len(j) > 0 and set(j[0]) == {'level', 'time', 'name', 'message'}"
code=$(http GET "$API/looking-glass/nonexistent")
[ "$code" = 404 ] && jcheck "404: No such looking glass object" \
  "j['error'].startswith('No such looking glass object: nonexistent')" || fail "404: $code"
code=$(http POST "$API/looking-glass" "$RUN/a.conf")
[ "$code" = 405 ] && jcheck "POST on the looking glass: 405 JSON" "'error' in j" ||
  fail "405: $code"
head -c 2000000 /dev/zero | tr '\0' 'x' > "$RUN/big"
code=$(http POST "$API/ping" "$RUN/big")
[ "$code" = 413 ] && jcheck "2 MB body: 413 JSON" "'error' in j" || fail "413: $code"
code=$(http GET "$API/nowhere")
[ "$code" = 404 ] && jcheck "unknown path: 404 JSON" "'error' in j" || fail "404 path: $code"

# 4. bagpipe-looking-glass.
out=$("$LG" --server $NET.1 --port $PORT bgp peers 2>&1)
if grep -q "^\* $NET.2 (...)$" <<<"$out" && grep -q "^  state: Established$" <<<"$out"; then
  ok "bagpipe-looking-glass bgp peers"
else
  fail "bagpipe-looking-glass bgp peers: $out"
fi
out=$("$LG" --server $NET.1 --config-file "$RUN/a.conf" 2>&1)
grep -q "^summary: $" <<<"$out" && grep -q "^config:  (...)$" <<<"$out" &&
  grep -q "^  BGP_established_peers: 1$" <<<"$out" &&
  ok "bagpipe-looking-glass (port from --config-file)" || fail "bagpipe-looking-glass: $out"
out=$("$LG" --server $NET.1 --port $PORT -r bgp 2>&1)
grep -q "peer_address: $NET.2" <<<"$out" && grep -q "ipv4/rtc,\*: $" <<<"$out" &&
  ok "bagpipe-looking-glass -r bgp" || fail "bagpipe-looking-glass -r bgp: $out"
out=$("$LG" --server $NET.1 --port $PORT vpns instances 2>&1)
[ "$out" = "-" ] && ok "bagpipe-looking-glass vpns instances: -" || fail "vpns instances: $out"
out=$("$LG" --server $NET.1 --port $PORT nope deeper 2>&1)
rc=$?
[ $rc -ne 0 ] && [ "$(head -1 <<<"$out")" = "No such looking glass path: nope deeper" ] &&
  ok "bagpipe-looking-glass: No such looking glass path" || fail "404 CLI ($rc): $out"
out=$("$LG" --server $NET.1 --port $PORT --json summary 2>&1)
python3 -c 'import json,sys; json.loads(sys.argv[1])' "$out" 2>/dev/null &&
  ok "bagpipe-looking-glass --json" || fail "--json: $out"

# 5. State file; API endpoint in use; SIGTERM.
python3 -c "
import json; s = json.load(open('$RUN/state.json'))
assert any(p['address'] == '$NET.2' for p in s['peers'])" 2>/dev/null &&
  ok "--state-file still written" || fail "--state-file"
cat > "$RUN/c.conf" <<EOF2
[BGP]
local_address = $NET.5
peers = $NET.6
my_as = 64512
listen = False

[API]
host = $NET.1
port = $PORT
EOF2
timeout 10 "$DAEMON" --config-file "$RUN/c.conf" --log-file "$RUN/c.log"
rc=$?
[ $rc -eq 1 ] && grep -q "cannot listen on \[API\] $NET.1:$PORT" "$RUN/c.log" &&
  ok "[API] endpoint in use: exit 1 with a clear error" || fail "API in use: rc $rc"
stop_pid "$A"
rc=$?
PIDS=("${PIDS[@]:1}")
[ $rc -eq 0 ] && grep -q "bagpipe-bgp: stopped" "$RUN/a.log" && ok "SIGTERM: clean stop" ||
  fail "SIGTERM: rc $rc"
[ "$(http GET "$API/ping")" != 200 ] && ok "API closed after SIGTERM" || fail "API still up"

echo "$NAME: $FAILS failure(s)"
[ $FAILS -eq 0 ]
