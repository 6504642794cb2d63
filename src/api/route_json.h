// JSON renderings of one Loc-RIB route, shared by the state file
// (daemon/state_file.cc) and the looking glass (bgp/routes).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "bgp/rib/rib.h"
#include "bgp/rib/route_key.h"
#include "bgp/wire/family.h"

namespace bagpipe::api {

// The flat form: {"family", "key", "next_hop", "labels": [raw label
// values], "peer", "route_targets": ["64512:1"], "ext_communities":
// ["encapsulation:vxlan"], "originator_id"?, "cluster_list"?, "local_pref"?,
// "med"?, "stale"}. `peer` names the path's source.
nlohmann::json RouteJson(const bgp::RouteKey& key, const bgp::Path& path, std::string peer);

// The looking glass form, like the original's:
//   {"<key>": {"afi-safi": "ipv4/mpls-vpn", "attributes": {"local-preference":
//    "100", "extended-community": "[ target:64512:512 encap:MPLS ]", ...},
//    "next_hop", "source": <source>, "route_targets": ["target:64512:512"],
//    "labels": [MPLS label values; E-VPN: the raw 24-bit fields (VNIs)],
//    "originator_id"?, "cluster_list"?, "stale"?}}
// (ORIGIN, AS_PATH and NEXT_HOP are left out of "attributes" as the original
// does; the key is RouteKey::ToString() without the family).
nlohmann::ordered_json LgRouteJson(const bgp::RouteKey& key, const bgp::Path& path,
                                   nlohmann::ordered_json source);
// The same from an attribute set and labels (a VPN instance's candidates).
nlohmann::ordered_json LgRouteJson(const bgp::RouteKey& key, const bgp::AttrEntry& attrs,
                                   const bgp::LabelStack& labels, bool stale,
                                   nlohmann::ordered_json source);

// The original's (ExaBGP's) names: "ipv4/mpls-vpn", "l2vpn/evpn", "ipv4/rtc",
// "ipv4/flow-vpn", "ipv4/unicast", "ipv4/nlri-mpls", ...
std::string OriginalFamilyName(bgp::Family f);
// "(ipv4, mpls-vpn)", as in a peer's active_families.
std::string OriginalFamilyTuple(bgp::Family f);

}  // namespace bagpipe::api
