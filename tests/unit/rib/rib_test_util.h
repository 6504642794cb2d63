// Helpers for the RIB tests: attribute sets and NLRI built from a few fields.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <vector>

#include "bgp/rib/attr_store.h"
#include "bgp/wire/attributes.h"
#include "bgp/wire/ext_community.h"
#include "bgp/wire/nlri.h"

namespace bagpipe::bgp::rib_test {

// A typical VPN attribute set: ORIGIN, AS_PATH (one sequence), LOCAL_PREF,
// EXT_COMMUNITIES (a route target and an MPLS-over-GRE encapsulation).
inline PathAttributes VpnAttrs(uint32_t rt_number = 1, std::vector<uint32_t> as_path = {},
                               std::optional<uint32_t> local_pref = 100) {
    PathAttributes a;
    a.origin = Origin::kIgp;
    a.set(attr::kOrigin);
    if (!as_path.empty()) a.as_path.segments.push_back({AsPathSegment::kSequence, as_path});
    a.set(attr::kAsPath);
    if (local_pref) {
        a.local_pref = *local_pref;
        a.set(attr::kLocalPref);
    }
    a.ext_communities = {
        ExtCommunity::RouteTarget(0, 64512, rt_number),
        ExtCommunity::Encapsulation(static_cast<uint16_t>(TunnelType::kMplsOverGre))};
    a.set(attr::kExtCommunities);
    return a;
}

inline VpnNlri Vpnv4(uint32_t rd_number, uint32_t address, uint8_t length = 32,
                     uint32_t label = 100, uint32_t path_id = 0) {
    VpnNlri n;
    n.path_id = path_id;
    n.labels = LabelStack::One(MplsLabelField(label));
    n.rd = RouteDistinguisher::Type0(64512, rd_number);
    n.prefix.address = IpAddress::V4(address);
    n.prefix.length = length;
    return n;
}

inline NlriList List(std::vector<VpnNlri> v) { return NlriList(std::move(v)); }

inline NextHop Nh(uint32_t v4) { return NextHop{IpAddress::V4(v4), {}}; }

}  // namespace bagpipe::bgp::rib_test
