#!/bin/bash
# Route reflectors side by side (issue 6): bagpipe-bgp, BIRD 2, OpenBGPD, FRR
# bgpd (no zebra) and GoBGP, one after the other on loopback (127.0.80.0/24),
# each fed by bagpipe-bgp-bench (one injector, K counting clients).
#
#   ./bench/rr/compare.sh [--quick] [--update-benchmarks] [--repeat N] [--rr LIST]
#                         [--scenarios LIST] [--routes N] [--timeout S] ...   (--help)
#
# Scenarios: vpn2, vpn10 (1 M VPNv4, 1 000 attribute sets, 2 / 10 clients),
# evpn (1 M EVPN type 2; GoBGP 20 k), rtc (100 k VPNv4, 100 RTC clients each
# importing 1 %), withdraw, flap. --quick: 100 k (RTC 20 k, GoBGP EVPN 5 k).
# Writes bench/rr/results/<date>[-quick].{md,json} and docs/rr-compare.png
# (quick: next to the results); --update-benchmarks rewrites the section
# "## Route reflector side by side" of BENCHMARKS.md. Needs root (port 179);
# installs what is missing of the project's Debian packages first (the five
# RRs, gnuplot-nox for the chart, the build tools: scripts/lib/packages.sh),
# unless --no-install is the first argument.
# Every process is stopped by PID; the driver is bench/rr/compare.py.
set -u -o pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BAGPIPE_BUILD_DIR:-$ROOT/build}
if [ "${1:-}" = --no-install ]; then
  shift
else
  # shellcheck source=../../scripts/lib/packages.sh
  source "$ROOT/scripts/lib/packages.sh"
  trap bagpipe_packages_cleanup EXIT
  bagpipe_install_packages >&2 || { echo "compare.sh: package install failed" >&2; exit 2; }
  trap - EXIT
fi
if [ ! -d "$BUILD" ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja >&2 || exit 2
fi
if [ ! -x "$BUILD/src/daemon/bagpipe-bgp" ] || [ ! -x "$BUILD/tools/bagpipe-bgp-bench" ]; then
  echo "compare.sh: building bagpipe-bgp and bagpipe-bgp-bench in $BUILD" >&2
  ninja -C "$BUILD" -j2 bagpipe-bgp bagpipe-bgp-bench >&2 || exit 2
fi
command -v python3 >/dev/null || { echo "compare.sh: python3 is required" >&2; exit 2; }
command -v gnuplot >/dev/null || echo "compare.sh: gnuplot not installed (apt-get install gnuplot-nox): no chart" >&2

PY=""
cleanup() {
  if [ -n "$PY" ]; then
    kill -TERM "$PY" 2>/dev/null   # the driver stops its RR and tool by PID, then writes what it has
    wait "$PY" 2>/dev/null
    PY=""
  fi
}
trap cleanup EXIT
trap 'cleanup; trap - EXIT; exit 130' INT
trap 'cleanup; trap - EXIT; exit 143' TERM
BAGPIPE_BUILD_DIR=$BUILD python3 "$ROOT/bench/rr/compare.py" "$@" &
PY=$!
wait "$PY"
rc=$?
PY=""
exit "$rc"
