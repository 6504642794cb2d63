#!/bin/bash
# bagpipe-bgp as a route reflector, driven by bagpipe-bgp-bench (our neutral
# load generator): one injecting client and three receiving clients.
#   1. 20 k VPNv4 (100 attribute sets, 10 route targets) + 2 k EVPN MAC/IP +
#      1 k VPNv6 reach every client exactly, then their withdrawal.
#   2. RT Constraint: each client imports a tenth of the route targets
#      (fraction:0.1) and must receive exactly the routes of those RTs.
#   3. A client flapping during a full table gets it all again.
#   4. The state file shows the peers Established with their counters, and
#      SIGTERM sends a Cease to every peer (the tool sees the sessions close).
#   5. --check-config rejects a broken config with file:line messages.
# Loopback only: 127.0.72.0/24 (RR .1, injector .10, clients .11-.13).
set -u -o pipefail

NAME=daemon_rr
ROOT=${BAGPIPE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BAGPIPE_BUILD_DIR:-$ROOT/build}
DAEMON=$BUILD/src/daemon/bagpipe-bgp
BENCH=$BUILD/tools/bagpipe-bgp-bench
NET=127.0.72

die() { echo "$NAME: FAIL: $*" >&2; exit 1; }
[ -x "$DAEMON" ] || die "$DAEMON not built"
[ -x "$BENCH" ] || die "$BENCH not built"

RUN=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX") || die "mktemp"
PID=""
stop_daemon() {
  if [ -n "$PID" ]; then
    kill -TERM "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
    local rc=$?
    PID=""
    return $rc
  fi
}
cleanup() { stop_daemon; rm -rf "$RUN"; }
trap cleanup EXIT

write_conf() { # write_conf FILE ENABLE_RTC
  {
    echo "[BGP]"
    echo "local_address = $NET.1"
    echo "peers = $NET.10, $NET.11, $NET.12, $NET.13"
    echo "my_as = 64512"
    echo "route_reflector = True"
    echo "enable_rtc = $2"
    echo "hold_time = 30"
    for a in 10 11 12 13; do
      echo "[BGP_PEER $NET.$a]"
      echo "passive = True"
    done
  } > "$1"
}

start_daemon() { # start_daemon CONF
  "$DAEMON" --config-file "$1" --state-file "$RUN/state.json" --log-file "$RUN/daemon.log" &
  PID=$!
  for _ in $(seq 1 50); do
    ss -Hltn 2>/dev/null | grep -q " $NET.1:179 " && return 0
    kill -0 "$PID" 2>/dev/null || { tail -20 "$RUN/daemon.log" >&2; die "bagpipe-bgp exited"; }
    sleep 0.1
  done
  die "bagpipe-bgp does not listen on $NET.1:179"
}

FAILS=0
check() { # check NAME JSON-FILE PYTHON-EXPR
  if python3 - "$2" "$3" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2])
if not ok:
    print(json.dumps({k: v for k, v in r.items() if k != "routes"}, indent=1)[:3000])
sys.exit(0 if ok else 1)
PY
  then echo "ok   $1"; else echo "FAIL $1"; FAILS=$((FAILS + 1)); fi
}
bench() { # bench OUT ARGS...
  local out=$1
  shift
  "$BENCH" --target "$NET.1" --injector-address "$NET.10" --client-address-base "$NET.11" \
    --clients 3 --timeout 60 -q "$@" > "$out" 2> "$out.err"
  echo "     $(basename "$out" .json): exit $? $(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print('ok=%s all_received_s=%s withdraw_s=%s' % (r.get('ok'), r.get('all_received_s'), r.get('withdraw_s')))" "$out" 2>/dev/null)"
}

# 1-3 without RTC.
write_conf "$RUN/plain.conf" False
start_daemon "$RUN/plain.conf"
bench "$RUN/families.json" --family vpnv4=20000 --family evpn-mac=2000 --family vpnv6=1000 \
  --attr-sets 100 --rts 10 --withdraw
check "23 k routes of 3 families to 3 clients, then withdrawn" "$RUN/families.json" \
  "r['ok'] and r['expected_per_client'] == 23000 and all(c['complete_s'] is not None for c in r['clients'])"
bench "$RUN/flap.json" --routes 20000 --flap-client 2
check "client 2 flaps during a full table and gets it all again" "$RUN/flap.json" "r['ok']"
stop_daemon || FAILS=$((FAILS + 1))
grep -q "bagpipe-bgp: stopped" "$RUN/daemon.log" && echo "ok   SIGTERM: clean stop" ||
  { echo "FAIL SIGTERM: no clean stop"; FAILS=$((FAILS + 1)); }

# 2 with RTC.
write_conf "$RUN/rtc.conf" True
start_daemon "$RUN/rtc.conf"
bench "$RUN/rtc.json" --routes 20000 --rts 100 --client-rtc fraction:0.1
check "RTC: every client gets exactly the routes of its 10 % of the RTs" "$RUN/rtc.json" \
  "r['ok'] and set(r['expected_per_client'] if isinstance(r['expected_per_client'], list) else [r['expected_per_client']]) == {2000} and all(c.get('unwanted', 0) == 0 for c in r['clients'])"

# 4: while three clients wait (for a route that never comes), the state
# file shows them Established and the absent injector not. (The RR holds a
# peer that just went down in Idle for its back-off, 5 s at first, before it
# accepts it again: hence the long wait.)
"$BENCH" --target "$NET.1" --injector-address "$NET.10" --client-address-base "$NET.11" \
  --clients 3 --timeout 14 -q --no-inject --expect 1 > /dev/null 2>&1 &
HOLD=$!
seen=0
for _ in $(seq 1 60); do
  if python3 - "$RUN/state.json" "$NET" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
net = sys.argv[2]
st = {p["address"]: p["state"] for p in r["peers"]}
ok = len(st) == 4 and all(st[f"{net}.{a}"] == "Established" for a in (11, 12, 13)) \
    and st[f"{net}.10"] != "Established" \
    and all("prefixes_received" in p and "nlri_announced_out" in p for p in r["peers"])
sys.exit(0 if ok else 1)
PY
  then seen=1; break; fi
  sleep 0.2
done
kill "$HOLD" 2>/dev/null
wait "$HOLD" 2>/dev/null
if [ "$seen" -eq 1 ]; then echo "ok   state file: the 3 waiting clients Established, the injector not"
else echo "FAIL state file never showed the 3 clients Established: $(head -c 600 "$RUN/state.json")"; FAILS=$((FAILS + 1)); fi
stop_daemon || FAILS=$((FAILS + 1))

# 5: configuration errors.
printf '[BGP]\nlocal_address = 127.0.72.1\nmy_as = 70000x\npeers = 127.0.72.1\n' > "$RUN/bad.conf"
out=$("$DAEMON" --config-file "$RUN/bad.conf" --check-config 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && grep -q "bad.conf:3" <<<"$out"; then
  echo "ok   --check-config rejects a bad file (exit 2, bad.conf:3)"
else
  echo "FAIL --check-config: exit $rc: $out"
  FAILS=$((FAILS + 1))
fi

[ "$FAILS" -eq 0 ] || die "$FAILS check(s) failed; daemon log tail:$(tail -5 "$RUN/daemon.log")"
echo "$NAME: all checks passed"
