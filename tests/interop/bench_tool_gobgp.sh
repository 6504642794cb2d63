#!/bin/bash
# bagpipe-bgp-bench against a real GoBGP 3.10 route reflector (Debian's gobgpd):
# 10 k VPNv4 routes to 2 clients, 1 k EVPN (MAC/IP + IMET + IP prefix) to 2
# clients, RT Constraint filtering (--client-rtc fraction:0.5), withdrawal of
# everything, and the tool's self-test (injector -> counter, no RR). Every run
# must report "ok": true with exact per-client, per-family counts.
#
# Loopback only, address block 127.0.40.0/24: RR 127.0.40.1 (gRPC API
# 127.0.40.1:50140), injector 127.0.40.10, clients 127.0.40.11 and .12,
# self-test 127.0.40.21 -> .22. A missing gobgpd is a failure, not a skip.
#
# Run by scripts/test (BAGPIPE_BUILD_DIR, BAGPIPE_SOURCE_DIR); standalone:
#   BAGPIPE_BUILD_DIR=build-bench tests/interop/bench_tool_gobgp.sh
set -u -o pipefail

NAME=bench_tool_gobgp
ROOT=${BAGPIPE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BIN=${BAGPIPE_BUILD_DIR:-$ROOT/build}/tools/bagpipe-bgp-bench
NET=127.0.40
API_PORT=50140

die() {
  echo "$NAME: FAIL: $*" >&2
  exit 1
}
[ -x "$BIN" ] || die "$BIN not built"
command -v gobgpd >/dev/null || die "gobgpd not installed (Debian package gobgpd)"
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

# GoBGP RR for VPNv4, EVPN and RTC (after the reference config in
# shared/reference/peers/gobgp/rr.toml), listening on $NET.1 only.
cat > "$RUN/rr.toml" <<TOML
[global.config]
  as = 64512
  router-id = "$NET.1"
  port = 179
  local-address-list = ["$NET.1"]
[[peer-groups]]
  [peer-groups.config]
    peer-group-name = "clients"
    peer-as = 64512
  [peer-groups.transport.config]
    local-address = "$NET.1"
    passive-mode = true
  [peer-groups.route-reflector.config]
    route-reflector-client = true
    route-reflector-cluster-id = "$NET.1"
  [[peer-groups.afi-safis]]
    [peer-groups.afi-safis.config]
      afi-safi-name = "l3vpn-ipv4-unicast"
  [[peer-groups.afi-safis]]
    [peer-groups.afi-safis.config]
      afi-safi-name = "l2vpn-evpn"
  [[peer-groups.afi-safis]]
    [peer-groups.afi-safis.config]
      afi-safi-name = "rtc"
TOML
for host in 10 11 12; do
  printf '[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "%s.%s"\n    peer-group = "clients"\n' \
    "$NET" "$host" >> "$RUN/rr.toml"
done

gobgpd -f "$RUN/rr.toml" --api-hosts "$NET.1:$API_PORT" --pprof-disable -l info > "$RUN/gobgpd.log" 2>&1 &
RR_PID=$!
for _ in $(seq 1 100); do
  ss -Hltn 2>/dev/null | grep -q " $NET.1:179 " && break
  kill -0 "$RR_PID" 2>/dev/null || { tail -20 "$RUN/gobgpd.log" >&2; die "gobgpd exited"; }
  sleep 0.1
done
ss -Hltn | grep -q " $NET.1:179 " || die "gobgpd does not listen on $NET.1:179"
# GoBGP closes connections that arrive before its peers are configured: settle.
sleep 1
kill -0 "$RR_PID" 2>/dev/null || { tail -20 "$RUN/gobgpd.log" >&2; die "gobgpd exited"; }

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

RR=(--target "$NET.1" --injector-address "$NET.10" --clients 2 --client-address-base "$NET.11")

run vpnv4_10k '
r["injected"] == 10000 and r["expected_per_client"] == 10000 and len(r["clients"]) == 2 and
all(c["received"] == {"ipv4-vpn": 10000} and c["held"] == 10000 and c["unwanted"] == 0
    and c["complete_s"] is not None for c in r["clients"]) and
r["inject_done_s"] <= r["all_received_s"] and r["routes_per_s"] > 0
' "${RR[@]}" --family vpnv4 --routes 10000 --rts 10 --attr-sets 4

run evpn_1k '
r["injected"] == 1000 and r["expected_per_client"] == 1000 and
all(c["received"] == {"l2vpn-evpn": 1000} and c["held"] == 1000 for c in r["clients"])
' "${RR[@]}" --family evpn-mac=800 --family evpn-imet=100 --family evpn-prefix=100

# RT Constraint: 4 RTs, fraction 0.5 -> client 1 imports RTs 1 and 3, client 2
# RTs 2 and 4: each should get exactly half of the VPNv4 and EVPN routes.
run rtc_fraction '
r["expected_per_client"] == 1100 and
all(c["received"]["ipv4-vpn"] == 1000 and c["received"]["l2vpn-evpn"] == 100 and
    c["unwanted"] == 0 and c["rtc_routes"] == 2 for c in r["clients"])
' "${RR[@]}" --family vpnv4=2000 --family evpn-mac=200 --rts 4 --client-rtc fraction:0.5

run withdraw_10k '
r["withdraw_s"] is not None and r["withdraw_s"] > 0 and
all(c["held"] == 0 and c["nlri_withdrawn"] >= 10000 for c in r["clients"])
' "${RR[@]}" --family vpnv4 --routes 10000 --withdraw

run self_test_100k '
r["mode"] == "self-test" and r["injected"] == 100000 and
r["clients"][0]["received"] == {"ipv4-vpn": 100000}
' --self-test --injector-address "$NET.21" --client-address-base "$NET.22" --routes 100000

kill -0 "$RR_PID" 2>/dev/null || { tail -20 "$RUN/gobgpd.log" >&2; die "gobgpd died during the runs"; }
if [ "$FAILS" -ne 0 ]; then
  echo "$NAME: $FAILS check(s) failed" >&2
  exit 1
fi
echo "$NAME: all checks passed"
exit 0
