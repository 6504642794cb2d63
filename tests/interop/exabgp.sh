#!/bin/bash
# Interop with ExaBGP 4.2 (exabgp; a client only: it cannot reflect, nor announce EVPN or
# RTC), addresses 127.0.54.0/24:
#  (a) bagpipe-bgp = route reflector 127.0.54.1 between ExaBGP client .11 (announces 100
#      VPNv4 routes through its API) and ExaBGP client .12 (receives, JSON: next hop,
#      labels, RTs unchanged, ORIGINATOR_ID = .11, CLUSTER_LIST = [.1]; withdrawals).
#  (b) bagpipe-bgp .22 peers directly with ExaBGP .21 (hold time 9 s), which announces and
#      withdraws 100 VPNv4 routes: they arrive in bagpipe-bgp's state file unchanged.
#  (c) SIGTERM -> ExaBGP receives a Cease, exit 0, restart re-establishes; hold time 9 s.
# Exit: 0 pass, 1 fail (a missing exabgp or bagpipe-bgp is a failure).
set -u -o pipefail
D=$(dirname "${BASH_SOURCE[0]}")
. "$D/lib/peers.sh"
. "$D/lib/scenarios.sh"
peers_init exabgp
_need_bagpipe
command -v exabgp >/dev/null || die "exabgp not installed"
ANNOUNCER=exabgp
scenario_rr exabgp 127.0.54
scenario_direct_exabgp 127.0.54
peers_finish
