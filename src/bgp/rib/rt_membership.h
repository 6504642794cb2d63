// Route Target Constraint index (RFC 4684): which peers want VPN routes
// carrying which route targets.
//
// Fed with the RTC NLRI each peer sends (Add / Remove), it answers, for the
// route targets of a VPN route, the set of peers the route may be sent to
// (InterestedPeers), and logs interest changes so that the export stage can
// send or withdraw routes when a peer's membership changes (DrainChanges).
//
// Matching (RFC 4684 §4): an RTC NLRI is <length, origin AS, route target>.
// Length 0 is the default route: every route target. Length 96 names one
// route target exactly (looked up by hash). Lengths 32-95 are prefixes whose
// first 32 bits are the origin AS, which plays no part in matching: the
// remaining length - 32 bits are matched as a prefix of the route target's 8
// octets (a short list, scanned). Other lengths are refused. Only extended
// communities that are route targets (ExtCommunity::is_route_target) are
// matched.
//
// Peers: a peer that did not negotiate RTC receives every route. A peer that
// did is not sent VPN routes before its RTC End-of-RIB (RFC 4684 §6; the
// caller calls SetRtcReady then): until ready it is in no InterestedPeers
// answer and produces no change events; becoming ready logs one kGained event
// with rt_bits 0 (re-evaluate every route for it).
//
// Invariants: each peer's RTC routes are a set keyed by the whole NLRI with
// its path id (an announcement of a route already held changes nothing);
// the exact and prefix indexes count, per peer, the routes that put it there.
//
// Executor: the event-loop thread only; no locks.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "bgp/family/rtc/rtc_nlri.h"
#include "bgp/rib/peer.h"
#include "bgp/wire/ext_community.h"

namespace bagpipe::bgp {

// A change of a peer's interest: routes whose route targets match the first
// rt_bits bits of route_target (every route when rt_bits is 0) must be
// re-evaluated for `peer` — sent if kGained, withdrawn unless still wanted
// (check IsInterested) if kLost. Changes hidden by a broader interest of the
// same peer (an exact RT under its default route) are not logged.
struct RtInterestChange {
    enum class Kind : uint8_t { kGained, kLost };
    PeerId peer = 0;
    Kind kind = Kind::kGained;
    uint8_t rt_bits = 0;        // 0..64
    ExtCommunity route_target;  // bits beyond rt_bits are zero

    bool operator==(const RtInterestChange&) const = default;
};

class RtMembership {
public:
    // Registers a peer whose session is up. rtc_negotiated: it sent the
    // IPv4/RTC multiprotocol capability. Re-adding resets the peer.
    void AddPeer(PeerId peer, bool rtc_negotiated);
    // Forgets a peer and its RTC routes (no change events: its session is gone).
    void RemovePeer(PeerId peer);
    bool HasPeer(PeerId peer) const;
    bool RtcNegotiated(PeerId peer) const;

    // RFC 4684 §6: the peer's RTC End-of-RIB has been received.
    void SetRtcReady(PeerId peer);
    // True for a registered peer that either did not negotiate RTC or whose
    // RTC End-of-RIB was received: its VPN routes may be sent.
    bool RtcReady(PeerId peer) const;

    // An RTC route announced / withdrawn by `peer`. False when ignored: the
    // peer is unknown or did not negotiate RTC, the length is invalid, or
    // (Remove) the route was not held.
    bool Add(PeerId peer, const RtcNlri& nlri);
    bool Remove(PeerId peer, const RtcNlri& nlri);

    // Peers to which a VPN route with these extended communities may be sent.
    PeerSet InterestedPeers(const std::vector<ExtCommunity>& communities) const;
    // Same, into `out` (cleared first), without allocating once `out` is sized.
    void InterestedPeers(std::span<const ExtCommunity> communities, PeerSet& out) const;
    bool IsInterested(PeerId peer, std::span<const ExtCommunity> communities) const;

    // RTC routes held for `peer`.
    size_t RouteCount(PeerId peer) const;

    // Changes logged since the last call, in order.
    std::vector<RtInterestChange> DrainChanges();
    size_t PendingChanges() const { return changes_.size(); }

private:
    struct RouteId {
        uint64_t rt = 0;  // route target octets, big-endian
        uint32_t origin_as = 0;
        uint32_t path_id = 0;
        uint8_t length = 0;
        bool operator==(const RouteId&) const = default;
    };
    struct RouteIdHash {
        size_t operator()(const RouteId& r) const;
    };
    struct PeerState {
        bool known = false;
        bool rtc = false;
        bool ready = false;
        uint32_t default_routes = 0;
        boost::unordered_flat_set<RouteId, RouteIdHash> routes;
    };
    struct PeerCount {
        PeerId peer;
        uint32_t count;
    };
    // A prefix entry: route targets whose first `bits` bits equal `prefix`.
    struct Partial {
        uint64_t prefix;
        uint8_t bits;  // 0..63
        PeerId peer;
        uint32_t count;
    };

    PeerState* State(PeerId peer);
    const PeerState* State(PeerId peer) const;
    // Whether `peer` wants route target `rt` through something other than
    // its exact entry for it (default or a prefix).
    bool CoveredBroadly(PeerId peer, const PeerState& s, uint64_t rt) const;
    bool CoveredByDefault(const PeerState& s) const { return s.default_routes > 0; }
    void Log(const PeerState& s, PeerId peer, RtInterestChange::Kind kind, uint8_t bits,
             uint64_t rt);
    // Adds delta (+1 / -1) to the index entry of route `r` of `peer`; returns
    // the entry's new count.
    uint32_t Count(PeerId peer, PeerState& s, const RouteId& r, int delta);
    bool MatchesAny(uint64_t rt_prefix, uint8_t bits, std::span<const ExtCommunity> comms) const;

    std::vector<PeerState> peers_;
    // Puts `peer` in default_peers_ iff it is ready with a default route.
    void SyncDefault(PeerId peer, const PeerState& s);

    PeerSet open_peers_;     // registered peers without RTC
    PeerSet default_peers_;  // ready RTC peers holding a default route
    boost::unordered_flat_map<uint64_t, std::vector<PeerCount>> exact_;
    std::vector<Partial> partial_;
    std::vector<RtInterestChange> changes_;
};

}  // namespace bagpipe::bgp
