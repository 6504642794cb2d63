# shellcheck shell=bash
# tests/interop/lib/peers.sh - start, query and stop real BGP implementations (and
# bagpipe-bgp) on loopback addresses, for the interop scripts. Sourced, bash only.
#
#   peers_init NAME                  temp dir ($PEERS_DIR, under ${TMPDIR:-/tmp}), EXIT trap
#                                    (stops everything by PID)
#   peer_start KIND ROLE ADDR [key=value ...]
#       KIND  gobgp | frr | bird | openbgpd | exabgp | bagpipe
#       ROLE  rr (route reflector, passive towards its clients) | client
#       ADDR  the speaker's own address (127.x): router id, BGP source and listen address.
#             It is also the HANDLE the other functions take.
#       keys  neighbors=A,B,...   peers (for an RR: its clients; for a client: its RR)
#             families=vpnv4,evpn,rtc   (default vpnv4; each KIND takes what it supports)
#             hold=SECONDS        hold time offered (default 90; keepalive = hold/3)
#             passive=0|1         wait for the neighbours to connect (default: 1 for rr)
#             port=N              our BGP port (default 179); neighbor_port=N theirs
#             cluster=IP          RR cluster id (default ADDR)
#             rtc=0|1             bagpipe: enable_rtc (default 1 if families has rtc)
#             gr=0|1              gobgp: graceful restart (needed for it to send End-of-RIB)
#             api_port=N          bagpipe: [API] on ADDR:N (REST + looking glass; default: none)
#             dataplane=DRIVER    bagpipe: dataplane_driver of [DATAPLANE_DRIVER_IPVPN/EVPN]
#             netns=NS            run the speaker (and its control commands) in network
#                                 namespace NS (tests/e2e); ADDR is then an address in NS
#   peer_stop HANDLE, peer_stop_all  SIGTERM by PID (SIGKILL after 5 s), then reap
#   peer_kill HANDLE                SIGKILL by PID (a crash: no NOTIFICATION), then reap
#   peer_restart HANDLE             stop then start again with the same config
#   peer_state HANDLE NEIGHBOR      prints "Established" or the implementation's state
#   peer_wait_established HANDLE NEIGHBOR TIMEOUT
#   peer_routes HANDLE FAMILY       normalised routes as JSON (see peerq.py)
#   peer_route_count HANDLE FAMILY
#   peer_wait_route_count HANDLE FAMILY N TIMEOUT [OUTFILE]  (OUTFILE gets the routes)
#   peer_announce_vpnv4 / peer_withdraw_vpnv4 HANDLE count=N rd=RD rt=RT prefix=A.B
#             label=L nh=IP [start=S] [encap=mpls-in-gre|vxlan]   (gobgp, exabgp)
#             route i: RD:A.(B+i//256).(i%256).0/24, label L+i, next hop IP, RT
#   peer_announce_evpn HANDLE macadv|multicast ...   (gobgp: gobgp CLI arguments)
#   peer_hold_time HANDLE NEIGHBOR  negotiated hold time seen by HANDLE
#   peer_cease_count HANDLE NEIGHBOR  Cease NOTIFICATIONs HANDLE received from NEIGHBOR
#   check NAME CMD...  / ok / bad / peers_finish   result lines and the exit status
#
# Control interfaces are isolated per instance: gobgpd --api-hosts ADDR:50051
# (--pprof-disable), FRR -P 0 and --vty_socket/-i in the instance dir, BIRD -s, OpenBGPD
# "socket" in its config, ExaBGP with exabgp.api.cli=false and exabgp.tcp.bind= (no listener).
# Every PID started is written to $PEERS_DIR/pids and is stopped by PID only.

PEERS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERQ="python3 $PEERS_LIB/peerq.py"
BAGPIPE_BIN=${BAGPIPE_BIN:-${BAGPIPE_BUILD_DIR:-$(cd "$PEERS_LIB/../../.." && pwd)/build}/src/daemon/bagpipe-bgp}
FRR_BGPD=/usr/lib/frr/bgpd
OPENBGPD=/usr/sbin/bgpd
OPENBGPCTL=/usr/sbin/bgpctl
PEERS_DIR=""
PEERS_FAILS=0
PEERS_PASSES=0
PEERS_T0=$SECONDS

