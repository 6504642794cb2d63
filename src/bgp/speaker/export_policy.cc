#include "bgp/speaker/export_policy.h"

#include <algorithm>

namespace bagpipe::bgp {

bool MayExport(PeerId source_id, const PeerInfo& source, PeerId target_id, const PeerInfo& target,
               const PathAttributes& attrs, const LocalSpeaker& self) {
    if (source_id == target_id && !source.local) return false;
    if (target.ibgp && attrs.has(attr::kOriginatorId) && attrs.originator_id.is_v4() &&
        attrs.originator_id.v4() == target.router_id && target.router_id != 0)
        return false;
    if (source.local || !source.ibgp) return true;
    // Learned over iBGP.
    if (!target.ibgp) return true;
    if (!self.route_reflector) return false;
    return source.rr_client || target.rr_client;
}

bool IsLoop(const PeerInfo& from, const PathAttributes& attrs, const LocalSpeaker& self) {
    if (from.local) return false;
    if (from.ibgp) {
        if (attrs.has(attr::kOriginatorId) && attrs.originator_id.is_v4() &&
            attrs.originator_id.v4() == self.router_id)
            return true;
        if (attrs.has(attr::kClusterList) &&
            std::find(attrs.cluster_list.begin(), attrs.cluster_list.end(), self.cluster_id) !=
                attrs.cluster_list.end())
            return true;
        return false;
    }
    if (attrs.has(attr::kAsPath)) {
        for (const auto& seg : attrs.as_path.segments)
            if (std::find(seg.asns.begin(), seg.asns.end(), self.asn) != seg.asns.end())
                return true;
    }
    return false;
}

OutgoingAttributes MakeOutgoing(const PathAttributes& in, const NextHop& in_next_hop,
                                const PeerInfo& source, bool target_ibgp, Family family,
                                const LocalSpeaker& self) {
    OutgoingAttributes out{in, in_next_hop};
    PathAttributes& a = out.attrs;
    a.clear(attr::kMpReach);
    a.clear(attr::kMpUnreach);
    if (!a.has(attr::kOrigin)) {
        a.origin = Origin::kIgp;
        a.set(attr::kOrigin);
    }
    if (!a.has(attr::kAsPath)) {
        a.as_path.segments.clear();
        a.set(attr::kAsPath);
    }
    const bool from_ibgp = source.ibgp && !source.local;
    if (target_ibgp) {
        if (from_ibgp) {
            if (!a.has(attr::kOriginatorId)) {
                a.originator_id = IpAddress::V4(source.router_id);
                a.set(attr::kOriginatorId);
            }
            a.cluster_list.insert(a.cluster_list.begin(), self.cluster_id);
            a.set(attr::kClusterList);
        } else {
            if (!source.local) {
                // RFC 4271 §5.1.5: LOCAL_PREF from an eBGP peer is not used.
                a.clear(attr::kLocalPref);
            }
            a.clear(attr::kOriginatorId);
            a.clear(attr::kClusterList);
            a.cluster_list.clear();
        }
        if (!a.has(attr::kLocalPref)) {
            a.local_pref = 100;
            a.set(attr::kLocalPref);
        }
        if (family == Family::kIpv4Unicast && !a.has(attr::kNextHop) && !in_next_hop.global.empty()) {
            a.next_hop = in_next_hop.global;
            a.set(attr::kNextHop);
        }
        return out;
    }
    // Towards eBGP.
    a.clear(attr::kOriginatorId);
    a.originator_id = {};
    a.clear(attr::kClusterList);
    a.cluster_list.clear();
    a.clear(attr::kLocalPref);
    a.local_pref = 0;
    if (!source.ibgp && !source.local) {
        a.clear(attr::kMed);
        a.med = 0;
    }
    auto& segs = a.as_path.segments;
    if (!segs.empty() && segs.front().type == AsPathSegment::kSequence && segs.front().asns.size() < 255)
        segs.front().asns.insert(segs.front().asns.begin(), self.asn);
    else
        segs.insert(segs.begin(), AsPathSegment{AsPathSegment::kSequence, {self.asn}});
    a.set(attr::kAsPath);
    out.next_hop = NextHop{self.next_hop, {}};
    if (family == Family::kIpv4Unicast) {
        a.next_hop = self.next_hop;
        a.set(attr::kNextHop);
    }
    return out;
}

bool IsRtcFiltered(Family f) {
    return f == Family::kIpv4Vpn || f == Family::kIpv6Vpn || f == Family::kL2vpnEvpn ||
           f == Family::kIpv4FlowspecVpn || f == Family::kIpv6FlowspecVpn;
}

}  // namespace bagpipe::bgp
