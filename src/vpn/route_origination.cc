#include "vpn/route_origination.h"

namespace bagpipe::vpn {

using bgp::ExtCommunity;

std::vector<ExtCommunity> EncapsulationCommunities(dataplane::EncapsulationSet encaps) {
    std::vector<ExtCommunity> out;
    for (dataplane::Encapsulation e : encaps.ToVector()) {
        if (e == dataplane::Encapsulation::kDefault) continue;
        out.push_back(ExtCommunity::Encapsulation(static_cast<uint16_t>(e)));
    }
    return out;
}

namespace {
bgp::PathAttributes BaseAttributes(uint32_t local_pref) {
    bgp::PathAttributes a;
    a.set(bgp::attr::kOrigin);
    a.origin = bgp::Origin::kIgp;
    a.set(bgp::attr::kAsPath);
    a.set(bgp::attr::kLocalPref);
    a.local_pref = local_pref;
    return a;
}
}  // namespace

bgp::PathAttributes OriginatedAttributes(uint32_t local_pref, const RouteCommunities& c) {
    bgp::PathAttributes a = BaseAttributes(local_pref);
    std::vector<ExtCommunity> ext = EncapsulationCommunities(c.encaps);
    ext.insert(ext.end(), c.route_targets.begin(), c.route_targets.end());
    if (c.mac_mobility_sequence && *c.mac_mobility_sequence > 0)
        ext.push_back(ExtCommunity::MacMobility(*c.mac_mobility_sequence, false));
    if (c.routers_mac) ext.push_back(ExtCommunity::RoutersMac(*c.routers_mac));
    if (c.default_gateway) ext.push_back(ExtCommunity::DefaultGateway());
    if (c.consistent_hash_order) ext.push_back(ExtCommunity::ConsistentHashSortOrder(*c.consistent_hash_order));
    for (const auto& rt : c.rt_records) ext.push_back(RtRecordOf(rt));
    if (!ext.empty()) {
        a.set(bgp::attr::kExtCommunities);
        a.ext_communities = std::move(ext);
    }
    return a;
}

ExtCommunity RtRecordOf(const ExtCommunity& route_target) {
    ExtCommunity r = route_target;
    r.bytes[1] = bgp::ecomm::kRtRecord;
    return r;
}

uint32_t LabelField(uint32_t value, bool vxlan) {
    return vxlan ? (value & bgp::kMaxVni) : bgp::MplsLabelField(value);
}

uint32_t LabelValue(uint32_t field, bool vxlan) {
    return vxlan ? (field & bgp::kMaxVni) : bgp::LabelFromField(field);
}

bgp::EvpnNlri MacIpRoute(const bgp::RouteDistinguisher& rd, const bgp::MacAddress& mac,
                         const bgp::IpAddress& ip, uint32_t label_field) {
    bgp::EvpnNlri n;
    n.route_type = static_cast<uint8_t>(bgp::EvpnRouteType::kMacIp);
    n.rd = rd;
    n.mac_length = 48;
    n.mac = mac;
    n.ip = ip;
    n.labels = bgp::LabelStack::One(label_field);
    return n;
}

bgp::EvpnNlri InclusiveMulticastRoute(const bgp::RouteDistinguisher& rd,
                                      const bgp::IpAddress& originating_ip) {
    bgp::EvpnNlri n;
    n.route_type = static_cast<uint8_t>(bgp::EvpnRouteType::kInclusiveMulticast);
    n.rd = rd;
    n.originating_ip = originating_ip;
    return n;
}

bgp::EvpnNlri IpPrefixRoute(const bgp::RouteDistinguisher& rd, const bgp::Prefix& prefix,
                            uint32_t label_field) {
    bgp::EvpnNlri n;
    n.route_type = static_cast<uint8_t>(bgp::EvpnRouteType::kIpPrefix);
    n.rd = rd;
    n.prefix = prefix;
    n.labels = bgp::LabelStack::One(label_field);
    return n;
}

bgp::PmsiTunnel IngressReplication(uint32_t label_field, const bgp::IpAddress& tunnel_ip) {
    bgp::PmsiTunnel t;
    t.flags = 0;
    t.tunnel_type = bgp::PmsiTunnel::kIngressReplication;
    t.label = label_field;
    t.tunnel_id.assign(tunnel_ip.bytes.begin(), tunnel_ip.bytes.begin() + tunnel_ip.size());
    return t;
}

bgp::VpnNlri VpnRoute(const bgp::RouteDistinguisher& rd, const bgp::Prefix& prefix,
                      uint32_t label) {
    bgp::VpnNlri n;
    n.rd = rd;
    n.prefix = prefix;
    n.labels = bgp::LabelStack::One(bgp::MplsLabelField(label));
    return n;
}

bgp::RtcNlri RtcRoute(uint32_t origin_as, const ExtCommunity& route_target) {
    bgp::RtcNlri n;
    n.length = 96;
    n.origin_as = origin_as;
    n.route_target = route_target;
    return n;
}

bgp::PathAttributes RtcAttributes() { return BaseAttributes(100); }

}  // namespace bagpipe::vpn
