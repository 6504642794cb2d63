#!/bin/bash
# Interop with GoBGP 3.10 (gobgpd/gobgp), addresses 127.0.50.0/24:
#  (a) bagpipe-bgp = route reflector 127.0.50.1 between GoBGP clients .11 (announces 100
#      VPNv4 + EVPN type 2/3) and .12 (receives: next hop, labels, RTs unchanged,
#      ORIGINATOR_ID = .11, CLUSTER_LIST = [.1]; withdrawals), plus GoBGP client .13 with
#      RTC (VRF importing 64512:1): it must get only RT 64512:1 routes.
#  (b) bagpipe-bgp = client .22 of the GoBGP RR .2 (hold time 9 s), routes from GoBGP
#      client .21 (VPNv4, EVPN type 2/3); RTC: no RT interest -> nothing, rtc_wildcard ->
#      everything.
#  (c) SIGTERM -> Cease seen by GoBGP, exit 0, restart re-establishes; hold time 9 s.
# Exit: 0 pass, 1 fail (a missing gobgpd or bagpipe-bgp is a failure).
set -u -o pipefail
D=$(dirname "${BASH_SOURCE[0]}")
. "$D/lib/peers.sh"
. "$D/lib/scenarios.sh"
peers_init gobgp
_need_bagpipe
command -v gobgpd >/dev/null || die "gobgpd not installed"
ANNOUNCER=gobgp EVPN=1 RTC=1
scenario_rr gobgp 127.0.50
scenario_client gobgp 127.0.50
peers_finish
