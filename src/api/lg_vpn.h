// The looking glass's `vpns` subtree, from the VPN layer (reference §2.6):
//   vpns/instances[/<id>[/ports|received_routes|best_routes|adv_routes|dataplane]]
//   vpns/dataplane/drivers[/<evpn|ipvpn>[/calls]], vpns/dataplane/ids,
//   vpns/dataplane/route_distinguishers, vpns/instances_per_vni, vpns/rtc,
//   vpns/stats.
// `calls` is the dummy driver's call log (?offset=<last seq seen>&limit=).
// Executor: the event loop; nodes read the manager's state directly.
#pragma once

#include "api/lg_providers.h"
#include "vpn/vpn_manager.h"

namespace bagpipe::api {

// Fills nodes.vpns; `manager` and `speaker` must outlive the looking glass.
void AddVpnProviders(LgStandardNodes& nodes, const vpn::VpnManager& manager,
                     const bgp::BgpSpeaker& speaker);

}  // namespace bagpipe::api
