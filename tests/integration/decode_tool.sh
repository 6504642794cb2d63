#!/bin/bash
# bagpipe-bgp-decode end to end: input handling (stdin lines, comments, --hex),
# the session-context flags (--no-asn4, --add-path, --extended-message, --ebgp),
# --pretty, exit statuses, and every interop capture decoded with its
# "# decode-flags:" line without a session-reset error.
#
# Run by scripts/test (BAGPIPE_BUILD_DIR, BAGPIPE_SOURCE_DIR); standalone:
#   BAGPIPE_BUILD_DIR=build tests/integration/decode_tool.sh
set -u -o pipefail

ROOT=${BAGPIPE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BIN=${BAGPIPE_BUILD_DIR:-$ROOT/build}/tools/bagpipe-bgp-decode
if [ ! -x "$BIN" ]; then
  echo "decode_tool: $BIN not built" >&2
  exit 1
fi
if ! command -v python3 >/dev/null; then
  echo "decode_tool: python3 is required" >&2
  exit 1
fi

FAILS=0
fail() {
  echo "FAIL: $*" >&2
  FAILS=$((FAILS + 1))
}
pass() { echo "ok: $*"; }

MARKER=ffffffffffffffffffffffffffffffff
KEEPALIVE=${MARKER}001304
ROUTE_REFRESH=${MARKER}00170500010080
# UPDATE: ORIGIN igp, AS_PATH sequence 65001 65002 with 2-octet ASNs, NEXT_HOP 192.0.2.1, NLRI 10/8.
UPDATE_AS2=${MARKER}002d0200000014400101004002060202fde9fdea400304c0000201080a
# UPDATE with an ADD-PATH path id (7) before the NLRI 10/8: ORIGIN, empty AS_PATH, NEXT_HOP.
UPDATE_ADDPATH=${MARKER}002b020000000e40010100400200400304c000020100000007080a

# check NAME PYTHON-EXPRESSION: evaluates the expression with `docs` = the JSON
# documents read from stdin (one per line, or concatenated with --pretty).
check() {
  local name=$1 expr=$2
  if python3 -c '
import json, sys
text = sys.stdin.read()
dec = json.JSONDecoder()
docs, i = [], 0
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    d, i = dec.raw_decode(text, i)
    docs.append(d)
ok = eval(sys.argv[1])
if not ok:
    print(json.dumps(docs, indent=1)[:3000], file=sys.stderr)
sys.exit(0 if ok else 1)
' "$expr"; then
    pass "$name"
  else
    fail "$name"
  fi
}

# 1. stdin: comments, blank lines and spaces inside a line.
out=$(printf '# a comment\n\n   # indented comment\n%s\n  %s  \n' \
  "$KEEPALIVE" "${ROUTE_REFRESH:0:20} ${ROUTE_REFRESH:20:6}	${ROUTE_REFRESH:26}" | "$BIN")
status=$?
[ $status -eq 0 ] || fail "stdin: exit status $status"
echo "$out" | check "stdin: two messages" \
  'len(docs) == 2 and docs[0]["type"] == "KEEPALIVE" and docs[0]["error"] is None and docs[1]["type"] == "ROUTE-REFRESH" and docs[1]["family"] == "ipv4-vpn"'
[ "$(echo "$out" | wc -l)" -eq 2 ] || fail "stdin: one line per message"

# 2. invalid hex: a JSON object with an error, the other lines still decoded, exit 1.
out=$(printf '%s\nnot hex\nabc\n%s\n' "$KEEPALIVE" "$KEEPALIVE" | "$BIN")
status=$?
[ $status -eq 1 ] || fail "invalid hex: exit status $status, expected 1"
echo "$out" | check "invalid hex: reported" \
  'len(docs) == 4 and docs[1]["type"] is None and "invalid hex" in docs[1]["error"]["reason"] and "odd number" in docs[2]["error"]["reason"] and docs[3]["type"] == "KEEPALIVE"'

# 3. decoding errors are data, not failures: a truncated message.
out=$("$BIN" --hex ffffffff)
status=$?
[ $status -eq 0 ] || fail "decode error: exit status $status, expected 0"
echo "$out" | check "decode error: session-reset reported" \
  'docs[0]["error"]["action"] == "session-reset" and docs[0]["error"]["notification"]["code"] == 1'

# 4. --hex (repeatable) and --pretty.
out=$("$BIN" --pretty --hex "$KEEPALIVE" --hex "$ROUTE_REFRESH")
echo "$out" | check "--hex --pretty" \
  'len(docs) == 2 and docs[1]["subtype_name"] == "normal"'
[ "$(echo "$out" | wc -l)" -gt 2 ] || fail "--pretty: output not indented"

# 5. --no-asn4 / --asn4.
"$BIN" --no-asn4 --hex "$UPDATE_AS2" | check "--no-asn4: 2-octet AS_PATH" \
  'docs[0]["error"] is None and [a for a in docs[0]["attributes"] if a["code"] == 2][0]["value"] == [{"type": "sequence", "asns": [65001, 65002]}]'
"$BIN" --hex "$UPDATE_AS2" | check "default asn4: same bytes are a malformed AS_PATH" \
  'docs[0]["error"]["action"] == "treat-as-withdraw" and docs[0]["error"]["attribute"] == 2'

# 6. --add-path.
"$BIN" --add-path ipv4-unicast --hex "$UPDATE_ADDPATH" | check "--add-path: path id" \
  'docs[0]["error"] is None and docs[0]["nlri"] == [{"prefix": "10.0.0.0/8", "path_id": 7}]'
"$BIN" --add-path ipv4-vpn --hex "$UPDATE_ADDPATH" | check "--add-path other family: not applied" \
  'docs[0]["error"] is not None'

# 7. --extended-message: an UPDATE of 4,200 octets.
BIG=$(python3 -c '
attrs = bytes.fromhex("40010100" "400200" "400304c0000201") + bytes([0xd0, 200]) + (4157).to_bytes(2, "big") + bytes(4157)
body = bytes(2) + len(attrs).to_bytes(2, "big") + attrs + bytes.fromhex("080a")
print((b"\xff" * 16 + (19 + len(body)).to_bytes(2, "big") + b"\x02" + body).hex())')
"$BIN" --hex "$BIG" | check "4200-octet UPDATE without --extended-message" \
  'docs[0]["length"] == 4200 and docs[0]["error"]["action"] == "session-reset" and docs[0]["error"]["notification"]["subcode"] == 2'
"$BIN" --extended-message --hex "$BIG" | check "4200-octet UPDATE with --extended-message" \
  'docs[0]["error"] is None and docs[0]["nlri"] == [{"prefix": "10.0.0.0/8"}]'

# 8. --ebgp: LOCAL_PREF from an external peer is ignored.
UPDATE_LP=${MARKER}002e020000001540010100400200400304c000020140050400000064080a
"$BIN" --ebgp --hex "$UPDATE_LP" | check "--ebgp: LOCAL_PREF discarded" \
  '[a.get("discarded") for a in docs[0]["attributes"] if a["code"] == 5] == [True]'
"$BIN" --hex "$UPDATE_LP" | check "iBGP: LOCAL_PREF kept" \
  '[a["value"] for a in docs[0]["attributes"] if a["code"] == 5] == [100]'

# 9. usage errors exit 2.
"$BIN" --add-path no-such-family --hex "$KEEPALIVE" >/dev/null 2>&1
status=$?
if [ $status -eq 2 ]; then pass "usage error: exit 2"; else fail "usage error: exit status $status"; fi

# 10. every interop capture, with its decode-flags: no session reset.
shopt -s nullglob
n=0
for f in "$ROOT"/tests/data/captures/*.hex; do
  flags=$(grep -m1 '^# decode-flags:' "$f" | sed 's/^# decode-flags://; s/(.*//')
  # shellcheck disable=SC2086 # flags are words
  out=$("$BIN" $flags <"$f")
  status=$?
  [ $status -eq 0 ] || fail "$(basename "$f"): exit status $status"
  echo "$out" | check "$(basename "$f") [${flags# }]: no session reset" \
    'len(docs) > 0 and all(d["type"] is not None and (d["error"] is None or d["error"]["action"] not in ("session-reset", "afi-safi-disable")) for d in docs)'
  n=$((n + 1))
done
echo "decoded $n capture files"

if [ $FAILS -ne 0 ]; then
  echo "decode_tool: $FAILS check(s) failed" >&2
  exit 1
fi
echo "decode_tool: all checks passed"
