// Interned (hash-consed) path attribute sets.
//
// Routes that share attributes share one immutable AttrEntry: a VPN route
// reflector typically holds millions of routes and only thousands of
// distinct sets. AttrStore::Intern returns an AttrRef, a refcounted handle
// (boost::intrusive_ptr, non-atomic count); equal sets give the same entry,
// so equality of two AttrRefs is pointer equality.
//
// What an entry holds: the PathAttributes minus MP_REACH_NLRI and
// MP_UNREACH_NLRI (NLRI and labels stay per route), plus the MP_REACH next
// hop, which every route of the UPDATE shares and which is therefore part of
// the set's identity. It also keeps the best-path inputs precomputed
// (BestPathFacts) and, on first request, its canonical encoding for each
// 4-octet-AS mode.
//
// Invariants: an entry is in its store's index exactly while its refcount is
// positive; the last AttrRef to go erases it from the index and frees it (the
// index holds raw pointers and keeps nothing alive). An AttrStore may be
// destroyed before the AttrRefs it handed out: it detaches the survivors,
// which are then freed by their last reference.
//
// Executor: the event-loop thread only (no locks, non-atomic refcounts).
#pragma once

#include <boost/intrusive_ptr.hpp>
#include <boost/unordered/unordered_flat_set.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "bgp/wire/attributes.h"
#include "bgp/wire/bytes.h"
#include "bgp/wire/nlri.h"

namespace bagpipe::bgp {

class AttrStore;
class AttrEntry;

void intrusive_ptr_add_ref(const AttrEntry* e);
void intrusive_ptr_release(const AttrEntry* e);

using AttrRef = boost::intrusive_ptr<const AttrEntry>;

// The attribute values best-path selection reads, extracted once per set so
// that comparing two paths touches one cache line and no vectors.
struct BestPathFacts {
    uint32_t local_pref = 100;  // the attribute's value; see has_local_pref
    uint32_t med = 0;           // 0 when MULTI_EXIT_DISC is absent
    uint32_t neighbor_as = 0;   // first AS of the first non-confed segment, 0 if none
    uint32_t originator_id = 0; // host order; see has_originator_id
    uint32_t as_path_length = 0;       // AS_SET counts 1, confederation segments 0
    uint32_t cluster_list_length = 0;
    uint8_t origin = 0;
    bool has_local_pref = false;
    bool has_originator_id = false;

    bool operator==(const BestPathFacts&) const = default;
};

// Computes BestPathFacts from attributes.
BestPathFacts ComputeBestPathFacts(const PathAttributes& attrs);

class AttrEntry {
public:
    AttrEntry(const AttrEntry&) = delete;
    AttrEntry& operator=(const AttrEntry&) = delete;

    // The set, without MP_REACH/MP_UNREACH (their `present` bits are clear).
    const PathAttributes& attributes() const { return attrs_; }
    // The MP_REACH next hop the set was interned with (empty for IPv4
    // unicast, whose NEXT_HOP is an attribute).
    const NextHop& next_hop() const { return next_hop_; }
    const BestPathFacts& facts() const { return facts_; }
    uint64_t hash() const { return hash_; }
    uint32_t use_count() const { return refs_; }

    // The canonical encoding of attributes() (EncodePathAttributes with the
    // given 4-octet-AS mode, iBGP context), computed on first call and kept.
    const Bytes& Encoded(bool asn4) const;

private:
    friend class AttrStore;
    friend void intrusive_ptr_add_ref(const AttrEntry* e);
    friend void intrusive_ptr_release(const AttrEntry* e);

    AttrEntry(AttrStore* store, uint64_t hash, PathAttributes attrs, const NextHop& next_hop);
    ~AttrEntry() = default;

    mutable uint32_t refs_ = 0;
    AttrStore* store_;  // null once the store is gone
    uint64_t hash_;
    BestPathFacts facts_;
    NextHop next_hop_;
    PathAttributes attrs_;
    mutable std::unique_ptr<Bytes> encoded_[2];  // [asn4]
};

// Field-wise hash of the attribute set `attrs` (MP_REACH/MP_UNREACH ignored)
// with `next_hop`: only present attributes contribute. This is the hash the
// store uses.
uint64_t HashAttributes(const PathAttributes& attrs, const NextHop& next_hop);

// The alternative measured in bench/rib_bench.cc: hash of the canonical
// encoding (asn4 = true) written into `scratch`. `attrs` must not carry
// MP_REACH/MP_UNREACH.
uint64_t HashAttributesCanonical(const PathAttributes& attrs, const NextHop& next_hop,
                                 Bytes& scratch);

// Equality of two sets as the store sees it: same present attributes (MP_*
// excluded) with equal values, and equal next hops.
bool SameAttributes(const PathAttributes& a, const NextHop& a_nh, const PathAttributes& b,
                    const NextHop& b_nh);

class AttrStore {
public:
    AttrStore() = default;
    AttrStore(const AttrStore&) = delete;
    AttrStore& operator=(const AttrStore&) = delete;
    ~AttrStore();

    // Interns `attrs` with the next hop of its MP_REACH_NLRI when present
    // (an empty NextHop otherwise). Copies `attrs` (without MP_*) only when
    // the set is new.
    AttrRef Intern(const PathAttributes& attrs);
    // Interns `attrs` with an explicit next hop (locally originated routes).
    AttrRef Intern(const PathAttributes& attrs, const NextHop& next_hop);

    // Distinct sets alive.
    size_t size() const { return index_.size(); }
    // Intern calls that found an existing set / created one.
    uint64_t hits() const { return hits_; }
    uint64_t misses() const { return misses_; }

private:
    friend void intrusive_ptr_release(const AttrEntry* e);

    struct Probe {
        const PathAttributes* attrs;
        const NextHop* next_hop;
        uint64_t hash;
    };
    struct EntryHash {
        using is_transparent = void;
        using is_avalanching = void;
        size_t operator()(const AttrEntry* e) const { return e->hash_; }
        size_t operator()(const Probe& p) const { return p.hash; }
    };
    struct EntryEq {
        using is_transparent = void;
        bool operator()(const AttrEntry* a, const AttrEntry* b) const { return a == b; }
        bool operator()(const Probe& p, const AttrEntry* e) const {
            return p.hash == e->hash_ &&
                   SameAttributes(*p.attrs, *p.next_hop, e->attrs_, e->next_hop_);
        }
        bool operator()(const AttrEntry* e, const Probe& p) const { return (*this)(p, e); }
    };

    void Erase(const AttrEntry* e);

    boost::unordered_flat_set<AttrEntry*, EntryHash, EntryEq> index_;
    uint64_t hits_ = 0;
    uint64_t misses_ = 0;
};

}  // namespace bagpipe::bgp
