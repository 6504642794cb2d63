#!/bin/bash
# Interop with BIRD 2.0.12 (bird -f, birdc -s), VPNv4 only (no EVPN/RTC channel),
# addresses 127.0.52.0/24:
#  (a) bagpipe-bgp = route reflector 127.0.52.1 between a GoBGP client .11 (announces 100
#      VPNv4 routes) and a BIRD client .12 (receives: next hop, labels, RTs unchanged,
#      ORIGINATOR_ID = .11, CLUSTER_LIST = [.1]; then withdrawals).
#  (b) bagpipe-bgp = client .22 of the BIRD route reflector .2 (hold time 9 s); GoBGP client
#      .21 announces through it: routes arrive in bagpipe-bgp's state file with next hop,
#      labels, RTs, ORIGINATOR_ID, CLUSTER_LIST; withdrawals.
#  (c) SIGTERM -> BIRD logs the Cease, exit 0, restart re-establishes; hold time 9 s.
# BIRD cannot resolve 127/8 next hops: route next-hop values are 192.0.2.x (static via lo).
# Exit: 0 pass, 1 fail (a missing peer binary or bagpipe-bgp is a failure).
set -u -o pipefail
D=$(dirname "${BASH_SOURCE[0]}")
. "$D/lib/peers.sh"
. "$D/lib/scenarios.sh"
peers_init bird
_need_bagpipe
command -v bird >/dev/null || die "bird not installed"
# BIRD cannot resolve 127/8 next hops: route next hops are TEST-NET-1 values (via lo)
ANNOUNCER=gobgp NH_NET=192.0.2
scenario_rr bird 127.0.52
scenario_client bird 127.0.52
peers_finish
