#!/bin/bash
# bagpipe-bgp with the E-VPN linux driver, end to end, inside a throw-away
# network namespace (`unshare --net`: anonymous, removed with the process;
# the root namespace is never touched):
#   1. attach an E-VPN port: bridge evpn---smoke and vxlan--smoke are
#      created, the VXLAN port has learning off / neigh_suppress on, tap1 is
#      enslaved with a static FDB entry for the VM MAC, the looking glass
#      shows the instance's dataplane;
#   2. detach: both devices are deleted, tap1 is left (released);
#   3. a restart with reconcile (default): devices of the previous run are
#      kept (same ifindex) when the instance is attached again (the attach
#      forces the VNI, as Neutron does: an allocated VNI may differ after a
#      restart, and a VXLAN device with another VNI is replaced).
# Needs root and unshare(CLONE_NEWNET); skipped (exit 0) otherwise.
# Run by scripts/test (BAGPIPE_BUILD_DIR); standalone:
#   BAGPIPE_BUILD_DIR=build tests/integration/evpn_linux_daemon.sh
set -u -o pipefail

NAME=evpn_linux_daemon
ROOT=${BAGPIPE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BAGPIPE_BUILD_DIR:-${BUILD_DIR:-$ROOT/build}}
DAEMON=$BUILD/src/daemon/bagpipe-bgp

die() { echo "$NAME: FAIL: $*" >&2; exit 1; }
[ -x "$DAEMON" ] || die "$DAEMON not built"
if [ "$(id -u)" != 0 ] || ! unshare --net true 2>/dev/null; then
  echo "$NAME: skip: needs root and network namespaces"
  exit 0
fi
command -v curl >/dev/null 2>&1 || { echo "$NAME: skip: needs curl"; exit 0; }

RUN=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX") || die "mktemp"
trap 'rm -rf "$RUN"' EXIT

# Everything below runs in the private namespace.
unshare --net bash -s "$DAEMON" "$RUN" <<'INNER'
set -u
DAEMON=$1; RUN=$2
API=http://127.0.76.1:18276
FAILS=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }
ip link set lo up
ip addr add 127.0.76.1/32 dev lo
ip link add tap1 type veth peer name vm1 && ip link set tap1 up || exit 1
cat >"$RUN/e.conf" <<EOF
[BGP]
local_address = 127.0.76.1
peers = 127.0.76.2
my_as = 64512
[API]
host = 127.0.76.1
port = 18276
[DATAPLANE_DRIVER_EVPN]
dataplane_driver = linux
reconcile_grace = 1
EOF
cat >"$RUN/att.json" <<EOF
{"vpn_type": "evpn", "vpn_instance_id": "smoke", "mac_address": "02:00:00:00:00:01",
 "ip_address": "10.0.0.1/24", "local_port": {"linuxif": "tap1"},
 "import_rt": ["64512:1"], "export_rt": ["64512:1"], "vni": 100}
EOF
PID=
start() {
  "$DAEMON" --config-file "$RUN/e.conf" --log-file "$RUN/e$1.log" &
  PID=$!
  for _ in $(seq 100); do curl -s -o /dev/null "$API/ping" && return 0; sleep 0.1; done
  return 1
}
stop() { kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
post() { curl -s --max-time 10 -X POST -H 'Content-Type: application/json' \
           --data-binary "@$RUN/att.json" "$API/$1"; }
settle() { sleep 0.5; }  # the driver programs asynchronously
# (not /sys: sysfs still shows the root namespace's interfaces)
index() { ip -o link show dev "$1" 2>/dev/null | cut -d: -f1; }
master() { ip -o link show dev "$1" 2>/dev/null | sed -n 's/.* master \([^ ]*\) .*/\1/p'; }

start 1 || { echo "FAIL daemon did not start"; cat "$RUN/e1.log"; exit 1; }
[ "$(post attach_localport)" = null ] && ok "attach" || fail "attach"
settle
[ "$(master vxlan--smoke)" = evpn---smoke ] && [ "$(master tap1)" = evpn---smoke ] &&
  ok "bridge evpn---smoke with vxlan--smoke and tap1" || fail "devices: $(ip -o link show)"
ip -d link show vxlan--smoke | grep -q "vxlan id 100 local 127.0.76.1 .*dstport 4789.*nolearning" &&
  ok "vxlan--smoke: local, dstport, nolearning" || fail "$(ip -d link show vxlan--smoke)"
bridge -d link show dev vxlan--smoke | grep -q "learning off .*neigh_suppress on" &&
  ok "vxlan port: learning off, neigh_suppress on" || fail "$(bridge -d link show dev vxlan--smoke)"
bridge fdb show dev tap1 | grep -q "^02:00:00:00:00:01 master evpn---smoke static" &&
  ok "static FDB entry of the VM MAC on tap1" || fail "$(bridge fdb show dev tap1)"
curl -s "$API/looking-glass/vpns/instances/smoke/dataplane" | grep -q '"vxlan_if":"vxlan--smoke"' &&
  ok "looking glass: instance dataplane" || fail "looking glass"
[ "$(post detach_localport)" = null ] && ok "detach" || fail "detach"
settle
[ -z "$(index vxlan--smoke)" ] && [ -z "$(index evpn---smoke)" ] && [ -n "$(index tap1)" ] &&
  [ -z "$(master tap1)" ] && ok "detach: devices deleted, tap1 released" ||
  fail "after detach: $(ip -o link show)"

# Restart: attach, stop (devices stay), start, attach again: adopted.
post attach_localport >/dev/null; settle
BEFORE=$(index vxlan--smoke)
stop
[ "$(index vxlan--smoke)" = "$BEFORE" ] && ok "stop keeps the dataplane" || fail "stop"
start 2 || { echo "FAIL daemon did not restart"; exit 1; }
post attach_localport >/dev/null; settle; sleep 1.5  # past reconcile_grace
[ -n "$BEFORE" ] && [ "$(index vxlan--smoke)" = "$BEFORE" ] && [ "$(master tap1)" = evpn---smoke ] &&
  ok "restart: vxlan--smoke adopted (same ifindex)" || fail "restart: $(ip -o link show)"
post detach_localport >/dev/null; settle
stop
if grep -E "\[(error|critical)\]" "$RUN"/e*.log; then fail "errors logged"; fi
echo "evpn_linux_daemon: $FAILS failure(s)"
[ $FAILS -eq 0 ]
INNER
