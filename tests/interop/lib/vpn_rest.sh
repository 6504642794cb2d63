# shellcheck shell=bash
# tests/interop/lib/vpn_rest.sh - drive bagpipe-bgp compute nodes over their REST API and
# check their looking glass (vpns/... tree, dummy dataplane driver), for the interop VPN
# scripts. Sourced after peers.sh (uses $PEERS_DIR, ok and bad). Needs curl and python3.
#
#   VPN_API_PORT                    REST port of every node (peer_start ... api_port=N)
#   vpn_api ADDR                    prints http://ADDR:$VPN_API_PORT
#   vpn_http METHOD URL [JSON]      prints the HTTP status; the body goes to $PEERS_DIR/body
#   vpn_true EXPR                   exit status of the Python expression EXPR, with j = the JSON
#                                   of the last body (false if it is not JSON)
#   vpn_check NAME EXPR             ok/FAIL line for EXPR on the last body
#   vpn_wait NAME ADDR PATH EXPR [TIMEOUT]
#                                   polls GET $(vpn_api ADDR)/looking-glass/PATH until EXPR holds
#                                   (0.1 s steps, TIMEOUT seconds, default 10): ok, or FAIL with
#                                   the last body; sets VPN_WAITED to the seconds it took
#   vpn_attach ADDR JSON, vpn_detach ADDR JSON
#                                   POST /attach_localport (expects 200 null) or /detach_localport
#                                   (expects 200); a FAIL line otherwise
#   vpn_get ADDR PATH PYEXPR        prints PYEXPR evaluated on GET looking-glass/PATH (j = JSON)

VPN_API_PORT=${VPN_API_PORT:-8082}
VPN_WAITED=0

vpn_api() { echo "http://$1:$VPN_API_PORT"; }

vpn_http() {
  local args=(-s -o "$PEERS_DIR/body" -w '%{http_code}' -X "$1" --max-time 10)
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  : >"$PEERS_DIR/body"
  curl "${args[@]}" "$2" || true
}

vpn_true() {
  python3 - "$PEERS_DIR/body" "$1" <<'PY'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(1)
try:
    sys.exit(0 if eval('(' + sys.argv[2] + ')') else 1)
except Exception as e:
    print(f'{type(e).__name__}: {e}', file=sys.stderr)
    sys.exit(1)
PY
}

_vpn_body() { head -c 800 "$PEERS_DIR/body"; }

vpn_check() {
  if vpn_true "$2" 2>/dev/null; then ok "$1"; else bad "$1: $(_vpn_body)"; fi
}

vpn_wait() {
  local name=$1 url t0 now end
  url="$(vpn_api "$2")/looking-glass/$3"
  t0=$(date +%s%N)
  end=$((t0 + ${5:-10} * 1000000000))
  while :; do
    vpn_http GET "$url" >/dev/null
    if vpn_true "$4" 2>/dev/null; then
      now=$(date +%s%N)
      VPN_WAITED=$(python3 -c "print(f'{($now - $t0) / 1e9:.1f}')")
      ok "$name (${VPN_WAITED}s)"
      return 0
    fi
    [ "$(date +%s%N)" -ge "$end" ] && break
    sleep 0.1
  done
  VPN_WAITED=${5:-10}
  bad "$name (not after ${5:-10}s): GET $url -> $(_vpn_body)"
  return 1
}

vpn_attach() {
  local code
  code=$(vpn_http POST "$(vpn_api "$1")/attach_localport" "$2")
  [ "$code" = 200 ] && [ "$(cat "$PEERS_DIR/body")" = null ] && return 0
  bad "attach on $1 -> $code $(_vpn_body)"
  return 1
}

vpn_detach() {
  local code
  code=$(vpn_http POST "$(vpn_api "$1")/detach_localport" "$2")
  [ "$code" = 200 ] && return 0
  bad "detach on $1 -> $code $(_vpn_body)"
  return 1
}

vpn_get() {
  vpn_http GET "$(vpn_api "$1")/looking-glass/$2" >/dev/null
  python3 - "$PEERS_DIR/body" "$3" <<'PY'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
    print(eval(sys.argv[2]))
except Exception:
    sys.exit(1)
PY
}
