#include "bgp/rib/attr_store.h"

#include <type_traits>
#include <utility>

#include "bgp/rib/hash.h"

namespace bagpipe::bgp {

namespace {

// The codes PathAttributes holds in typed form, MP_* excluded; any other
// code lives in `unknown`.
constexpr uint8_t kKnownCodes[] = {
    attr::kOrigin,        attr::kAsPath,          attr::kNextHop,          attr::kMed,
    attr::kLocalPref,     attr::kAtomicAggregate, attr::kAggregator,       attr::kCommunities,
    attr::kOriginatorId,  attr::kClusterList,     attr::kExtCommunities,   attr::kAs4Path,
    attr::kAs4Aggregator, attr::kPmsiTunnel,      attr::kLargeCommunities, attr::kAttrSet,
};

std::bitset<256> PresentWithoutMp(const PathAttributes& a) {
    std::bitset<256> p = a.present;
    p.reset(attr::kMpReach);
    p.reset(attr::kMpUnreach);
    return p;
}

void AddIp(rib_hash::Hasher& h, const IpAddress& ip) {
    h.Add(ip.version);
    if (ip.version != 0) h.AddBytes(ip.bytes.data(), ip.size());
}

void AddAsPath(rib_hash::Hasher& h, const AsPath& path) {
    h.Add(path.segments.size());
    for (const auto& s : path.segments) {
        h.Add((uint64_t{s.type} << 32) | s.asns.size());
        h.AddBytes(s.asns.data(), s.asns.size() * sizeof(uint32_t));
    }
}

template <class T>
void AddVector(rib_hash::Hasher& h, const std::vector<T>& v) {
    static_assert(std::has_unique_object_representations_v<T>);
    h.Add(v.size());
    h.AddBytes(v.data(), v.size() * sizeof(T));
}

// First AS of the first segment that is not a confederation segment: the AS
// a route was learned from, for MED comparison. An AS_SET there, or no such
// segment, gives 0 (its MED is compared with the other such routes).
uint32_t NeighborAs(const AsPath& path) {
    for (const auto& s : path.segments) {
        if (s.type == AsPathSegment::kConfedSequence || s.type == AsPathSegment::kConfedSet)
            continue;
        if (s.type == AsPathSegment::kSequence && !s.asns.empty()) return s.asns.front();
        return 0;
    }
    return 0;
}

}  // namespace

BestPathFacts ComputeBestPathFacts(const PathAttributes& a) {
    BestPathFacts f;
    if (a.has(attr::kLocalPref)) {
        f.local_pref = a.local_pref;
        f.has_local_pref = true;
    }
    if (a.has(attr::kMed)) f.med = a.med;
    if (a.has(attr::kAsPath)) {
        f.as_path_length = static_cast<uint32_t>(a.as_path.Length());
        f.neighbor_as = NeighborAs(a.as_path);
    }
    if (a.has(attr::kOriginatorId) && a.originator_id.is_v4()) {
        f.originator_id = a.originator_id.v4();
        f.has_originator_id = true;
    }
    if (a.has(attr::kClusterList))
        f.cluster_list_length = static_cast<uint32_t>(a.cluster_list.size());
    if (a.has(attr::kOrigin)) f.origin = static_cast<uint8_t>(a.origin);
    return f;
}

uint64_t HashAttributes(const PathAttributes& a, const NextHop& nh) {
    rib_hash::Hasher h;
    const std::bitset<256> present = PresentWithoutMp(a);
    // The bitset as four words: hashed without depending on its layout.
    const std::bitset<256> low64(~uint64_t{0});
    for (unsigned w = 0; w < 4; ++w) h.Add(((present >> (64 * w)) & low64).to_ullong());
    AddIp(h, nh.global);
    AddIp(h, nh.link_local);
    if (a.has(attr::kOrigin)) h.Add(static_cast<uint64_t>(a.origin));
    if (a.has(attr::kAsPath)) AddAsPath(h, a.as_path);
    if (a.has(attr::kNextHop)) AddIp(h, a.next_hop);
    if (a.has(attr::kMed)) h.Add(a.med);
    if (a.has(attr::kLocalPref)) h.Add(a.local_pref);
    if (a.has(attr::kAggregator)) {
        h.Add(a.aggregator.asn);
        AddIp(h, a.aggregator.address);
    }
    if (a.has(attr::kCommunities)) AddVector(h, a.communities);
    if (a.has(attr::kOriginatorId)) AddIp(h, a.originator_id);
    if (a.has(attr::kClusterList)) AddVector(h, a.cluster_list);
    if (a.has(attr::kExtCommunities)) AddVector(h, a.ext_communities);
    if (a.has(attr::kAs4Path)) AddAsPath(h, a.as4_path);
    if (a.has(attr::kAs4Aggregator)) {
        h.Add(a.as4_aggregator.asn);
        AddIp(h, a.as4_aggregator.address);
    }
    if (a.has(attr::kPmsiTunnel)) {
        const auto& t = a.pmsi_tunnel;
        h.Add((uint64_t{t.flags} << 40) | (uint64_t{t.tunnel_type} << 32) | t.label);
        AddVector(h, t.tunnel_id);
    }
    if (a.has(attr::kLargeCommunities)) AddVector(h, a.large_communities);
    if (a.has(attr::kAttrSet)) {
        h.Add(a.attr_set.origin_as);
        AddVector(h, a.attr_set.attributes);
    }
    // Unknown attributes are kept whatever their present bit says; hash them
    // all (SameAttributes compares the whole list too).
    h.Add(a.unknown.size());
    for (const auto& u : a.unknown) {
        h.Add((uint64_t{u.flags} << 8) | u.code);
        AddVector(h, u.value);
    }
    return h.Finish();
}

uint64_t HashAttributesCanonical(const PathAttributes& a, const NextHop& nh, Bytes& scratch) {
    scratch.clear();
    Writer w(scratch);
    SessionContext ctx;
    ctx.asn4 = true;
    EncodePathAttributes(a, ctx, w);
    uint64_t h = rib_hash::Bytes(scratch.data(), scratch.size());
    rib_hash::Hasher nh_hash(h);
    AddIp(nh_hash, nh.global);
    AddIp(nh_hash, nh.link_local);
    return nh_hash.Finish();
}

bool SameAttributes(const PathAttributes& a, const NextHop& a_nh, const PathAttributes& b,
                    const NextHop& b_nh) {
    const std::bitset<256> present = PresentWithoutMp(a);
    if (present != PresentWithoutMp(b) || !(a_nh == b_nh)) return false;
    if (a.unknown != b.unknown) return false;
    for (uint8_t code : kKnownCodes) {
        if (!present.test(code)) continue;
        bool same = true;
        switch (code) {
            case attr::kOrigin: same = a.origin == b.origin; break;
            case attr::kAsPath: same = a.as_path == b.as_path; break;
            case attr::kNextHop: same = a.next_hop == b.next_hop; break;
            case attr::kMed: same = a.med == b.med; break;
            case attr::kLocalPref: same = a.local_pref == b.local_pref; break;
            case attr::kAtomicAggregate: break;
            case attr::kAggregator: same = a.aggregator == b.aggregator; break;
            case attr::kCommunities: same = a.communities == b.communities; break;
            case attr::kOriginatorId: same = a.originator_id == b.originator_id; break;
            case attr::kClusterList: same = a.cluster_list == b.cluster_list; break;
            case attr::kExtCommunities: same = a.ext_communities == b.ext_communities; break;
            case attr::kAs4Path: same = a.as4_path == b.as4_path; break;
            case attr::kAs4Aggregator: same = a.as4_aggregator == b.as4_aggregator; break;
            case attr::kPmsiTunnel: same = a.pmsi_tunnel == b.pmsi_tunnel; break;
            case attr::kLargeCommunities: same = a.large_communities == b.large_communities; break;
            case attr::kAttrSet: same = a.attr_set == b.attr_set; break;
            default: break;
        }
        if (!same) return false;
    }
    return true;
}

// ---------------------------------------------------------------------------
// AttrEntry.

AttrEntry::AttrEntry(AttrStore* store, uint64_t hash, PathAttributes attrs,
                     const NextHop& next_hop)
    : store_(store), hash_(hash), next_hop_(next_hop), attrs_(std::move(attrs)) {
    attrs_.clear(attr::kMpReach);
    attrs_.clear(attr::kMpUnreach);
    attrs_.mp_reach = MpReach{};
    attrs_.mp_unreach = MpUnreach{};
    facts_ = ComputeBestPathFacts(attrs_);
}

const Bytes& AttrEntry::Encoded(bool asn4) const {
    auto& slot = encoded_[asn4 ? 1 : 0];
    if (!slot) {
        slot = std::make_unique<Bytes>();
        Writer w(*slot);
        SessionContext ctx;
        ctx.asn4 = asn4;
        EncodePathAttributes(attrs_, ctx, w);
    }
    return *slot;
}

void intrusive_ptr_add_ref(const AttrEntry* e) { ++e->refs_; }

void intrusive_ptr_release(const AttrEntry* e) {
    if (--e->refs_ != 0) return;
    if (e->store_ != nullptr) e->store_->Erase(e);
    delete e;
}

// ---------------------------------------------------------------------------
// AttrStore.

AttrStore::~AttrStore() {
    for (AttrEntry* e : index_) e->store_ = nullptr;
}

AttrRef AttrStore::Intern(const PathAttributes& attrs) {
    static const NextHop kNone;
    return Intern(attrs, attrs.has(attr::kMpReach) ? attrs.mp_reach.next_hop : kNone);
}

AttrRef AttrStore::Intern(const PathAttributes& attrs, const NextHop& next_hop) {
    const Probe probe{&attrs, &next_hop, HashAttributes(attrs, next_hop)};
    if (auto it = index_.find(probe); it != index_.end()) {
        ++hits_;
        return AttrRef(*it);
    }
    ++misses_;
    // A new set: the copy includes the MP_* NLRI, dropped by the entry's
    // constructor; misses are rare (one per distinct set), hits copy nothing.
    auto* e = new AttrEntry(this, probe.hash, attrs, next_hop);
    index_.insert(e);
    return AttrRef(e);
}

void AttrStore::Erase(const AttrEntry* e) {
    auto it = index_.find(const_cast<AttrEntry*>(e));
    if (it != index_.end()) index_.erase(it);
}

}  // namespace bagpipe::bgp