log() { echo "[$((SECONDS - PEERS_T0))s] $*" >&2; }
ok() {
  PEERS_PASSES=$((PEERS_PASSES + 1))
  echo "ok: $*"
}
bad() {
  PEERS_FAILS=$((PEERS_FAILS + 1))
  echo "FAIL: $*"
}
# check NAME CMD... : runs CMD; ok/FAIL line with NAME (CMD's last output line appended)
check() {
  local name=$1 out rc
  shift
  out=$("$@" 2>&1)
  rc=$?
  out=$(printf '%s' "$out" | tail -n 1)
  out=${out#ok: }
  out=${out#FAIL: }
  if [ $rc -eq 0 ]; then ok "$name${out:+ ($out)}"; else bad "$name${out:+ ($out)}"; fi
  return $rc
}
peers_finish() {
  echo "$PEERS_PASSES passed, $PEERS_FAILS failed ($((SECONDS - PEERS_T0))s)"
  [ "$PEERS_FAILS" -eq 0 ] && exit 0
  exit 1
}
die() {
  bad "$*"
  peers_finish
}

peers_init() {
  PEERS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/interop-${1:-peers}.XXXXXX") || exit 1
  : >"$PEERS_DIR/pids"
  trap peers_cleanup EXIT
  trap 'exit 1' INT TERM HUP
}

peers_cleanup() {
  local rc=$?
  peer_stop_all
  if [ "$rc" -ne 0 ] && [ -n "${KEEP_LOGS_ON_FAIL:-}" ]; then
    echo "logs kept in $PEERS_DIR" >&2
  elif [ -n "${PEERS_KEEP:-}" ]; then
    echo "kept $PEERS_DIR" >&2
  else
    rm -rf "$PEERS_DIR"
  fi
  exit "$rc"
}

# ------------------------------------------------------------------ helpers

_d() { echo "$PEERS_DIR/$1"; }
_get() { cat "$PEERS_DIR/$1/$2" 2>/dev/null; }
_opt() { # _opt KEY DEFAULT ARGS...
  local k=$1 def=$2 a
  shift 2
  for a in "$@"; do
    case "$a" in "$k="*) echo "${a#*=}"; return ;; esac
  done
  echo "$def"
}
_has_family() { case ",$1," in *",$2,"*) return 0 ;; esac; return 1; }
_subst() { # _subst TEMPLATE VAR=VALUE... -> stdout (values may hold newlines)
  python3 - "$@" <<'EOF'
import sys
t = open(sys.argv[1]).read()
for kv in sys.argv[2:]:
    k, v = kv.split('=', 1)
    t = t.replace('@' + k + '@', v)
sys.stdout.write(t)
EOF
}
_tpl() { echo "$PEERS_LIB/templates/$1"; }
_alive() { # process exists and is not a zombie
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}
_register() { echo "$2 $1" >>"$PEERS_DIR/pids"; echo "$2" >"$PEERS_DIR/$1/pid"; }

# wait_until TIMEOUT CMD... : poll CMD every 0.25 s
wait_until() {
  local t=$1 end
  shift
  end=$(($(date +%s%N) / 1000000 + ${t%.*} * 1000))
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ $(($(date +%s%N) / 1000000)) -ge "$end" ] && return 1
    sleep 0.25
  done
}

# _in HANDLE CMD...: CMD in the handle's network namespace (netns=), if any
_in() {
  local ns
  ns=$(_get "$1" netns)
  shift
  if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}
_gobgp() { _in "$1" gobgp -u "$1" -p 50051 "${@:2}"; }
_vtysh() { _in "$1" vtysh --vty_socket "$PEERS_DIR/$1" -d bgpd "${@:2}"; }
_birdc() { _in "$1" birdc -s "$PEERS_DIR/$1/bird.ctl" "${@:2}"; }
_bgpctl() { _in "$1" "$OPENBGPCTL" -s "$PEERS_DIR/$1/bgpd.sock" "${@:2}"; }
_bird_proto() { echo "n_${1//./_}"; }

