#include "bgp/session/negotiation.h"

#include <algorithm>
#include <variant>

namespace bagpipe::bgp {

namespace {

bool Has(const OpenMessage& open, uint8_t code) { return open.Find(code) != nullptr; }

FamilySet ToSet(Family f) {
    FamilySet s;
    if (f != Family::kUnknown) s.set(FamilyIndex(f));
    return s;
}

// Add-path directions per family, OR-ed over every add-path capability the
// OPEN carries (RFC 7911 allows one capability with many entries; a peer that
// splits them is tolerated).
struct AddPathSets {
    FamilySet receive;
    FamilySet send;
};

AddPathSets AddPathOf(const OpenMessage& open) {
    AddPathSets out;
    for (const auto& c : open.capabilities) {
        const auto* ap = std::get_if<AddPathCap>(&c);
        if (ap == nullptr) continue;
        for (const auto& e : ap->entries) {
            FamilySet f = ToSet(FamilyFromAfiSafi(e.afi, e.safi));
            if (e.send_receive & AddPathCap::kReceive) out.receive |= f;
            if (e.send_receive & AddPathCap::kSend) out.send |= f;
        }
    }
    return out;
}

}  // namespace

std::vector<AfiSafi> OfferedAfiSafis(const OpenMessage& open) {
    std::vector<AfiSafi> out;
    for (const auto& c : open.capabilities) {
        const auto* mp = std::get_if<MultiprotocolCap>(&c);
        if (mp == nullptr) continue;
        AfiSafi as{mp->afi, mp->safi};
        if (std::find(out.begin(), out.end(), as) == out.end()) out.push_back(as);
    }
    if (out.empty()) out.push_back({kAfiIpv4, kSafiUnicast});
    return out;
}

FamilySet OfferedFamilies(const OpenMessage& open) {
    FamilySet out;
    for (const AfiSafi& as : OfferedAfiSafis(open)) out |= ToSet(FamilyFromAfiSafi(as.afi, as.safi));
    return out;
}

NegotiatedSession Negotiate(const OpenMessage& ours, const OpenMessage& theirs) {
    NegotiatedSession n;
    n.local_as = ours.AsNumber();
    n.peer_as = theirs.AsNumber();
    n.peer_bgp_id = theirs.bgp_id;
    n.ibgp = n.local_as == n.peer_as;

    n.hold_time = std::min(ours.hold_time, theirs.hold_time);
    n.keepalive_time = static_cast<uint16_t>(n.hold_time / 3);

    n.asn4 = Has(ours, cap::kFourOctetAs) && Has(theirs, cap::kFourOctetAs);
    auto route_refresh = [](const OpenMessage& o) {
        return Has(o, cap::kRouteRefresh) || Has(o, cap::kRouteRefreshCisco);
    };
    n.route_refresh = route_refresh(ours) && route_refresh(theirs);
    n.enhanced_route_refresh =
        Has(ours, cap::kEnhancedRouteRefresh) && Has(theirs, cap::kEnhancedRouteRefresh);
    n.extended_message = Has(ours, cap::kExtendedMessage) && Has(theirs, cap::kExtendedMessage);

    const FamilySet our_families = OfferedFamilies(ours);
    const FamilySet their_families = OfferedFamilies(theirs);
    n.families = our_families & their_families;
    n.families_missing = our_families & ~their_families;
    const std::vector<AfiSafi> our_afi_safis = OfferedAfiSafis(ours);
    for (const AfiSafi& as : OfferedAfiSafis(theirs)) {
        if (std::find(our_afi_safis.begin(), our_afi_safis.end(), as) == our_afi_safis.end())
            n.families_peer_only.push_back(as);
    }

    const AddPathSets our_ap = AddPathOf(ours);
    const AddPathSets their_ap = AddPathOf(theirs);
    n.add_path_receive = our_ap.receive & their_ap.send & n.families;
    n.add_path_send = our_ap.send & their_ap.receive & n.families;

    const Capability* gr_cap = theirs.Find(cap::kGracefulRestart);
    if (const auto* gr_ptr = gr_cap ? std::get_if<GracefulRestartCap>(gr_cap) : nullptr) {
        const GracefulRestartCap& gr = *gr_ptr;
        GracefulRestartInfo& info = n.peer_graceful_restart;
        info.advertised = true;
        info.restart_time = gr.restart_time;
        info.restart_state = (gr.flags & 0x8) != 0;
        info.notification = (gr.flags & 0x4) != 0;
        for (const auto& e : gr.entries) {
            FamilySet f = ToSet(FamilyFromAfiSafi(e.afi, e.safi)) & n.families;
            info.families |= f;
            if (e.flags & 0x80) info.forwarding_preserved |= f;
        }
    }
    n.graceful_restart = Has(ours, cap::kGracefulRestart) && n.peer_graceful_restart.advertised;

    n.context.asn4 = n.asn4;
    n.context.extended_message = n.extended_message;
    n.context.add_path_receive = n.add_path_receive;
    n.context.add_path_send = n.add_path_send;
    n.context.ibgp = n.ibgp;
    return n;
}

}  // namespace bagpipe::bgp
