// Adj-RIB-In and Loc-RIB for every address family, with deterministic best
// path selection and a deduplicated change log for the export stage.
//
// Layout. One table per family. A table maps a route key without path id
// (route_key.h, RouteKeyWidth(family) octets) to the paths received for it
// from all peers: Path = {peer, path id, AttrRef, labels and other NLRI data}.
// The Adj-RIB-In of a peer is the subset of paths whose peer is that peer, so
// a route is stored once however many views it belongs to, and the Loc-RIB
// best path of a key is simply its first path.
//
// Memory. Entries (paths + key) live in a paged dense array (4,096 entries a
// page, no per-entry allocation); a boost::unordered_flat_set of 32-bit entry
// indices, hashed and compared through the dense array, finds them. A key
// with one path keeps it inline; two or more live in one heap array. For
// VPNv4 an entry is 32 octets (13 key + 16 path + 3 count/flags) and the
// index 6-12 octets per route (4-octet slots plus metadata, load factor
// 0.875-0.44), grown by rebuilding it from the dense array in order: 38-44
// octets a route plus the shared attribute sets. Each further
// path of a key costs 16 octets in the key's heap array. Keys left without
// paths keep their (empty) entry, reused if the key comes back, until a
// drain finds them a quarter or more of the array: then the array is
// compacted and the index rebuilt, sequentially.
//
// Best path (SelectBest in rib.cc): RFC 4271 §9.1.2.2 and RFC 4456 §9, as
// eliminations over the candidate set, so the outcome does not depend on
// arrival order even with MED's non-transitive comparison: highest
// LOCAL_PREF (100 when absent or learned over eBGP), locally originated,
// shortest AS_PATH, lowest ORIGIN, lowest MED among paths of the same
// neighbour AS (missing = 0), eBGP over iBGP, lowest BGP identifier
// (ORIGINATOR_ID, else the peer's router id), shortest CLUSTER_LIST, lowest
// peer address, then lowest path id and lowest PeerId.
//
// Change log. Every key whose best path changes (new, different path or
// different attributes/labels of the same path, or none) is logged once until
// DrainChanges; keys left without paths stay in their table, empty, until
// then, so a batch of any size logs each key at most once. Each entry also
// carries the best path (peer, attribute set) the key had at the previous
// drain, which is what the export stage derives withdrawals from.
//
// Scans. VisitRoutes walks a family's dense array from a cursor; while a
// scan is under way (PinLayout) drains never compact, so the cursor neither
// skips nor repeats keys (and entry indices, RouteChange::index, stay
// valid); the first drain after the last pin ends compacts if due.
//
// Executor: the event-loop thread only; no locks. No method may be called
// from inside a DrainChanges or ForEachRoute callback.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "bgp/rib/attr_store.h"
#include "bgp/rib/peer.h"
#include "bgp/rib/route_key.h"
#include "bgp/wire/family.h"
#include "bgp/wire/nlri.h"

namespace bagpipe::bgp {

namespace detail {
class PathSet;
class FamilyTableBase;
template <size_t W>
class FamilyTable;
struct RibState;
}  // namespace detail

// One path of a route: who sent it, with which attribute set and NLRI data.
// 16 octets: the attribute set (a counted reference), one inline label, the
// peer and flags. A path with a non-zero path id (ADD-PATH), more than one
// label, a non-zero EVPN ESI or a type-5 gateway moves its attribute
// reference, path id and NLRI data to a separate heap block.
class Path {
public:
    Path(PeerId peer, uint32_t path_id, AttrRef attrs, const NlriPayload& payload);
    Path(Path&& o) noexcept;
    Path& operator=(Path&& o) noexcept;
    Path(const Path&) = delete;
    Path& operator=(const Path&) = delete;
    ~Path();

    PeerId peer() const { return peer_; }
    uint32_t path_id() const;
    AttrRef attrs() const { return AttrRef(&attributes()); }
    const AttrEntry& attributes() const;
    bool stale() const { return flags_ & kStale; }
    LabelStack labels() const;
    NlriPayload payload() const;
    // Same attribute set and NLRI data.
    bool Same(const AttrRef& attrs, const NlriPayload& payload) const;

private:
    template <size_t W>
    friend class detail::FamilyTable;

    static constexpr uint8_t kStale = 1;
    static constexpr uint8_t kExtra = 2;
    struct Extra;

    void Set(const AttrRef& attrs, const NlriPayload& payload);
    void Release();
    void set_stale(bool s) { flags_ = s ? (flags_ | kStale) : (flags_ & ~kStale); }
    const Extra* extra() const { return reinterpret_cast<const Extra*>(ref_); }

