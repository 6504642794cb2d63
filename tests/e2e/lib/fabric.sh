# shellcheck shell=bash
# tests/e2e/lib/fabric.sh - a multi-host BaGPipe fabric in network namespaces, for the
# end-to-end tests (tests/e2e/*.sh) and the demo (scripts/demo). Sourced, bash only.
#
# Topology (every namespace is "$FAB_P-<name>", FAB_P unique per run):
#   ul          the underlay: one bridge "sw"; every host and the RR hang on it
#   <host>      a compute node: eth0 = $FAB_NET.<idx>/24 (BGP and VTEP address),
#               bagpipe-bgp with its REST API / looking glass on 127.0.0.1:8082
#               inside the namespace, ip_forward on
#   <vm>        a VM: eth0 (a veth whose other end, "t<vm>", is in its host)
#   rr          the route reflector's namespace ($FAB_NET.254)
# Nothing is created in the root namespace; traffic stays inside these namespaces.
#
#   fab_init NAME                      run dir ($FAB_RUN), prefix, EXIT trap (fab_cleanup)
#   fab_underlay
#   fab_host NAME IDX [DRIVER_EVPN [DRIVER_IPVPN]]  namespace + underlay link + bgp.conf
#                                      (drivers default linux / linux); extra config lines
#                                      can be appended to $FAB_RUN/NAME.conf before fab_start
#   fab_rr_ours IDX CLIENT_IDX...      bagpipe-bgp as RR (rtc_wildcard) in namespace rr
#   fab_rr_peer KIND IDX CLIENT_IDX... frr | gobgp | bird | openbgpd as RR in namespace rr
#                                      (tests/interop/lib/peers.sh with netns=)
#   fab_start NAME / fab_stop NAME / fab_kill NAME   a host's bagpipe-bgp (by PID)
#   fab_ovs NAME                       private ovsdb-server + ovs-vswitchd in host NAME
#                                      (userspace datapath), OVS_RUNDIR for its daemon
#   fab_vm HOST VM MAC IP/LEN [GW]     a VM namespace linked to HOST (port "t<VM>")
#   fab_attach HOST ARGS... / fab_detach HOST ARGS...   bagpipe-rest-attach in HOST
#   fab_lg HOST PATH                   looking-glass JSON (curl in HOST)
#   fab_wait_established HOST TIMEOUT  the host's BGP peer is Established
#   fab_ping VM DST                    exit 0 when DST answers (2 tries)
#   fab_wait_ping VM DST TIMEOUT       polls until DST answers
#   fab_ns NAME                        the namespace name of NAME
#   ok / bad / skip / fab_finish       result lines and the exit status
set -u -o pipefail

# The interop peers library (real RRs from Debian, started with netns=); sourced first so
# that the result helpers below (ok/bad) are ours.
# shellcheck source=../../interop/lib/peers.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../interop/lib" && pwd)/peers.sh"

