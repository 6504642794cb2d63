// The routes a compute node originates, as pure functions: NLRI and path
// attributes for E-VPN (types 2, 3, 5), VPNv4/VPNv6 and RT Constraint, laid
// out as the original bagpipe-bgp sends them (reference §4.2-§4.4):
//
//   ORIGIN IGP, empty AS_PATH, LOCAL_PREF (the endpoint's, default 100),
//   EXTENDED_COMMUNITIES = encapsulations the driver supports (RFC 9012,
//   DEFAULT excluded) then the export route targets, plus for E-VPN the MAC
//   mobility sequence (RFC 7432 §15) and, where they apply, the router's MAC
//   (RFC 9135) and default-gateway communities; type 3 carries a PMSI tunnel
//   attribute with ingress replication (RFC 6514 §5) whose label is the VNI.
//
// VXLAN VNIs ride in the 24-bit label fields unshifted (RFC 8365 §5.1.3, as
// the original); MPLS labels are label << 4 | BoS.
//
// Pure functions, any thread.
#pragma once

#include <cstdint>
#include <vector>

#include "bgp/family/evpn/evpn_nlri.h"
#include "bgp/family/rtc/rtc_nlri.h"
#include "bgp/family/vpn/vpn_nlri.h"
#include "bgp/wire/attributes.h"
#include "dataplane/driver.h"

namespace bagpipe::vpn {

// What goes into the EXTENDED_COMMUNITIES of an originated route.
struct RouteCommunities {
    dataplane::EncapsulationSet encaps;       // kDefault is not advertised
    std::vector<bgp::ExtCommunity> route_targets;
    std::optional<uint32_t> mac_mobility_sequence;  // E-VPN type 2, > 0 only
    std::optional<bgp::MacAddress> routers_mac;     // E-VPN type 5 over VXLAN
    bool default_gateway = false;                   // E-VPN type 2 of a gateway
    std::optional<uint32_t> consistent_hash_order;  // re-advertised routes
    // Re-advertised routes: the original route targets as RT-record
    // (draft-ietf-bess-service-chaining), which also stops loops.
    std::vector<bgp::ExtCommunity> rt_records;
};

// The RT-record extended community for a route target (same value, sub-type
// 0x13).
bgp::ExtCommunity RtRecordOf(const bgp::ExtCommunity& route_target);

// The encapsulation communities for `encaps` (ascending tunnel type, no
// DEFAULT).
std::vector<bgp::ExtCommunity> EncapsulationCommunities(dataplane::EncapsulationSet encaps);

// ORIGIN, AS_PATH, LOCAL_PREF and EXTENDED_COMMUNITIES as described above.
bgp::PathAttributes OriginatedAttributes(uint32_t local_pref, const RouteCommunities& c);

// The 24-bit label field for `value`: raw VNI with VXLAN, MPLS label with BoS
// otherwise.
uint32_t LabelField(uint32_t value, bool vxlan);
// The inverse, for received routes.
uint32_t LabelValue(uint32_t field, bool vxlan);

// E-VPN type 2 (RFC 7432 §7.2): ESI 0, ethernet tag 0; `ip` may be empty.
bgp::EvpnNlri MacIpRoute(const bgp::RouteDistinguisher& rd, const bgp::MacAddress& mac,
                         const bgp::IpAddress& ip, uint32_t label_field);
// E-VPN type 3 (RFC 7432 §7.3): ethernet tag 0.
bgp::EvpnNlri InclusiveMulticastRoute(const bgp::RouteDistinguisher& rd,
                                      const bgp::IpAddress& originating_ip);
// E-VPN type 5 (RFC 9136): ESI 0, ethernet tag 0, gateway 0.
bgp::EvpnNlri IpPrefixRoute(const bgp::RouteDistinguisher& rd, const bgp::Prefix& prefix,
                            uint32_t label_field);
// PMSI tunnel, ingress replication towards `tunnel_ip`, label field `label_field`.
bgp::PmsiTunnel IngressReplication(uint32_t label_field, const bgp::IpAddress& tunnel_ip);
// VPNv4 / VPNv6 (RFC 4364 / RFC 4659), one label with BoS.
bgp::VpnNlri VpnRoute(const bgp::RouteDistinguisher& rd, const bgp::Prefix& prefix,
                      uint32_t label);
// RT membership (RFC 4684): origin AS and a full (96-bit) route target.
bgp::RtcNlri RtcRoute(uint32_t origin_as, const bgp::ExtCommunity& route_target);
// The attributes of an RTC route: ORIGIN IGP, empty AS_PATH, LOCAL_PREF 100.
bgp::PathAttributes RtcAttributes();

}  // namespace bagpipe::vpn
