#!/bin/bash
# Self-test of tests/interop/lib/peers.sh, no bagpipe-bgp involved: for each of GoBGP,
# FRR, BIRD and OpenBGPD as route reflector, a GoBGP client (A) announces 100 VPNv4
# routes (RT 64512:1, labels 1000..1099, one RD); a GoBGP client (B) and an ExaBGP client
# (C) must each hold exactly those 100 routes, next hop and labels unchanged,
# ORIGINATOR_ID = A, CLUSTER_LIST = [RR]. Then A withdraws half of them and B and C must
# hold exactly the other 50.
#
# Addresses: 127.0.49.0/24. RR n at 127.0.49.n (1 gobgp, 2 frr, 3 bird, 4 openbgpd),
# its clients at 127.0.49.n1 (A), .n2 (B), .n3 (C). Next-hop values: 127.0.49.n1 for
# GoBGP/OpenBGPD, 192.0.2.n1 for FRR/BIRD (they refuse 127/8 next hops).
#
# Quirk: OpenBGPD 7.7 counts VPNv4 withdrawals but keeps the routes (seen with GoBGP and
# ExaBGP as senders), so for OpenBGPD the withdrawal step checks only its own counter.
#
# Exit: 0 pass, 1 fail. Standalone: tests/interop/peers_selftest.sh [gobgp frr bird openbgpd]
set -u -o pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/peers.sh"
peers_init selftest

KINDS=("$@")
[ ${#KINDS[@]} -gt 0 ] || KINDS=(gobgp frr bird openbgpd)

selftest_rr() {
  local kind=$1 n=$2 net=127.0.49
  local rr=$net.$n a=$net.${n}1 b=$net.${n}2 c=$net.${n}3 nh
  case "$kind" in frr | bird) nh=192.0.2.${n}1 ;; *) nh=$a ;; esac
  log "=== $kind as route reflector ($rr), A $a announces, B $b (gobgp) and C $c (exabgp) receive"
  peer_start "$kind" rr "$rr" neighbors="$a,$b,$c" families=vpnv4 || { bad "$kind: RR did not start"; return; }
  peer_start gobgp client "$a" neighbors="$rr" families=vpnv4 || { bad "$kind: client A did not start"; return; }
  peer_start gobgp client "$b" neighbors="$rr" families=vpnv4 || { bad "$kind: client B did not start"; return; }
  peer_start exabgp client "$c" neighbors="$rr" families=vpnv4 || { bad "$kind: client C did not start"; return; }
  local x up=1
  for x in "$a" "$b" "$c"; do peer_wait_established "$rr" "$x" 30 || up=0; done
  peer_wait_established "$c" "$rr" 10 || up=0
  [ $up = 1 ] && ok "$kind: 3 sessions Established" || { bad "$kind: sessions not Established"; return; }

  local spec="count=100 rd=64512:1 rt=64512:1 prefix=10.$n label=1000 nh=$nh encap=mpls-in-gre"
  # shellcheck disable=SC2086
  peer_announce_vpnv4 "$a" $spec || bad "$kind: A could not announce"
  local exp="count=100,rd=64512:1,prefix=10.$n,label=1000" d="$PEERS_DIR/$kind"
  mkdir -p "$d"
  peer_wait_route_count "$rr" vpnv4 100 20 "$d/rr.json"
  check "$kind RR RIB" $PEERQ check "$d/rr.json" --what "routes in the RR" --count 100 \
    --expect-vpnv4 "$exp" --nh "$nh" --rt 64512:1
  for x in "$b" "$c"; do
    peer_wait_route_count "$x" vpnv4 100 20 "$d/$x.json"
    check "$kind reflected to $(_get "$x" kind) client $x" $PEERQ check "$d/$x.json" \
      --count 100 --expect-vpnv4 "$exp" --nh "$nh" --rt 64512:1 --originator "$a" --cluster "$rr"
  done

  # withdraw routes 50..99
  # shellcheck disable=SC2086
  peer_withdraw_vpnv4 "$a" count=50 start=50 rd=64512:1 prefix=10.$n label=1050 || bad "$kind: A could not withdraw"
  if [ "$kind" = openbgpd ]; then
    check "openbgpd counted 50 withdrawals from A" wait_until 10 openbgpd_withdraws_at_least "$rr" "$a" 50
  else
    exp="count=50,rd=64512:1,prefix=10.$n,label=1000"
    for x in "$b" "$c"; do
      peer_wait_route_count "$x" vpnv4 50 20 "$d/$x-w.json"
      check "$kind withdrawal reflected to $x" $PEERQ check "$d/$x-w.json" --count 50 \
        --expect-vpnv4 "$exp" --originator "$a" --cluster "$rr"
    done
  fi
  peer_stop_all
}

i=0
for k in "${KINDS[@]}"; do
  case "$k" in
    gobgp) i=1 ;; frr) i=2 ;; bird) i=3 ;; openbgpd) i=4 ;;
    *) die "unknown RR kind $k" ;;
  esac
  selftest_rr "$k" "$i"
done
peers_finish
