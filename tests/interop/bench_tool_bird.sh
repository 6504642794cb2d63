#!/bin/bash
# bagpipe-bgp-bench against a real BIRD 2.0 route reflector (Debian's bird2):
# 10 k VPNv4 routes to 2 clients, with several route targets and attribute
# sets, then withdrawal of everything. Every run must report "ok": true with
# exact per-client counts. (BIRD 2.0 has no EVPN and no RTC channel.)
#
# Loopback only, address block 127.0.42.0/24: RR 127.0.42.1, injector
# 127.0.42.10, clients 127.0.42.11 and .12. BIRD cannot resolve 127/8 next
# hops, so the routes carry the documentation next hop 192.0.2.1 (a value
# inside the NLRI only; BIRD gets a static route for 192.0.2.0/24 via lo, no
# FIB is touched: the kernel protocol is not configured). A missing bird is a
# failure, not a skip.
#
# Run by scripts/test (BAGPIPE_BUILD_DIR, BAGPIPE_SOURCE_DIR); standalone:
#   BAGPIPE_BUILD_DIR=build-bench tests/interop/bench_tool_bird.sh
set -u -o pipefail

NAME=bench_tool_bird
ROOT=${BAGPIPE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BIN=${BAGPIPE_BUILD_DIR:-$ROOT/build}/tools/bagpipe-bgp-bench
NET=127.0.42

die() {
  echo "$NAME: FAIL: $*" >&2
  exit 1
}
[ -x "$BIN" ] || die "$BIN not built"
command -v bird >/dev/null || die "bird not installed (Debian package bird2)"
command -v python3 >/dev/null || die "python3 is required"
command -v ss >/dev/null || die "ss (iproute2) is required"

RUN=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX") || die "mktemp"
RR_PID=""
cleanup() {
  if [ -n "$RR_PID" ]; then
    kill "$RR_PID" 2>/dev/null
    wait "$RR_PID" 2>/dev/null
  fi
  rm -rf "$RUN"
}
trap cleanup EXIT

# BIRD RR for VPNv4 (after shared/reference/peers/bird/bird.conf).
cat > "$RUN/bird.conf" <<CONF
router id $NET.1;
log "$RUN/bird.log" all;
vpn4 table vpntab;
protocol device { }
protocol static igproutes { ipv4; route 192.0.2.0/24 via "lo"; }
template bgp rrclient {
  local $NET.1 as 64512;
  strict bind yes;
  passive yes;
  multihop;
  rr client;
  rr cluster id $NET.1;
  vpn4 mpls { table vpntab; import all; export all; igp table master4; };
}
protocol bgp c10 from rrclient { neighbor $NET.10 as 64512; }
protocol bgp c11 from rrclient { neighbor $NET.11 as 64512; }
protocol bgp c12 from rrclient { neighbor $NET.12 as 64512; }
CONF

bird -f -c "$RUN/bird.conf" -s "$RUN/bird.ctl" -P "$RUN/bird.pid" > "$RUN/bird.out" 2>&1 &
RR_PID=$!
for _ in $(seq 1 100); do
  ss -Hltn 2>/dev/null | grep -q " $NET.1:179 " && break
  kill -0 "$RR_PID" 2>/dev/null || { tail -20 "$RUN/bird.out" "$RUN/bird.log" >&2; die "bird exited"; }
  sleep 0.1
done
ss -Hltn | grep -q " $NET.1:179 " || die "bird does not listen on $NET.1:179"
sleep 0.5

FAILS=0
# run NAME PYTHON-CHECK BENCH-ARGS...: runs the tool, then evaluates the check
# with `r` = its JSON output.
run() {
  local name=$1 check=$2
  shift 2
  local out="$RUN/$name.json"
  "$BIN" --quiet --timeout 120 "$@" > "$out" 2> "$RUN/$name.err"
  local rc=$?
  if python3 - "$out" "$check" "$rc" <<'PY'
import json, sys
path, check, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    r = json.load(open(path))
except Exception as e:
    print(f"  no JSON output ({e})", file=sys.stderr)
    sys.exit(1)
good = rc == 0 and r.get("ok") is True and eval("(" + check + ")")
if not good:
    print(json.dumps(r, indent=1)[:4000], file=sys.stderr)
else:
    figures = {k: r.get(k) for k in ("injected", "inject_done_s", "all_received_s", "routes_per_s", "withdraw_s") if k in r}
    print("  " + json.dumps(figures))
sys.exit(0 if good else 1)
PY
  then
    echo "ok: $name"
  else
    echo "FAIL: $name (exit $rc)" >&2
    tail -5 "$RUN/$name.err" >&2
    FAILS=$((FAILS + 1))
  fi
}

RR=(--target "$NET.1" --injector-address "$NET.10" --clients 2 --client-address-base "$NET.11"
  --next-hop 192.0.2.1)

run vpnv4_10k '
r["injected"] == 10000 and r["expected_per_client"] == 10000 and len(r["clients"]) == 2 and
all(c["received"] == {"ipv4-vpn": 10000} and c["held"] == 10000 and c["unwanted"] == 0
    and c["complete_s"] is not None for c in r["clients"]) and
r["inject_done_s"] <= r["all_received_s"] and r["routes_per_s"] > 0
' "${RR[@]}" --family vpnv4 --routes 10000 --rts 10 --attr-sets 4

run withdraw_10k '
r["withdraw_s"] is not None and r["withdraw_s"] > 0 and
all(c["held"] == 0 and c["nlri_withdrawn"] >= 10000 for c in r["clients"])
' "${RR[@]}" --family vpnv4 --routes 10000 --withdraw

kill -0 "$RR_PID" 2>/dev/null || { tail -20 "$RUN/bird.log" >&2; die "bird died during the runs"; }
if [ "$FAILS" -ne 0 ]; then
  echo "$NAME: $FAILS check(s) failed" >&2
  exit 1
fi
echo "$NAME: all checks passed"
exit 0