# ------------------------------------------------------------------ start / stop

peer_start() {
  local kind=$1 role=$2 addr=$3
  shift 3
  local dir="$PEERS_DIR/$addr"
  mkdir -p "$dir"
  printf '%s\n' "$@" >"$dir/args"
  echo "$kind" >"$dir/kind"
  echo "$role" >"$dir/role"
  printf '%s' "$(_opt netns "" "$@")" >"$dir/netns"  # empty file: no namespace
  local nsx=()
  [ -s "$dir/netns" ] && nsx=(ip netns exec "$(cat "$dir/netns")")
  local neighbors families hold passive port nport cluster
  neighbors=$(_opt neighbors "" "$@")
  families=$(_opt families vpnv4 "$@")
  hold=$(_opt hold 90 "$@")
  port=$(_opt port 179 "$@")
  nport=$(_opt neighbor_port 179 "$@")
  cluster=$(_opt cluster "$addr" "$@")
  if [ "$role" = rr ]; then passive=$(_opt passive 1 "$@"); else passive=$(_opt passive 0 "$@"); fi
  local keepalive=$((hold / 3)) n frag="" fams=""
  [ "$keepalive" -ge 1 ] || keepalive=1
  case "$kind" in
    gobgp)
      command -v gobgpd >/dev/null || { echo "gobgpd not installed" >&2; return 1; }
      local tf gr
      gr=$(_opt gr 0 "$@")   # graceful restart (GoBGP sends End-of-RIB markers only with it)
      for n in ${neighbors//,/ }; do
        frag+=$(_subst "$(_tpl gobgp-neighbor.toml)" NEIGHBOR="$n" ADDR="$addr" \
          PASSIVE="$([ "$passive" = 1 ] && echo true || echo false)" NEIGHBOR_PORT="$nport" \
          HOLD="$hold" KEEPALIVE="$keepalive")$'\n'
        [ "$role" = rr ] && frag+=$(_subst "$(_tpl gobgp-rrclient.toml)" CLUSTER="$cluster")$'\n'
        [ "$gr" = 1 ] && frag+=$(cat "$(_tpl gobgp-gr.toml)")$'\n'
        for tf in vpnv4:l3vpn-ipv4-unicast evpn:l2vpn-evpn rtc:rtc; do
          _has_family "$families" "${tf%%:*}" || continue
          frag+=$(_subst "$(_tpl gobgp-family.toml)" FAMILY="${tf#*:}")$'\n'
          [ "$gr" = 1 ] && frag+=$(cat "$(_tpl gobgp-family-gr.toml)")$'\n'
        done
      done
      { _subst "$(_tpl gobgp.toml)" ADDR="$addr" PORT="$port"; echo "$frag"; } >"$dir/gobgpd.toml"
      "${nsx[@]}" gobgpd -f "$dir/gobgpd.toml" --api-hosts "$addr:50051" --pprof-disable -l info \
        >"$dir/gobgpd.log" 2>&1 &
      _register "$addr" $!
      wait_until 10 _gobgp "$addr" global || { echo "gobgpd $addr: API not up" >&2; return 1; }
      ;;
    frr)
      [ -x "$FRR_BGPD" ] || { echo "$FRR_BGPD not installed" >&2; return 1; }
      local nextra="" fam
      [ "$passive" = 1 ] && nextra=" neighbor NEIGH passive"
      for n in ${neighbors//,/ }; do
        frag+=$(_subst "$(_tpl frr-neighbor.conf)" NEIGHBOR="$n" ADDR="$addr" NEIGHBOR_PORT="$nport" \
          HOLD="$hold" KEEPALIVE="$keepalive" NEIGHBOR_EXTRA="${nextra//NEIGH/$n}")$'\n'
      done
      for fam in "vpnv4:ipv4 vpn" "evpn:l2vpn evpn"; do
        _has_family "$families" "${fam%%:*}" || continue
        fams+=" address-family ${fam#*:}"$'\n'
        for n in ${neighbors//,/ }; do
          fams+="  neighbor $n activate"$'\n'
          [ "$role" = rr ] && fams+="  neighbor $n route-reflector-client"$'\n'
        done
        fams+=" exit-address-family"$'\n'" !"$'\n'
      done
      _subst "$(_tpl frr.conf)" NAME="frr-$role-${addr//./-}" ADDR="$addr" CLUSTER="$cluster" \
        NEIGHBORS="$frag" FAMILIES="$fams" >"$dir/bgpd.conf"
      "${nsx[@]}" "$FRR_BGPD" -f "$dir/bgpd.conf" -l "$addr" -p "$port" -Z -n -S -P 0 \
        --vty_socket "$dir" -i "$dir/bgpd.pid" --log stdout >"$dir/bgpd.log" 2>&1 &
      _register "$addr" $!
      wait_until 10 _vtysh "$addr" -c 'show bgp summary' || { echo "frr $addr: vty not up" >&2; return 1; }
      ;;
    bird)
      command -v bird >/dev/null || { echo "bird not installed" >&2; return 1; }
      local extra=""
      if [ "$role" = rr ]; then
        extra="  rr client;"$'\n'"  rr cluster id $cluster;"$'\n'
      fi
      [ "$passive" = 1 ] && extra+="  passive yes;"$'\n'
      for n in ${neighbors//,/ }; do
        frag+=$(_subst "$(_tpl bird-neighbor.conf)" PROTO="$(_bird_proto "$n")" NEIGHBOR="$n" \
          NEIGHBOR_PORT="$nport")$'\n'
      done
      _subst "$(_tpl bird.conf)" ADDR="$addr" HOLD="$hold" KEEPALIVE="$keepalive" \
        TEMPLATE_EXTRA="$extra" NEIGHBORS="$frag" DIR="$dir" >"$dir/bird.conf"
      [ "$port" = 179 ] || sed -i "s/^  local $addr as 64512;/  local $addr port $port as 64512;/" "$dir/bird.conf"
      "${nsx[@]}" bird -f -c "$dir/bird.conf" -s "$dir/bird.ctl" -P "$dir/bird.pid" >"$dir/bird.log" 2>&1 &
      _register "$addr" $!
      wait_until 10 _birdc "$addr" show status || { echo "bird $addr: control socket not up" >&2; return 1; }
      ;;
    openbgpd)
      [ -x "$OPENBGPD" ] || { echo "$OPENBGPD not installed" >&2; return 1; }
      local extra=""
      [ "$role" = rr ] && extra+=$'\t'"route-reflector $cluster"$'\n'
      [ "$passive" = 1 ] && extra+=$'\t'"passive"$'\n'
      for n in ${neighbors//,/ }; do
        frag+=$(_subst "$(_tpl openbgpd-neighbor.conf)" NEIGHBOR="$n" NEIGHBOR_PORT="$nport")$'\n'
      done
      _subst "$(_tpl openbgpd.conf)" ADDR="$addr" HOLD="$hold" GROUP_EXTRA="$extra" \
        NEIGHBORS="$frag" DIR="$dir" >"$dir/bgpd.conf"
      [ "$port" = 179 ] || sed -i "s/^listen on $addr\$/listen on $addr port $port/" "$dir/bgpd.conf"
      chmod 600 "$dir/bgpd.conf"
      # the engines chroot to the package's directory (absent until the service ran once)
      mkdir -p /run/openbgpd
      "${nsx[@]}" "$OPENBGPD" -d -v -f "$dir/bgpd.conf" >"$dir/bgpd.log" 2>&1 &
      _register "$addr" $!
      wait_until 10 _bgpctl "$addr" show || { echo "openbgpd $addr: control socket not up" >&2; return 1; }
      ;;
    exabgp)
      command -v exabgp >/dev/null || { echo "exabgp not installed" >&2; return 1; }
      [ "$role" = client ] || { echo "exabgp can only be a client" >&2; return 1; }
      local ef=""
      _has_family "$families" vpnv4 && ef+="        ipv4 mpls-vpn;"$'\n'
      _has_family "$families" evpn && ef+="        l2vpn evpn;"$'\n'
      for n in ${neighbors//,/ }; do
        frag+=$(_subst "$(_tpl exabgp-neighbor.conf)" NEIGHBOR="$n" ADDR="$addr" HOLD="$hold" \
          FAMILIES="$ef")$'\n'
      done
      [ "$passive" = 1 ] && frag=${frag//"local-as 64512;"/"local-as 64512;"$'\n'"    passive;"}
      _subst "$(_tpl exabgp.conf)" LIB="$PEERS_LIB" DIR="$dir" NEIGHBORS="$frag" >"$dir/exabgp.conf"
      : >"$dir/received.log"
      : >"$dir/commands"
      "${nsx[@]}" env exabgp.daemon.user=root exabgp.api.cli=false exabgp.tcp.bind= exabgp.tcp.port="$nport" \
        exabgp.daemon.daemonize=false exabgp.log.destination="$dir/exabgp.log" \
        exabgp.api.ack=false exabgp "$dir/exabgp.conf" >"$dir/exabgp.out" 2>&1 &
      _register "$addr" $!
      ;;
    bagpipe)
      [ -x "$BAGPIPE_BIN" ] || { echo "bagpipe-bgp not built: $BAGPIPE_BIN" >&2; return 1; }
      local bf="" rtc=0 f
      for f in vpnv4:ipv4-vpn evpn:l2vpn-evpn rtc:ipv4-rtc; do
        _has_family "$families" "${f%%:*}" && bf+="${bf:+, }${f#*:}"
      done
      _has_family "$families" rtc && rtc=1
      rtc=$(_opt rtc "$rtc" "$@")
      for n in ${neighbors//,/ }; do
        frag+=$(_subst "$(_tpl bagpipe-neighbor.ini)" NEIGHBOR="$n" NEIGHBOR_PORT="$nport" \
          RR_CLIENT="$([ "$role" = rr ] && echo True || echo False)" \
          PASSIVE="$([ "$passive" = 1 ] && echo True || echo False)")$'\n'
      done
      local api_port dataplane
      api_port=$(_opt api_port "" "$@")
      dataplane=$(_opt dataplane "" "$@")
      [ -n "$api_port" ] && frag+=$(_subst "$(_tpl bagpipe-api.ini)" ADDR="$addr" API_PORT="$api_port")$'\n'
      [ -n "$dataplane" ] && frag+=$(_subst "$(_tpl bagpipe-dataplane.ini)" DRIVER="$dataplane")$'\n'
      _subst "$(_tpl bagpipe.ini)" ADDR="$addr" PEERS="${neighbors//,/, }" \
        RTC="$([ "$rtc" = 1 ] && echo True || echo False)" PORT="$port" \
        RR="$([ "$role" = rr ] && echo True || echo False)" CLUSTER="$cluster" HOLD="$hold" \
        FAMILIES="$bf" NEIGHBORS="$frag" >"$dir/bagpipe.ini"
      _bagpipe_spawn "$addr"
      ;;
    *)
      echo "peer_start: unknown kind $kind" >&2
      return 1
      ;;
  esac
  log "started $kind $role $addr (pid $(_get "$addr" pid))"
}

_bagpipe_spawn() {
  local addr=$1 dir="$PEERS_DIR/$1"
  rm -f "$dir/state.json" "$dir/exit_code"
  local nsx=()
  [ -s "$dir/netns" ] && nsx=(ip netns exec "$(cat "$dir/netns")")
  "${nsx[@]}" "$BAGPIPE_BIN" --config-file "$dir/bagpipe.ini" --log-file "$dir/bagpipe.log" --debug \
    --state-file "$dir/state.json" >>"$dir/bagpipe.out" 2>&1 &
  _register "$addr" $!
}

# peer_stop HANDLE: SIGTERM, wait up to 5 s (then SIGKILL), reap; children of the
# process (ExaBGP helpers, OpenBGPD's engines) are stopped by PID too if still there.
peer_stop() {
  local h=$1 pid kids i rc
  pid=$(_get "$h" pid)
  [ -n "$pid" ] || return 0
  kids=$(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ')
  if _alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null
    kill -CONT "$pid" 2>/dev/null  # a stopped (SIGSTOP) process must run to see the SIGTERM
    for i in $(seq 50); do _alive "$pid" || break; sleep 0.1; done
    if _alive "$pid"; then
      log "$h: pid $pid still alive after SIGTERM + 5 s, SIGKILL"
      echo killed >"$PEERS_DIR/$h/killed"
      kill -KILL "$pid" 2>/dev/null
    fi
  fi
  wait "$pid" 2>/dev/null
  rc=$?
  echo "$rc" >"$PEERS_DIR/$h/exit_code"
  for k in $kids; do
    for i in $(seq 20); do _alive "$k" || break; sleep 0.1; done
    _alive "$k" && kill -KILL "$k" 2>/dev/null
  done
  sed -i "/^$pid /d" "$PEERS_DIR/pids"
  rm -f "$PEERS_DIR/$h/pid"
  return 0
}

# peer_kill HANDLE: SIGKILL by PID (no NOTIFICATION, no clean-up), then reap as peer_stop does
peer_kill() {
  local pid rc
  pid=$(_get "$1" pid)
  [ -n "$pid" ] || return 0
  kill -KILL "$pid" 2>/dev/null
  { wait "$pid"; } 2>/dev/null # reaped here: bash's "Killed" job notice goes nowhere
  rc=$?
  peer_stop "$1"
  echo "$rc" >"$PEERS_DIR/$1/exit_code"
}

peer_stop_all() {
  [ -n "$PEERS_DIR" ] && [ -f "$PEERS_DIR/pids" ] || return 0
  local pid h
  while read -r pid h; do
    [ -n "$h" ] && peer_stop "$h"
  done < <(tac "$PEERS_DIR/pids")
}

# peer_restart HANDLE: stop, then start with the same configuration (bagpipe: same files)
peer_restart() {
  local h=$1 kind role args=()
  kind=$(_get "$h" kind)
  role=$(_get "$h" role)
  mapfile -t args <"$PEERS_DIR/$h/args"
  peer_stop "$h"
  if [ "$kind" = bagpipe ]; then _bagpipe_spawn "$h"; else peer_start "$kind" "$role" "$h" "${args[@]}"; fi
}

peer_exit_code() { _get "$1" exit_code; }

# ------------------------------------------------------------------ queries

peer_state() {
  local h=$1 n=$2
  case "$(_get "$h" kind)" in
    gobgp)
      _gobgp "$h" neighbor "$n" -j 2>/dev/null | jq -r '.state.session_state |
        if . == 6 then "Established" else tostring end' ;;
    frr) _vtysh "$h" -c "show bgp neighbor $n json" 2>/dev/null | jq -r --arg n "$n" '.[$n].bgpState // "none"' ;;
    bird)
      _birdc "$h" show protocols "$(_bird_proto "$n")" 2>/dev/null |
        awk -v p="$(_bird_proto "$n")" '$1 == p { print $NF }' ;;
    openbgpd)
      _bgpctl "$h" show neighbor "$n" 2>/dev/null | sed -n 's/^ *BGP state = \([A-Za-z]*\).*/\1/p' ;;
    exabgp)
      [ "$($PEERQ exa-state "$PEERS_DIR/$h/received.log" "$n")" = up ] && echo Established ;;
    bagpipe) $PEERQ bagpipe-peer "$PEERS_DIR/$h/state.json" "$n" state ;;
  esac
}