FAB_ROOT=${BAGPIPE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
FAB_BUILD=${BAGPIPE_BUILD_DIR:-$FAB_ROOT/build}
FAB_DAEMON=$FAB_BUILD/src/daemon/bagpipe-bgp
FAB_ATTACH=$FAB_BUILD/tools/bagpipe-rest-attach
FAB_LGCLI=$FAB_BUILD/tools/bagpipe-looking-glass
FAB_NET=${FAB_NET:-192.168.100}
FAB_AS=${FAB_AS:-64512}
FAB_HOLD=${FAB_HOLD:-6}
FAB_NS=()
declare -A FAB_PID=()
FAB_OVS_DIRS=()
FAB_FAILS=0
FAB_PASSES=0
FAB_SKIPS=0

ok() { echo "ok   $*"; FAB_PASSES=$((FAB_PASSES + 1)); }
bad() { echo "FAIL $*"; FAB_FAILS=$((FAB_FAILS + 1)); }
skip() { echo "SKIP $*"; FAB_SKIPS=$((FAB_SKIPS + 1)); }
fab_die() { echo "$FAB_NAME: FAIL: $*" >&2; exit 1; }
fab_finish() {
  echo "$FAB_NAME: $FAB_PASSES passed, $FAB_FAILS failed, $FAB_SKIPS skipped"
  [ "$FAB_FAILS" -eq 0 ]
}

fab_ns() { echo "$FAB_P-$1"; }
fab_x() { local n=$1; shift; ip netns exec "$FAB_P-$n" "$@"; }

fab_init() {
  FAB_NAME=$1
  [ "$(id -u)" -eq 0 ] || fab_die "needs root (network namespaces)"
  [ -x "$FAB_DAEMON" ] || fab_die "$FAB_DAEMON not built"
  [ -x "$FAB_ATTACH" ] || fab_die "$FAB_ATTACH not built"
  # a short unique prefix: interface names in the underlay carry it too
  FAB_P=${FAB_PREFIX:-b$(printf '%x' $(($$ % 4096)))$(printf '%x' $((RANDOM % 16)))}
  FAB_RUN=$(mktemp -d "${TMPDIR:-/tmp}/$FAB_NAME.XXXXXX") || exit 1
  trap fab_cleanup EXIT
  trap 'exit 1' INT TERM HUP
}

# fab_teardown: stops every process (by PID) and deletes every namespace of the run;
# the run directory stays (a second fabric may follow in the same script).
fab_teardown() {
  local n p d
  for n in "${!FAB_PID[@]}"; do kill -TERM "${FAB_PID[$n]}" 2>/dev/null; done
  for n in "${!FAB_PID[@]}"; do
    p=${FAB_PID[$n]}
    for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  FAB_PID=()
  peer_stop_all
  PEERS_DIR=""
  for d in "${FAB_OVS_DIRS[@]}"; do
    for p in "$d"/ovs-vswitchd.pid "$d"/ovsdb-server.pid; do
      [ -s "$p" ] && kill -TERM "$(cat "$p")" 2>/dev/null
    done
  done
  FAB_OVS_DIRS=()
  for n in "${FAB_NS[@]}"; do ip netns del "$n" 2>/dev/null; done
  FAB_NS=()
}

fab_cleanup() {
  local rc=$?
  fab_teardown
  if [ "$rc" -ne 0 ] && [ -n "${FAB_KEEP_LOGS_ON_FAIL:-}" ]; then
    echo "logs kept in $FAB_RUN" >&2
  else
    rm -rf "$FAB_RUN"
  fi
  exit "$rc"
}

_fab_ns_add() {
  local ns="$FAB_P-$1"
  ip netns add "$ns" || fab_die "ip netns add $ns"
  FAB_NS+=("$ns")
  ip -n "$ns" link set lo up
}

fab_underlay() {
  _fab_ns_add ul
  ip -n "$FAB_P-ul" link add sw type bridge
  ip -n "$FAB_P-ul" link set sw up
}

# _fab_uplink NAME IDX: eth0 in NAME, port "p<IDX>" on the underlay bridge
_fab_uplink() {
  local ns="$FAB_P-$1"
  ip -n "$ns" link add eth0 type veth peer name "p$2" netns "$FAB_P-ul" || fab_die "veth $1"
  ip -n "$FAB_P-ul" link set "p$2" master sw
  ip -n "$FAB_P-ul" link set "p$2" up
  ip -n "$ns" addr add "$FAB_NET.$2/24" dev eth0
  ip -n "$ns" link set eth0 up
}

fab_host() {
  local name=$1 idx=$2 evpn=${3:-linux} ipvpn=${4:-linux}
  _fab_ns_add "$name"
  _fab_uplink "$name" "$idx"
  fab_x "$name" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  eval "FAB_IDX_$name=$idx"
  cat >"$FAB_RUN/$name.conf" <<EOF
[BGP]
local_address = $FAB_NET.$idx
peers = $FAB_NET.254
my_as = $FAB_AS
enable_rtc = True
hold_time = $FAB_HOLD
connect_retry_min = 1
[API]
host = 127.0.0.1
port = 8082
[DATAPLANE_DRIVER_EVPN]
dataplane_driver = $evpn
[DATAPLANE_DRIVER_IPVPN]
dataplane_driver = $ipvpn
EOF
}

_fab_spawn() { # _fab_spawn NAME CONF LOG
  local env=()
  [ -d "$FAB_RUN/ovs-$1" ] && env=(env "OVS_RUNDIR=$FAB_RUN/ovs-$1" "OVS_DBDIR=$FAB_RUN/ovs-$1")
  ip netns exec "$FAB_P-$1" "${env[@]}" "$FAB_DAEMON" --config-file "$2" --log-file "$3" \
    >>"$3.out" 2>&1 &
  FAB_PID[$1]=$!
}

fab_start() {
  _fab_spawn "$1" "$FAB_RUN/$1.conf" "$FAB_RUN/$1.log"
  # the API answers once the daemon is up
  for _ in $(seq 100); do
    fab_x "$1" curl -s -o /dev/null --max-time 1 http://127.0.0.1:8082/ping && return 0
    kill -0 "${FAB_PID[$1]}" 2>/dev/null || break
    sleep 0.05
  done
  tail -n 20 "$FAB_RUN/$1.log" "$FAB_RUN/$1.log.out" >&2
  fab_die "bagpipe-bgp on $1 did not start"
}

fab_stop() {
  local p=${FAB_PID[$1]:-}
  [ -n "$p" ] || return 0
  kill -TERM "$p" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null
  wait "$p" 2>/dev/null
  unset "FAB_PID[$1]"
}

fab_kill() {
  local p=${FAB_PID[$1]:-}
  [ -n "$p" ] || return 0
  kill -KILL "$p" 2>/dev/null
  { wait "$p"; } 2>/dev/null
  unset "FAB_PID[$1]"
}

# fab_rr_ours IDX CLIENT_IDX...
fab_rr_ours() {
  local idx=$1 peers="" c
  shift
  _fab_ns_add rr
  _fab_uplink rr "$idx"
  for c in "$@"; do peers+="${peers:+, }$FAB_NET.$c"; done
  cat >"$FAB_RUN/rr.conf" <<EOF
[BGP]
local_address = $FAB_NET.$idx
peers = $peers
my_as = $FAB_AS
route_reflector = True
rtc_wildcard = True
hold_time = $FAB_HOLD
[API]
host = 127.0.0.1
port = 8082
EOF
  # the clients connect (no connection collisions)
  for c in "$@"; do printf '[BGP_PEER %s]\npassive = True\n' "$FAB_NET.$c" >>"$FAB_RUN/rr.conf"; done
  _fab_spawn rr "$FAB_RUN/rr.conf" "$FAB_RUN/rr.log"
}

# fab_rr_peer KIND IDX CLIENT_IDX...: a real RR from Debian (interop peers library)
fab_rr_peer() {
  local kind=$1 idx=$2 peers="" c fams=vpnv4,evpn
  shift 2
  [ -n "${PEERS_DIR:-}" ] || {
    PEERS_DIR="$FAB_RUN/peers"
    mkdir -p "$PEERS_DIR"
    : >"$PEERS_DIR/pids"
  }
  _fab_ns_add rr
  _fab_uplink rr "$idx"
  for c in "$@"; do peers+="${peers:+,}$FAB_NET.$c"; done
  [ "$kind" = gobgp ] && fams=vpnv4,evpn,rtc
  peer_start "$kind" rr "$FAB_NET.$idx" neighbors="$peers" families="$fams" hold="$FAB_HOLD" \
    netns="$FAB_P-rr" gr=1 || fab_die "cannot start $kind as route reflector"
}

fab_ovs() {
  local name=$1 d="$FAB_RUN/ovs-$1"
  mkdir -p "$d"
  FAB_OVS_DIRS+=("$d")
  ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema || fab_die "ovsdb-tool"
  fab_x "$name" env OVS_RUNDIR="$d" OVS_DBDIR="$d" OVS_LOGDIR="$d" ovsdb-server "$d/conf.db" \
    --remote="punix:$d/db.sock" --unixctl="$d/ovsdb-server.ctl" --pidfile="$d/ovsdb-server.pid" \
    --log-file="$d/ovsdb-server.log" --detach --no-chdir -vconsole:off || fab_die "ovsdb-server"
  ovs-vsctl --timeout=10 --db="unix:$d/db.sock" --no-wait init || fab_die "ovs-vsctl init"
  fab_x "$name" env OVS_RUNDIR="$d" OVS_DBDIR="$d" OVS_LOGDIR="$d" ovs-vswitchd "unix:$d/db.sock" \
    --unixctl="$d/ovs-vswitchd.ctl" --pidfile="$d/ovs-vswitchd.pid" \
    --log-file="$d/ovs-vswitchd.log" --detach --no-chdir -vconsole:off || fab_die "ovs-vswitchd"
}
fab_vsctl() { local n=$1; shift; ovs-vsctl --timeout=10 --db="unix:$FAB_RUN/ovs-$n/db.sock" "$@"; }
fab_ofctl() { local n=$1; shift; fab_x "$n" env OVS_RUNDIR="$FAB_RUN/ovs-$n" ovs-ofctl "$@"; }

# fab_vm HOST VM MAC IP/LEN [GW]
fab_vm() {
  local host=$1 vm=$2 mac=$3 ip=$4 gw=${5:-}
  _fab_ns_add "$vm"
  ip -n "$FAB_P-$vm" link add eth0 type veth peer name "t$vm" netns "$FAB_P-$host" ||
    fab_die "veth $vm"
  ip -n "$FAB_P-$vm" link set eth0 address "$mac"
  ip -n "$FAB_P-$vm" addr add "$ip" dev eth0
  ip -n "$FAB_P-$vm" link set eth0 up
  ip -n "$FAB_P-$host" link set "t$vm" up
  [ -n "$gw" ] && ip -n "$FAB_P-$vm" route add default via "$gw"
  return 0
}

fab_attach() { local h=$1; shift; fab_x "$h" "$FAB_ATTACH" --attach --server 127.0.0.1 --api-port 8082 "$@"; }
fab_detach() { local h=$1; shift; fab_x "$h" "$FAB_ATTACH" --detach --server 127.0.0.1 --api-port 8082 "$@"; }
fab_lg() { fab_x "$1" curl -s --max-time 5 "http://127.0.0.1:8082/looking-glass/$2"; }

fab_wait_established() {
  local h=$1 t=${2:-20} i
  for i in $(seq $((t * 10))); do
    fab_lg "$h" bgp/peers 2>/dev/null | grep -q '"Established"' && return 0
    sleep 0.1
  done
  return 1
}

fab_ping() { fab_x "$1" ping -c 1 -W 1 -q "$2" >/dev/null 2>&1 || fab_x "$1" ping -c 1 -W 1 -q "$2" >/dev/null 2>&1; }
fab_wait_ping() {
  local vm=$1 dst=$2 t=${3:-10} end
  end=$((SECONDS + t))
  while [ "$SECONDS" -lt "$end" ]; do
    fab_x "$vm" ping -c 1 -W 1 -q "$dst" >/dev/null 2>&1 && return 0
  done
  return 1
}
# fab_wait_noping VM DST TIMEOUT: polls until DST stops answering
fab_wait_noping() {
  local vm=$1 dst=$2 t=${3:-10} end
  end=$((SECONDS + t))
  while [ "$SECONDS" -lt "$end" ]; do
    fab_x "$vm" ping -c 1 -W 1 -q "$dst" >/dev/null 2>&1 || return 0
    sleep 0.2
  done
  return 1
}
