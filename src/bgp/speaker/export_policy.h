// Route reflection and eBGP/iBGP export rules as pure functions: which peers
// a best path may be advertised to (RFC 4271 §9.2, RFC 4456 §8), which
// received routes must be dropped as loops (RFC 4456 §8, RFC 4271 §9.1.2),
// and the attributes a route carries towards a class of peers.
//
// No state, no I/O: the BgpSpeaker calls these for every changed route and
// every peer, and the unit tests call them directly.
#pragma once

#include <cstdint>

#include "bgp/rib/peer.h"
#include "bgp/wire/attributes.h"
#include "bgp/wire/family.h"
#include "bgp/wire/nlri.h"

namespace bagpipe::bgp {

// What the export rules need to know about the speaker itself.
struct LocalSpeaker {
    uint32_t asn = 0;
    uint32_t router_id = 0;   // host order
    uint32_t cluster_id = 0;  // host order; RFC 4456 §7: the router id by default
    bool route_reflector = false;
    IpAddress next_hop;       // next-hop-self towards eBGP peers
};

// May a best path learned from `source` be advertised to `target`?
// Split horizon (never back to the peer it came from), iBGP full-mesh rule
// (iBGP-learned routes go to eBGP peers only) unless we reflect: from a client
// to every iBGP peer, from a non-client to clients only (RFC 4456 §8). A route
// whose ORIGINATOR_ID is the target's router id is not sent back to its
// originator.
bool MayExport(PeerId source_id, const PeerInfo& source, PeerId target_id, const PeerInfo& target,
               const PathAttributes& attrs, const LocalSpeaker& self);

// RFC 4456 §8 / RFC 4271 §9.1.2: true when a route received from `from`
// must be ignored: iBGP with our router id as ORIGINATOR_ID or our cluster id
// in CLUSTER_LIST; eBGP with our AS in AS_PATH.
bool IsLoop(const PeerInfo& from, const PathAttributes& attrs, const LocalSpeaker& self);

// The attributes a route carries towards peers of one kind (iBGP or eBGP),
// given the attributes it was received with (MP_* excluded) and its next hop:
//  * towards iBGP, from an iBGP peer (reflection): ORIGINATOR_ID set to the
//    source's router id when absent, our cluster id prepended to CLUSTER_LIST;
//    from eBGP or local: LOCAL_PREF 100 when absent; next hop unchanged;
//  * towards eBGP: ORIGINATOR_ID, CLUSTER_LIST and LOCAL_PREF removed, our AS
//    prepended to AS_PATH, MED removed when learned from eBGP (RFC 4271
//    §5.1.4), next hop set to ours (next-hop-self).
struct OutgoingAttributes {
    PathAttributes attrs;
    NextHop next_hop;
};
OutgoingAttributes MakeOutgoing(const PathAttributes& in, const NextHop& in_next_hop,
                                const PeerInfo& source, bool target_ibgp, Family family,
                                const LocalSpeaker& self);

// Families whose routes RT Constraint filters (RFC 4684 §4): VPNv4, VPNv6,
// E-VPN and FlowSpec-VPN.
bool IsRtcFiltered(Family f);

}  // namespace bagpipe::bgp