_is_established() { [ "$(peer_state "$1" "$2")" = Established ]; }
peer_wait_established() {
  local h=$1 n=$2 t=${3:-30}
  if wait_until "$t" _is_established "$h" "$n"; then
    log "$h: $n Established"
    return 0
  fi
  log "$h: $n not Established after ${t}s (state: $(peer_state "$h" "$n"))"
  return 1
}

# raw CLI output of the RIB, for debugging
peer_rib_raw() {
  local h=$1 fam=$2
  case "$(_get "$h" kind)" in
    gobgp) _gobgp "$h" global rib -a "$([ "$fam" = evpn ] && echo evpn || echo vpnv4)" -j ;;
    frr)
      if [ "$fam" = evpn ]; then _vtysh "$h" -c 'show bgp l2vpn evpn route detail json'
      else _frr_vpn_detail "$h"; fi ;;
    bird) _birdc "$h" show route table vpntab all ;;
    openbgpd) _bgpctl "$h" -j show rib detail ;;
    exabgp) cat "$PEERS_DIR/$h/received.log" ;;
    bagpipe) cat "$PEERS_DIR/$h/state.json" ;;
  esac
}

# FRR 8.4 shows labels, RTs, ORIGINATOR_ID and CLUSTER_LIST of VPN routes only per prefix:
# list the prefixes, then ask for all of them in one vtysh run (concatenated JSON objects).
_frr_vpn_detail() {
  local h=$1 cmds=()
  mapfile -t cmds < <(_vtysh "$h" -c 'show bgp ipv4 vpn json' | jq -r '
    .routes.routeDistinguishers // {} | to_entries[] | .key as $rd | .value | keys[] |
    "show bgp ipv4 vpn rd \($rd) \(.) json"')
  [ "${#cmds[@]}" -gt 0 ] || return 0
  local args=() c
  for c in "${cmds[@]}"; do args+=(-c "$c"); done
  _vtysh "$h" "${args[@]}"
}

peer_routes() {
  local h=$1 fam=$2 kind
  kind=$(_get "$h" kind)
  case "$kind" in
    exabgp) $PEERQ norm exabgp "$fam" "$PEERS_DIR/$h/received.log" ;;
    bagpipe) $PEERQ norm bagpipe "$fam" "$PEERS_DIR/$h/state.json" ;;
    bird | openbgpd) [ "$fam" = vpnv4 ] || { echo '[]'; return; }
      peer_rib_raw "$h" "$fam" 2>/dev/null | $PEERQ norm "$kind" "$fam" ;;
    *) peer_rib_raw "$h" "$fam" 2>/dev/null | $PEERQ norm "$kind" "$fam" ;;
  esac
}

