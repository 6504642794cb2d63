#include "bgp/rib/rt_membership.h"

#include <algorithm>

#include "bgp/rib/hash.h"

namespace bagpipe::bgp {

namespace {

uint64_t ToU64(const ExtCommunity& c) {
    uint64_t v = 0;
    for (uint8_t b : c.bytes) v = (v << 8) | b;
    return v;
}

ExtCommunity FromU64(uint64_t v) {
    ExtCommunity c;
    for (size_t i = 8; i-- > 0;) {
        c.bytes[i] = static_cast<uint8_t>(v);
        v >>= 8;
    }
    return c;
}

uint64_t Mask(unsigned bits) { return bits == 0 ? 0 : ~uint64_t{0} << (64 - bits); }

bool ValidLength(uint8_t length) { return length == 0 || (length >= 32 && length <= 96); }

// Route-target bits of an RTC route of this length (0 for the default route).
uint8_t RtBits(uint8_t length) { return length == 0 ? 0 : static_cast<uint8_t>(length - 32); }

}  // namespace

size_t RtMembership::RouteIdHash::operator()(const RouteId& r) const {
    rib_hash::Hasher h;
    h.Add(r.rt);
    h.Add((uint64_t{r.origin_as} << 32) | r.path_id);
    h.Add(r.length);
    return h.Finish();
}

RtMembership::PeerState* RtMembership::State(PeerId peer) {
    return peer < peers_.size() && peers_[peer].known ? &peers_[peer] : nullptr;
}

const RtMembership::PeerState* RtMembership::State(PeerId peer) const {
    return peer < peers_.size() && peers_[peer].known ? &peers_[peer] : nullptr;
}

void RtMembership::AddPeer(PeerId peer, bool rtc_negotiated) {
    RemovePeer(peer);
    if (peer >= peers_.size()) peers_.resize(size_t{peer} + 1);
    PeerState& s = peers_[peer];
    s.known = true;
    s.rtc = rtc_negotiated;
    s.ready = !rtc_negotiated;
    if (!rtc_negotiated) open_peers_.Insert(peer);
}

void RtMembership::RemovePeer(PeerId peer) {
    PeerState* s = State(peer);
    if (s == nullptr) return;
    for (const RouteId& r : s->routes) Count(peer, *s, r, -1);
    *s = PeerState{};
    open_peers_.Erase(peer);
    default_peers_.Erase(peer);
    std::erase_if(changes_, [&](const RtInterestChange& c) { return c.peer == peer; });
}

bool RtMembership::HasPeer(PeerId peer) const { return State(peer) != nullptr; }

bool RtMembership::RtcNegotiated(PeerId peer) const {
    const PeerState* s = State(peer);
    return s != nullptr && s->rtc;
}

void RtMembership::SetRtcReady(PeerId peer) {
    PeerState* s = State(peer);
    if (s == nullptr || s->ready) return;
    s->ready = true;
    SyncDefault(peer, *s);
    changes_.push_back({peer, RtInterestChange::Kind::kGained, 0, {}});
}

bool RtMembership::RtcReady(PeerId peer) const {
    const PeerState* s = State(peer);
    return s != nullptr && s->ready;
}

size_t RtMembership::RouteCount(PeerId peer) const {
    const PeerState* s = State(peer);
    return s == nullptr ? 0 : s->routes.size();
}

uint32_t RtMembership::Count(PeerId peer, PeerState& s, const RouteId& r, int delta) {
    const uint8_t bits = RtBits(r.length);
    if (r.length == 0) {
        s.default_routes += delta;
        SyncDefault(peer, s);
        return s.default_routes;
    }
    if (bits == 64) {
        auto& peers = exact_[r.rt];
        auto it = std::lower_bound(peers.begin(), peers.end(), peer,
                                   [](const PeerCount& pc, PeerId p) { return pc.peer < p; });
        if (it == peers.end() || it->peer != peer) it = peers.insert(it, PeerCount{peer, 0});
        it->count += delta;
        const uint32_t count = it->count;
        if (count == 0) {
            peers.erase(it);
            if (peers.empty()) exact_.erase(r.rt);
        }
        return count;
    }
    auto it = std::find_if(partial_.begin(), partial_.end(), [&](const Partial& p) {
        return p.peer == peer && p.bits == bits && p.prefix == r.rt;
    });
    if (it == partial_.end()) it = partial_.insert(partial_.end(), Partial{r.rt, bits, peer, 0});
    it->count += delta;
    const uint32_t count = it->count;
    if (count == 0) partial_.erase(it);
    return count;
}

void RtMembership::SyncDefault(PeerId peer, const PeerState& s) {
    if (s.ready && s.rtc && s.default_routes > 0)
        default_peers_.Insert(peer);
    else
        default_peers_.Erase(peer);
}

bool RtMembership::CoveredBroadly(PeerId peer, const PeerState& s, uint64_t rt) const {
    if (CoveredByDefault(s)) return true;
    for (const Partial& p : partial_)
        if (p.peer == peer && (rt & Mask(p.bits)) == p.prefix) return true;
    return false;
}

void RtMembership::Log(const PeerState& s, PeerId peer, RtInterestChange::Kind kind, uint8_t bits,
                       uint64_t rt) {
    if (!s.ready) return;  // nothing was or will be sent before its End-of-RIB
    changes_.push_back({peer, kind, bits, FromU64(rt)});
}

bool RtMembership::Add(PeerId peer, const RtcNlri& nlri) {
    PeerState* s = State(peer);
    if (s == nullptr || !s->rtc || !ValidLength(nlri.length)) return false;
    const uint8_t bits = RtBits(nlri.length);
    const RouteId r{ToU64(nlri.route_target) & Mask(bits), nlri.length == 0 ? 0 : nlri.origin_as,
                    nlri.path_id, nlri.length};
    if (!s->routes.insert(r).second) return true;  // already held
    if (Count(peer, *s, r, +1) != 1) return true;  // interest unchanged
    const auto kind = RtInterestChange::Kind::kGained;
    if (nlri.length == 0) {
        Log(*s, peer, kind, 0, 0);
    } else if (bits == 64) {
        if (!CoveredBroadly(peer, *s, r.rt)) Log(*s, peer, kind, bits, r.rt);
    } else if (!CoveredByDefault(*s)) {
        Log(*s, peer, kind, bits, r.rt);
    }
    return true;
}

bool RtMembership::Remove(PeerId peer, const RtcNlri& nlri) {
    PeerState* s = State(peer);
    if (s == nullptr || !s->rtc || !ValidLength(nlri.length)) return false;
    const uint8_t bits = RtBits(nlri.length);
    const RouteId r{ToU64(nlri.route_target) & Mask(bits), nlri.length == 0 ? 0 : nlri.origin_as,
                    nlri.path_id, nlri.length};
    if (s->routes.erase(r) == 0) return false;
    if (Count(peer, *s, r, -1) != 0) return true;  // still wanted through another route
    const auto kind = RtInterestChange::Kind::kLost;
    if (nlri.length == 0) {
        Log(*s, peer, kind, 0, 0);
    } else if (bits == 64) {
        if (!CoveredBroadly(peer, *s, r.rt)) Log(*s, peer, kind, bits, r.rt);
    } else if (!CoveredByDefault(*s)) {
        Log(*s, peer, kind, bits, r.rt);
    }
    return true;
}

void RtMembership::InterestedPeers(std::span<const ExtCommunity> communities,
                                   PeerSet& out) const {
    out.Clear();
    out.InsertAll(open_peers_);
    out.InsertAll(default_peers_);
    for (const ExtCommunity& c : communities) {
        if (!c.is_route_target()) continue;
        const uint64_t rt = ToU64(c);
        if (auto it = exact_.find(rt); it != exact_.end()) {
            for (const PeerCount& pc : it->second)
                if (peers_[pc.peer].ready) out.Insert(pc.peer);
        }
        for (const Partial& p : partial_)
            if (peers_[p.peer].ready && (rt & Mask(p.bits)) == p.prefix) out.Insert(p.peer);
    }
}

PeerSet RtMembership::InterestedPeers(const std::vector<ExtCommunity>& communities) const {
    PeerSet out;
    InterestedPeers(std::span<const ExtCommunity>(communities), out);
    return out;
}

bool RtMembership::IsInterested(PeerId peer, std::span<const ExtCommunity> communities) const {
    const PeerState* s = State(peer);
    if (s == nullptr || !s->ready) return false;
    if (!s->rtc || s->default_routes > 0) return true;
    for (const ExtCommunity& c : communities) {
        if (!c.is_route_target()) continue;
        const uint64_t rt = ToU64(c);
        if (auto it = exact_.find(rt); it != exact_.end()) {
            const auto& peers = it->second;
            auto pos = std::lower_bound(peers.begin(), peers.end(), peer,
                                        [](const PeerCount& pc, PeerId p) { return pc.peer < p; });
            if (pos != peers.end() && pos->peer == peer) return true;
        }
        for (const Partial& p : partial_)
            if (p.peer == peer && (rt & Mask(p.bits)) == p.prefix) return true;
    }
    return false;
}

std::vector<RtInterestChange> RtMembership::DrainChanges() {
    std::vector<RtInterestChange> out;
    out.swap(changes_);
    return out;
}

}  // namespace bagpipe::bgp
