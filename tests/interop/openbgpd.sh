#!/bin/bash
# Interop with OpenBGPD 7.7 (/usr/sbin/bgpd -d, bgpctl -s), VPNv4 only, addresses
# 127.0.53.0/24:
#  (a) bagpipe-bgp = route reflector 127.0.53.1 between a GoBGP client .11 (announces 100
#      VPNv4 routes) and an OpenBGPD client .12 (receives: next hop, RTs unchanged,
#      ORIGINATOR_ID = .11, CLUSTER_LIST = [.1]; bgpctl shows no labels). Withdrawals: only
#      OpenBGPD's counter is checked (7.7 keeps withdrawn VPNv4 routes, whoever sends them).
#  (b) bagpipe-bgp = client .22 of the OpenBGPD route reflector .2 (hold time 9 s); GoBGP
#      client .21 announces through it: routes arrive in bagpipe-bgp's state file with next
#      hop, labels, RTs, ORIGINATOR_ID, CLUSTER_LIST.
#  (c) SIGTERM -> OpenBGPD logs the Cease, exit 0, restart re-establishes; hold time 9 s.
# Exit: 0 pass, 1 fail (a missing peer binary or bagpipe-bgp is a failure).
set -u -o pipefail
D=$(dirname "${BASH_SOURCE[0]}")
. "$D/lib/peers.sh"
. "$D/lib/scenarios.sh"
peers_init openbgpd
_need_bagpipe
[ -x "$OPENBGPD" ] || die "$OPENBGPD not installed"
# OpenBGPD 7.7 keeps VPNv4 routes withdrawn by GoBGP/ExaBGP: no withdrawal check in (b)
ANNOUNCER=gobgp WITHDRAW_VIA_RR=0
scenario_rr openbgpd 127.0.53
scenario_client openbgpd 127.0.53
peers_finish