peer_route_count() {
  peer_routes "$1" "$2" | jq length
}

_count_is() { [ "$(peer_route_count "$1" "$2")" = "$3" ]; }
# peer_wait_route_count HANDLE FAMILY N TIMEOUT [OUTFILE]: wait until exactly N routes
# (and stable for one more poll); OUTFILE gets the final normalised routes.
peer_wait_route_count() {
  local h=$1 fam=$2 want=$3 t=${4:-30} out=${5:-/dev/null} rc=0
  wait_until "$t" _count_is "$h" "$fam" "$want" || rc=1
  [ $rc -eq 0 ] && { sleep 0.3; _count_is "$h" "$fam" "$want" || rc=1; }
  peer_routes "$h" "$fam" >"$out"
  [ $rc -eq 0 ] || log "$h: $fam: $(jq length "$out" 2>/dev/null) routes, waited for $want (${t}s)"
  return $rc
}

# ------------------------------------------------------------------ announcements

_vpnv4_routes() { # count start prefix -> "i prefix" lines
  python3 -c '
import sys
n, s, p = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
a, b = (int(x) for x in p.split("."))
for i in range(s, s + n):
    print(i, f"{a}.{b + i // 256}.{i % 256}.0/24")' "$@"
}

_announce_vpnv4() {
  local op=$1 h=$2
  shift 2
  local count rd rt prefix label nh start encap kind i p
  count=$(_opt count 1 "$@")
  rd=$(_opt rd 64512:1 "$@")
  rt=$(_opt rt 64512:1 "$@")
  prefix=$(_opt prefix 10.1 "$@")
  label=$(_opt label 1000 "$@")
  nh=$(_opt nh "$h" "$@")
  start=$(_opt start 0 "$@")
  encap=$(_opt encap "" "$@")
  kind=$(_get "$h" kind)
  case "$kind" in
    gobgp)
      local enc=()
      [ -n "$encap" ] && enc=(encap "$encap")
      while read -r i p; do
        if [ "$op" = add ]; then
          _gobgp "$h" global rib -a vpnv4 add "$p" label $((label + i)) rd "$rd" rt ${rt//,/ } "${enc[@]}" nexthop "$nh" || return 1
        else
          _gobgp "$h" global rib -a vpnv4 del "$p" label $((label + i)) rd "$rd" || return 1
        fi
      done < <(_vpnv4_routes "$count" "$start" "$prefix")
      ;;
    exabgp)
      local ec="" r
      for r in ${rt//,/ }; do ec+="target:$r "; done
      case "$encap" in mpls-in-gre) ec+="0x030c00000000000b " ;; vxlan) ec+="0x030c000000000008 " ;; esac
      while read -r i p; do
        echo "$([ "$op" = add ] && echo announce || echo withdraw) route $p rd $rd label $((label + i)) next-hop $nh extended-community [ $ec]"
      done < <(_vpnv4_routes "$count" "$start" "$prefix") >>"$PEERS_DIR/$h/commands"
      ;;
    *)
      echo "peer_announce_vpnv4: not supported for $kind" >&2
      return 1
      ;;
  esac
}
peer_announce_vpnv4() { _announce_vpnv4 add "$@"; }
peer_withdraw_vpnv4() { _announce_vpnv4 del "$@"; }