    // flags_ & kExtra: an Extra*; else a const AttrEntry* whose reference
    // this path holds (intrusive_ptr_add_ref / _release).
    uintptr_t ref_ = 0;
    uint32_t label_ = 0;       // raw, when label_count_ == 1 and inline
    PeerId peer_;
    uint8_t flags_ = 0;
    uint8_t label_count_ = 0;  // inline labels (0 or 1)
};

// One entry of the change log.
struct RouteChange {
    Family family;
    RouteKey key;      // path id 0
    const Path* best;  // null: the route is gone; valid during the callback only
    // The best path as of the previous drain (what the export stage last
    // saw): its peer and attribute set, or null attrs when there was none.
    PeerId old_peer = 0;
    const AttrEntry* old_attrs = nullptr;
    // The key's entry in its family's dense array: stable while the family
    // is pinned (PinLayout), for EntryAt.
    uint32_t index = 0;
};

class Rib {
public:
    Rib();
    Rib(const Rib&) = delete;
    Rib& operator=(const Rib&) = delete;
    ~Rib();

    // Facts about a peer. Set them before the peer's first route; changing
    // them later reruns best-path selection for the keys the peer has paths
    // for. kLocalPeer starts as {local = true}.
    void SetPeer(PeerId id, const PeerInfo& info);
    const PeerInfo& peer(PeerId id) const;

    // Announces every NLRI of `nlri` (which must hold `family`'s NLRI type)
    // from `peer` with `attrs`, each replacing the peer's path with the same
    // key and path id. Returns the number of NLRI ignored (not of `family`,
    // or a key that does not fit, see route_key.h).
    size_t Update(PeerId peer, Family family, const NlriList& nlri, const AttrRef& attrs);
    // Withdraws the peer's paths for these NLRI (labels and payload ignored)
    // or keys (their path ids select the paths). Returns how many paths were
    // removed; unknown routes are ignored.
    size_t Withdraw(PeerId peer, Family family, const NlriList& nlri);
    size_t Withdraw(PeerId peer, Family family, std::span<const RouteKey> keys);
    // Withdraws every path of `peer` (in one family). Returns paths removed.
    size_t DropPeer(PeerId peer);
    size_t DropPeer(PeerId peer, Family family);
    // The same in slices: removes at most max_paths of the peer's paths,
    // visiting entries from `cursor` (start at 0), which it advances; done
    // when PathCount(peer, family) is 0. The caller pins the family's layout
    // (PinLayout) for as long as it keeps the cursor, so that one large drop
    // logs (and the export stage withdraws) a slice per drain instead of the
    // whole table at once.
    size_t DropPeerSlice(PeerId peer, Family family, uint32_t& cursor, size_t max_paths);
    // Graceful restart (RFC 4724): marks the peer's paths of `family` stale;
    // an Update for a stale path refreshes it; SweepStale removes those still
    // stale. Stale paths keep competing for best path. Both return counts.
    size_t MarkStale(PeerId peer, Family family);
    size_t SweepStale(PeerId peer, Family family);

    // Pre-sizes a family's index for `routes` keys.
    void Reserve(Family family, size_t routes);

    // The best path of `key` (its path id is ignored), or null.
    const Path* Best(const RouteKey& key) const;
    // Every path of `key`, the best first; empty when none.
    std::span<const Path> Paths(const RouteKey& key) const;
    // Keys of `family` with at least one path.
    size_t RouteCount(Family family) const;
    // Entries of `family` left without paths and not erased yet (they wait
    // for a compaction, which pins postpone).
    size_t EmptyEntries(Family family) const;
    // Paths of `peer` in `family` (its Adj-RIB-In size).
    size_t PathCount(PeerId peer, Family family) const;
    // Calls fn(key, paths) for every key of `family` that has paths, in no
    // particular order.
    void ForEachRoute(Family family,
                      const std::function<void(const RouteKey&, std::span<const Path>)>& fn) const;

    // Resumable scan (e.g. a full-table export paced by back-pressure): calls
    // fn for at most max_routes keys of `family` with paths, from `cursor`
    // (start at 0), and advances it; true once the table is done. Entries
    // added meanwhile are visited if they land after the cursor. While the
    // family is pinned (PinLayout on), drains keep entries in place, so a
    // scan never skips or repeats a key that stays in the table.
    bool VisitRoutes(Family family, uint32_t& cursor, size_t max_routes,
                     const std::function<void(const RouteKey&, std::span<const Path>)>& fn) const;
    // The key and paths (best first; empty for a key withdrawn since) of
    // entry `index` of `family` (RouteChange::index); false when there is
    // no such entry. Meaningful across drains only while the family is
    // pinned: then an entry keeps its index and is not erased.
    bool EntryAt(Family family, uint32_t index, RouteKey& key, std::span<const Path>& paths) const;
    // Pin / unpin `family`'s layout; pins nest (one per scan under way, or
    // per peer holding entry indices).
    void PinLayout(Family family, bool on);

    // Keys logged since the last drain.
    size_t PendingChanges() const;
    // Calls fn once per logged key, family by family, then clears the log and
    // compacts the table when its keys left without paths are a quarter of it.
    void DrainChanges(const std::function<void(const RouteChange&)>& fn);

private:
    detail::FamilyTableBase* Table(Family family) const;
    detail::FamilyTableBase& MakeTable(Family family);

    std::unique_ptr<detail::RibState> state_;
    std::array<std::unique_ptr<detail::FamilyTableBase>, kFamilyCount> tables_;
};

}  // namespace bagpipe::bgp
