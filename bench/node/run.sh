#!/bin/bash
# Compute-node (VPN service) benchmarks: bagpipe-bgp as a compute node with
# dummy dataplane drivers, on loopback 127.0.79.0/24, fed by bagpipe-bgp-bench
# and the REST API.
#
#   ./bench/node/run.sh [--only ingest,framing,latency,attach,start] [--routes N]
#                       [--instances 100,1000] [--repeat N] [--latency-count N] ... (--help)
#
#   ingest   100 k E-VPN type 2 / VPNv4 routes from the bench tool into a node
#            with 100 and 1,000 instances (one RT each): time from the first
#            injected byte to the last route programmed in the dummy driver,
#            routes/s, peak RSS; plus a framing check (UPDATEs cut into
#            1-octet and random TCP segments);
#   latency  REST attach on node A -> remote endpoint programmed on node B
#            through a bagpipe-bgp route reflector (p50/p90/p99/max): back to
#            back, after 50 ms idle, in bursts; the same on a second fabric
#            with TCP_NODELAY forced by an LD_PRELOAD shim (nodelay_shim.c,
#            built with cc; --no-shim skips it); the machine's TCP round trip;
#   attach   1,000 sequential attaches to one node (keep-alive, one
#            connection per request, pipelined), 3 series each;
#   start    exec -> BGP Established with a peer already listening, and the
#            idle RSS of a node with one peer and no attachment.
#
# Prints a Markdown table; writes bench/node/results/<date>.{json,md}. Needs
# root (port 179), python3 (Debian's), the two binaries in $BAGPIPE_BUILD_DIR
# (default build/). Every process is started and stopped by PID by the
# driver, bench/node/node_bench.py.
set -u -o pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BAGPIPE_BUILD_DIR:-$ROOT/build}
for b in src/daemon/bagpipe-bgp tools/bagpipe-bgp-bench; do
  [ -x "$BUILD/$b" ] || { echo "run.sh: $BUILD/$b not built (ninja -C $BUILD bagpipe-bgp bagpipe-bgp-bench)" >&2; exit 2; }
done
PYTHON=/usr/bin/python3   # Debian's python3 (stdlib only)
[ -x "$PYTHON" ] || PYTHON=$(command -v python3) || { echo "run.sh: python3 is required" >&2; exit 2; }

PY=""
cleanup() {
  if [ -n "$PY" ]; then
    kill -TERM "$PY" 2>/dev/null   # the driver stops its daemons and tools by PID
    wait "$PY" 2>/dev/null
    PY=""
  fi
}
trap cleanup EXIT
trap 'cleanup; trap - EXIT; exit 130' INT
trap 'cleanup; trap - EXIT; exit 143' TERM
BAGPIPE_BUILD_DIR=$BUILD "$PYTHON" "$ROOT/bench/node/node_bench.py" "$@" &
PY=$!
wait "$PY"
rc=$?
PY=""
exit "$rc"