# peer_announce_evpn HANDLE add|del ARGS... : gobgp only (gobgp CLI "global rib -a evpn" args)
peer_announce_evpn() {
  local h=$1
  shift
  [ "$(_get "$h" kind)" = gobgp ] || { echo "peer_announce_evpn: gobgp only" >&2; return 1; }
  _gobgp "$h" global rib -a evpn "$@"
}

# gobgp: add a VRF (GoBGP then originates RTC routes for its import RTs, when rtc is enabled)
peer_gobgp_vrf() { _gobgp "$1" vrf add "$2" rd "$3" rt import "$4" export "$4"; }

# ------------------------------------------------------------------ session facts

peer_hold_time() {
  local h=$1 n=$2
  case "$(_get "$h" kind)" in
    gobgp) _gobgp "$h" neighbor "$n" -j | jq -r '.timers.state.negotiated_hold_time' ;;
    frr) _vtysh "$h" -c "show bgp neighbor $n json" | jq -r --arg n "$n" '.[$n].bgpTimerHoldTimeMsecs / 1000 | floor' ;;
    bird) _birdc "$h" show protocols all "$(_bird_proto "$n")" | sed -n 's/^ *Hold timer: *[0-9.]*\/\([0-9]*\).*/\1/p' ;;
    openbgpd) _bgpctl "$h" show neighbor "$n" | sed -n 's/.*[Hh]oldtime[: ]*\([0-9]*\).*/\1/p' | head -n 1 ;;
    exabgp) $PEERQ exa-hold "$PEERS_DIR/$h/received.log" "$n" ;;
    bagpipe) $PEERQ bagpipe-peer "$PEERS_DIR/$h/state.json" "$n" hold_time ;;
  esac
}

# number of Cease (code 6) NOTIFICATIONs HANDLE has received from NEIGHBOR, from its log / CLI
peer_cease_count() {
  local h=$1 n=$2 dir="$PEERS_DIR/$1"
  case "$(_get "$h" kind)" in
    gobgp) grep -F "\"Key\":\"$n\"" "$dir/gobgpd.log" | grep -F 'received notification' | grep -c '"Code":6' ;;
    frr) grep -cE "NOTIFICATION: received from neighbor $n 6/" "$dir/bgpd.log" ;;
    bird) grep -E "$(_bird_proto "$n"): Received: " "$dir/bird.log" -c ;;
    openbgpd) grep -E "neighbor $n.*received notification: Cease" "$dir/bgpd.log" -c ;;
    exabgp) $PEERQ exa-notifications "$dir/received.log" "$n" | grep -c '^6/' ;;
  esac
}

# openbgpd_withdraws_at_least HANDLE NEIGHBOR N: OpenBGPD counted >= N withdrawals from NEIGHBOR
openbgpd_withdraws_at_least() {
  _bgpctl "$1" show neighbor "$2" | awk -v n="$3" '$1 == "Withdraws" { f = 1; exit !($3 >= n) } END { if (!f) exit 1 }'
}
