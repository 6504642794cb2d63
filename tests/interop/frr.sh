#!/bin/bash
# Interop with FRR 8.4 (/usr/lib/frr/bgpd alone: -Z no zebra, -n no FIB; vtysh via its own
# --vty_socket), addresses 127.0.51.0/24:
#  (a) bagpipe-bgp = route reflector 127.0.51.1 between a GoBGP client .11 (announces 100
#      VPNv4 routes + EVPN type 2/3) and an FRR client .12 (receives: next hop, labels, RTs
#      unchanged, ORIGINATOR_ID = .11, CLUSTER_LIST = [.1]; then withdrawals).
#  (b) bagpipe-bgp = client .22 of the FRR route reflector .2 (hold time 9 s); GoBGP client
#      .21 announces through it: VPNv4 and EVPN type 2/3 routes arrive in bagpipe-bgp's state
#      file with next hop, labels, RTs, ORIGINATOR_ID, CLUSTER_LIST; withdrawals.
#  (c) SIGTERM -> FRR logs the Cease, exit 0, restart re-establishes; hold time 9 s.
# FRR refuses 127/8 next hops ("martian"): route next-hop values are 192.0.2.x.
# Exit: 0 pass, 1 fail (a missing peer binary or bagpipe-bgp is a failure).
set -u -o pipefail
D=$(dirname "${BASH_SOURCE[0]}")
. "$D/lib/peers.sh"
. "$D/lib/scenarios.sh"
peers_init frr
_need_bagpipe
[ -x "$FRR_BGPD" ] || die "$FRR_BGPD not installed"
# FRR refuses 127/8 next hops ("martian"): route next hops are TEST-NET-1 values
ANNOUNCER=gobgp EVPN=1 NH_NET=192.0.2
scenario_rr frr 127.0.51
scenario_client frr 127.0.51
peers_finish
