#!/bin/bash
# bagpipe-bgp-cleanup:
#   1. with dummy drivers (tests/data/config/bagpipe-ref-bgp.conf and a
#      minimal file with no dataplane sections): both drivers are reset, the
#      output says so, exit 0;
#   2. a driver option the driver refuses: the error is printed, the other
#      driver is still reset, exit 1;
#   3. a missing or invalid configuration file: the loader's error, nothing
#      reset, exit 1; an unknown option: exit 2;
#   4. the E-VPN linux driver (root only, else skipped), inside a throw-away
#      network namespace (`unshare --net`): every evpn---*/vxlan--* device is
#      deleted, other devices are left alone.
# Run by scripts/test (BAGPIPE_BUILD_DIR); standalone:
#   BAGPIPE_BUILD_DIR=build-cli tests/integration/cleanup_cli.sh
# Exit: 0 pass, 1 fail. No network use (addresses in 127.0.75.0/24).
set -u -o pipefail

NAME=cleanup_cli
ROOT=${BAGPIPE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BAGPIPE_BUILD_DIR:-${BUILD_DIR:-$ROOT/build}}
CLI=$BUILD/tools/bagpipe-bgp-cleanup
NET=127.0.75

die() { echo "$NAME: FAIL: $*" >&2; exit 1; }
[ -x "$CLI" ] || die "$CLI not built"

RUN=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX") || die "mktemp"
trap 'rm -rf "$RUN"' EXIT

FAILS=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }
run() {
  "$CLI" "$@" >"$RUN/out" 2>"$RUN/err"
  RC=$?
}
RESET_IPVPN="ipvpn dataplane driver 'dummy': state reset"
RESET_EVPN="evpn dataplane driver 'dummy': state reset"

run --config-file "$ROOT/tests/data/config/bagpipe-ref-bgp.conf"
[ $RC -eq 0 ] && [ "$(cat "$RUN/out")" = "$RESET_IPVPN"$'\n'"$RESET_EVPN" ] &&
  ok "the reference bgp.conf (dummy drivers): both reset, exit 0" ||
  fail "reference config (rc $RC): $(cat "$RUN/out" "$RUN/err")"

cat >"$RUN/minimal.conf" <<EOF
[BGP]
local_address = $NET.1
peers = $NET.2
my_as = 64512
EOF
run --config-file "$RUN/minimal.conf"
[ $RC -eq 0 ] && grep -qxF "$RESET_IPVPN" "$RUN/out" && grep -qxF "$RESET_EVPN" "$RUN/out" &&
  ok "no [DATAPLANE_DRIVER_*] sections: the dummy defaults, exit 0" ||
  fail "minimal config (rc $RC): $(cat "$RUN/out" "$RUN/err")"

cat >"$RUN/bad-option.conf" <<EOF
[BGP]
local_address = $NET.1
peers = $NET.2
my_as = 64512

[DATAPLANE_DRIVER_IPVPN]
dataplane_driver = dummy
encapsulations = no-such-encap

[DATAPLANE_DRIVER_EVPN]
dataplane_driver = dummy
EOF
run --config-file "$RUN/bad-option.conf"
[ $RC -eq 1 ] && grep -q "ipvpn dataplane driver 'dummy': .*no-such-encap" "$RUN/err" &&
  [ "$(cat "$RUN/out")" = "$RESET_EVPN" ] &&
  ok "a driver refusing its options: error, the other driver still reset, exit 1" ||
  fail "bad driver option (rc $RC): $(cat "$RUN/out" "$RUN/err")"

run --config-file "$RUN/missing.conf"
[ $RC -eq 1 ] && grep -q "missing.conf" "$RUN/err" && grep -q "nothing was reset" "$RUN/err" &&
  [ ! -s "$RUN/out" ] && ok "missing config file: exit 1, nothing reset" ||
  fail "missing config (rc $RC): $(cat "$RUN/out" "$RUN/err")"

printf '[BGP]\nmy_as = 70000x\n' >"$RUN/invalid.conf"
run --config-file "$RUN/invalid.conf"
[ $RC -eq 1 ] && grep -q "my_as" "$RUN/err" && [ ! -s "$RUN/out" ] &&
  ok "invalid config file: the loader's errors, exit 1" ||
  fail "invalid config (rc $RC): $(cat "$RUN/out" "$RUN/err")"

run --no-such-option
[ $RC -eq 2 ] && ok "unknown option: exit 2" || fail "unknown option: rc $RC"

cat >"$RUN/linux.conf" <<EOF
[BGP]
local_address = $NET.1
peers = $NET.2
my_as = 64512

[DATAPLANE_DRIVER_EVPN]
dataplane_driver = linux
EOF
if [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null; then
  # Everything below runs in an anonymous namespace that disappears with it.
  unshare --net bash -c '
    ip link add evpn---t1 type bridge && ip link add vxlan--t1 type vxlan id 5 dstport 4789 &&
    ip link add evpn---t2 type bridge && ip link add keep0 type bridge || exit 3
    ip link set vxlan--t1 master evpn---t1
    "$0" --config-file "$1" >"$2/out" 2>"$2/err"; rc=$?
    ip -o link show | cut -d: -f2 | tr -d " " | sed "s/@.*//" >"$2/links"
    exit $rc' "$CLI" "$RUN/linux.conf" "$RUN"
  RC=$?
  [ $RC -eq 0 ] && grep -qxF "evpn dataplane driver 'linux': state reset" "$RUN/out" &&
    ! grep -qE '^(evpn---|vxlan--)' "$RUN/links" && grep -qx keep0 "$RUN/links" &&
    ok "linux E-VPN driver (private netns): our devices deleted, others kept, exit 0" ||
    fail "linux E-VPN cleanup (rc $RC): $(cat "$RUN/out" "$RUN/err" "$RUN/links" 2>/dev/null)"
else
  echo "skip linux E-VPN cleanup: needs root and network namespaces"
fi

echo "$NAME: $FAILS failure(s)"
[ $FAILS -eq 0 ]
