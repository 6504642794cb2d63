#include "bgp/rib/rib.h"

#include <algorithm>
#include <bit>
#include <boost/unordered/unordered_flat_set.hpp>
#include <cstring>
#include <memory>
#include <new>
#include <utility>
#include <variant>

#include "bgp/rib/hash.h"

namespace bagpipe::bgp {

// ---------------------------------------------------------------------------
// Path.

namespace {

bool AllZero(const IpAddress& a) {
    for (size_t i = 0; i < a.size(); ++i)
        if (a.bytes[i] != 0) return false;
    return true;
}

// Payload with a zero gateway written as empty (ToNlri restores the version).
NlriPayload Normalized(const NlriPayload& p) {
    NlriPayload n = p;
    if (AllZero(n.gateway_ip)) n.gateway_ip = IpAddress{};
    return n;
}

bool FitsInline(uint32_t path_id, const NlriPayload& p) {
    return path_id == 0 && p.labels.count <= 1 && p.esi.is_zero() && AllZero(p.gateway_ip);
}

}  // namespace

struct Path::Extra {
    AttrRef attrs;
    NlriPayload payload;  // Normalized
    uint32_t path_id = 0;
};

Path::Path(PeerId peer, uint32_t path_id, AttrRef attrs, const NlriPayload& payload) : peer_(peer) {
    if (FitsInline(path_id, payload)) {
        ref_ = reinterpret_cast<uintptr_t>(attrs.detach());  // the reference moves in
        label_count_ = payload.labels.count;
        label_ = label_count_ ? payload.labels.raw[0] : 0;
        return;
    }
    ref_ = reinterpret_cast<uintptr_t>(new Extra{std::move(attrs), Normalized(payload), path_id});
    flags_ = kExtra;
}

Path::Path(Path&& o) noexcept
    : ref_(o.ref_), label_(o.label_), peer_(o.peer_), flags_(o.flags_), label_count_(o.label_count_) {
    o.ref_ = 0;
    o.flags_ = 0;
    o.label_count_ = 0;
}

Path& Path::operator=(Path&& o) noexcept {
    if (this == &o) return *this;
    Release();
    ref_ = o.ref_;
    label_ = o.label_;
    peer_ = o.peer_;
    flags_ = o.flags_;
    label_count_ = o.label_count_;
    o.ref_ = 0;
    o.flags_ = 0;
    o.label_count_ = 0;
    return *this;
}

Path::~Path() { Release(); }

void Path::Release() {
    if (flags_ & kExtra)
        delete extra();
    else if (ref_)
        intrusive_ptr_release(reinterpret_cast<const AttrEntry*>(ref_));
    ref_ = 0;
    flags_ &= ~kExtra;
}

uint32_t Path::path_id() const { return (flags_ & kExtra) ? extra()->path_id : 0; }

const AttrEntry& Path::attributes() const {
    return (flags_ & kExtra) ? *extra()->attrs : *reinterpret_cast<const AttrEntry*>(ref_);
}

void Path::Set(const AttrRef& attrs, const NlriPayload& payload) {
    const bool was_stale = stale();
    *this = Path(peer_, path_id(), attrs, payload);
    set_stale(was_stale);
}

LabelStack Path::labels() const {
    if (flags_ & kExtra) return extra()->payload.labels;
    LabelStack s;
    s.count = label_count_;
    s.raw[0] = label_;
    return s;
}

NlriPayload Path::payload() const {
    if (flags_ & kExtra) return extra()->payload;
    NlriPayload p;
    p.labels = labels();
    return p;
}

bool Path::Same(const AttrRef& attrs, const NlriPayload& payload) const {
    if (attrs.get() != &attributes()) return false;
    if (flags_ & kExtra) return !FitsInline(path_id(), payload) && extra()->payload == Normalized(payload);
    if (!FitsInline(0, payload) || payload.labels.count != label_count_) return false;
    return label_count_ == 0 || payload.labels.raw[0] == label_;
}

static_assert(sizeof(Path) == 16, "Path layout");

namespace detail {

// ---------------------------------------------------------------------------
// Shared state of the tables.

struct RibState {
    std::vector<PeerInfo> peers;  // by PeerId
    std::vector<std::array<uint32_t, kFamilyCount>> peer_paths;
    PeerInfo unknown_peer;

    const PeerInfo& Peer(PeerId id) const { return id < peers.size() ? peers[id] : unknown_peer; }
    uint32_t& PeerPaths(PeerId id, Family f) {
        if (id >= peer_paths.size()) peer_paths.resize(size_t{id} + 1, {});
        return peer_paths[id][FamilyIndex(f)];
    }
    uint32_t PeerPathsOr0(PeerId id, Family f) const {
        return id < peer_paths.size() ? peer_paths[id][FamilyIndex(f)] : 0;
    }
};

// ---------------------------------------------------------------------------
// Best path.

namespace {

struct Candidate {
    uint32_t index;
    const Path* path;
    const PeerInfo* peer;
    const BestPathFacts* facts;
};

uint32_t EffectiveLocalPref(const Candidate& c) {
    // RFC 4271 §5.1.5: LOCAL_PREF from an eBGP peer is ignored.
    bool honoured = c.peer->ibgp || c.peer->local;
    return c.facts->has_local_pref && honoured ? c.facts->local_pref : 100;
}
bool IsEbgp(const Candidate& c) { return !c.peer->ibgp && !c.peer->local; }
uint32_t BgpIdentifier(const Candidate& c) {
    return c.facts->has_originator_id ? c.facts->originator_id : c.peer->router_id;
}

}  // namespace

// Index of the best of paths[0, n): eliminations in RFC order, each over the
// whole remaining set, then total-order tie breaks.
size_t SelectBest(const Path* paths, size_t n, const RibState& state) {
    if (n <= 1) return 0;
    std::array<Candidate, 16> small;
    std::vector<Candidate> large;
    Candidate* c = small.data();
    if (n > small.size()) {
        large.resize(n);
        c = large.data();
    }
    for (size_t i = 0; i < n; ++i)
        c[i] = {static_cast<uint32_t>(i), &paths[i], &state.Peer(paths[i].peer()),
                &paths[i].attributes().facts()};
    size_t m = n;
    auto keep = [&](auto&& pred) {
        size_t k = 0;
        for (size_t j = 0; j < m; ++j)
            if (pred(c[j])) c[k++] = c[j];
        m = k;
    };
    auto keep_min = [&](auto&& value) {
        auto best = value(c[0]);
        for (size_t j = 1; j < m; ++j) best = std::min(best, value(c[j]));
        keep([&](const Candidate& x) { return value(x) == best; });
        return m == 1;
    };

    // a) Highest degree of preference (LOCAL_PREF).
    if (keep_min([](const Candidate& x) { return ~EffectiveLocalPref(x); })) return c[0].index;
    // Locally originated routes first.
    if (keep_min([](const Candidate& x) { return x.peer->local ? 0 : 1; })) return c[0].index;
    // a) Shortest AS_PATH.
    if (keep_min([](const Candidate& x) { return x.facts->as_path_length; })) return c[0].index;
    // b) Lowest ORIGIN.
    if (keep_min([](const Candidate& x) { return x.facts->origin; })) return c[0].index;
    // c) MED: drop a path when another of the same neighbour AS has a lower MED.
    {
        std::array<bool, 16> small_drop{};
        std::vector<bool> large_drop;
        if (m > small_drop.size()) large_drop.assign(m, false);
        auto drop = [&](size_t j, bool v) {
            if (m > small_drop.size())
                large_drop[j] = v;
            else
                small_drop[j] = v;
        };
        auto dropped = [&](size_t j) {
            return m > small_drop.size() ? bool(large_drop[j]) : small_drop[j];
        };
        for (size_t j = 0; j < m; ++j) {
            bool d = false;
            for (size_t k = 0; k < m && !d; ++k)
                d = c[k].facts->neighbor_as == c[j].facts->neighbor_as &&
                    c[k].facts->med < c[j].facts->med;
            drop(j, d);
        }
        size_t k = 0;
        for (size_t j = 0; j < m; ++j)
            if (!dropped(j)) c[k++] = c[j];
        m = k;
        if (m == 1) return c[0].index;
    }
    // d) eBGP over iBGP.
    if (keep_min([](const Candidate& x) { return IsEbgp(x) ? 0 : 1; })) return c[0].index;
    // f) Lowest BGP identifier (RFC 4456 §9: ORIGINATOR_ID when present).
    if (keep_min(BgpIdentifier)) return c[0].index;
    // RFC 4456 §9: shortest CLUSTER_LIST.
    if (keep_min([](const Candidate& x) { return x.facts->cluster_list_length; }))
        return c[0].index;
    // g) Lowest peer address.
    if (keep_min([](const Candidate& x) { return x.peer->address; })) return c[0].index;
    // Same peer (ADD-PATH) or same address: lowest path id, then PeerId.
    if (keep_min([](const Candidate& x) { return x.path->path_id(); })) return c[0].index;
    keep_min([](const Candidate& x) { return x.path->peer(); });
    return c[0].index;
}

// ---------------------------------------------------------------------------
// PathSet: the paths of one key, inline when there is one.

class PathSet {
public:
    static constexpr uint8_t kChanged = 1;  // in the change log

    PathSet() noexcept {}
    PathSet(PathSet&& o) noexcept { StealFrom(o); }
    PathSet& operator=(PathSet&& o) noexcept {
        if (this != &o) {
            Clear();
            StealFrom(o);
        }
        return *this;
    }
    ~PathSet() { Clear(); }

    size_t size() const { return count_; }
    bool empty() const { return count_ == 0; }
    Path* data() { return count_ == 1 ? Inline() : many_; }
    const Path* data() const { return count_ == 1 ? Inline() : many_; }
    Path& operator[](size_t i) { return data()[i]; }
    const Path& operator[](size_t i) const { return data()[i]; }
    std::span<const Path> span() const { return {count_ == 0 ? nullptr : data(), count_}; }
    bool full() const { return count_ == UINT16_MAX; }

    bool flag(uint8_t f) const { return flags_ & f; }
    void set_flag(uint8_t f, bool v) { flags_ = v ? (flags_ | f) : (flags_ & ~f); }

    void Add(Path&& p) {
        if (count_ == 0) {
            new (one_) Path(std::move(p));
        } else if (count_ == 1) {
            Path* array = Allocate(2);
            new (&array[0]) Path(std::move(*Inline()));
            Inline()->~Path();
            new (&array[1]) Path(std::move(p));
            many_ = array;
        } else {
            if (count_ == Capacity(count_)) Reallocate(Capacity(count_), Capacity(count_ + 1u));
            new (&many_[count_]) Path(std::move(p));
        }
        ++count_;
    }

    // Removes path i; the last path takes its place.
    void EraseAt(size_t i) {
        if (count_ == 1) {
            Inline()->~Path();
            count_ = 0;
            return;
        }
        const size_t last = count_ - 1u;
        if (i != last) many_[i] = std::move(many_[last]);
        many_[last].~Path();
        --count_;
        if (count_ == 1) {
            Path* array = many_;
            new (one_) Path(std::move(array[0]));
            array[0].~Path();
            Deallocate(array, 2);
        } else if (Capacity(count_) < Capacity(count_ + 1u)) {
            Reallocate(Capacity(count_ + 1u), Capacity(count_));
        }
    }

    void SwapToFront(size_t i) {
        if (i != 0) std::swap(many_[0], many_[i]);
    }

private:
    // Heap capacity for n >= 2 paths.
    static size_t Capacity(size_t n) { return n <= 2 ? 2 : std::bit_ceil(n); }
    static Path* Allocate(size_t n) { return std::allocator<Path>().allocate(n); }
    static void Deallocate(Path* p, size_t n) { std::allocator<Path>().deallocate(p, n); }

    Path* Inline() { return std::launder(reinterpret_cast<Path*>(one_)); }
    const Path* Inline() const { return std::launder(reinterpret_cast<const Path*>(one_)); }

    // Moves the heap paths from an array of old_capacity to one of capacity.
    void Reallocate(size_t old_capacity, size_t capacity) {
        Path* array = Allocate(capacity);
        for (size_t i = 0; i < count_; ++i) {
            new (&array[i]) Path(std::move(many_[i]));
            many_[i].~Path();
        }
        Deallocate(many_, old_capacity);
        many_ = array;
    }

    void StealFrom(PathSet& o) {
        count_ = o.count_;
        flags_ = o.flags_;
        if (count_ == 1) {
            new (one_) Path(std::move(*o.Inline()));
            o.Inline()->~Path();
        } else if (count_ > 1) {
            many_ = o.many_;
        }
        o.count_ = 0;
        o.flags_ = 0;
    }

    void Clear() {
        if (count_ == 1) {
            Inline()->~Path();
        } else if (count_ > 1) {
            for (size_t i = 0; i < count_; ++i) many_[i].~Path();
            Deallocate(many_, Capacity(count_));
        }
        count_ = 0;
    }

    union {
        Path* many_;
        alignas(Path) unsigned char one_[sizeof(Path)];
    };
    uint16_t count_ = 0;
    uint8_t flags_ = 0;
};

// PathSet leaves 5 octets of tail padding that the derived entry's key
// reuses (Itanium C++ ABI: PathSet is not a POD).
template <size_t W>
struct Entry : PathSet {
    std::array<uint8_t, W> key;
};
static_assert(sizeof(Entry<13>) == 32, "VPNv4 entry layout");
static_assert(sizeof(Entry<5>) == 24, "IPv4 entry layout");
static_assert(sizeof(Entry<37>) == 56, "EVPN entry layout");

// ---------------------------------------------------------------------------
// Family tables.

using ChangeFn = std::function<void(const RouteChange&)>;
using RouteFn = std::function<void(const RouteKey&, std::span<const Path>)>;

class FamilyTableBase {
public:
    virtual ~FamilyTableBase() = default;
    virtual size_t Update(PeerId peer, const NlriList& nlri, const AttrRef& attrs) = 0;
    virtual size_t Withdraw(PeerId peer, const NlriList& nlri) = 0;
    virtual size_t Withdraw(PeerId peer, std::span<const RouteKey> keys) = 0;
    // Removes the peer's paths (only the stale ones if stale_only).
    // From *cursor (0 when null) on, at most max_paths; *cursor advances.
    virtual size_t RemovePeer(PeerId peer, bool stale_only, uint32_t* cursor = nullptr,
                              size_t max_paths = SIZE_MAX) = 0;
    virtual size_t MarkStale(PeerId peer) = 0;
    virtual void ReselectPeer(PeerId peer) = 0;
    virtual void Reserve(size_t n) = 0;
    virtual std::span<const Path> Paths(const RouteKey& key) const = 0;
    virtual size_t live() const = 0;
    virtual size_t entries() const = 0;
    virtual size_t pending() const = 0;
    virtual void ForEach(const RouteFn& fn) const = 0;
    virtual bool Visit(uint32_t& cursor, size_t max_routes, const RouteFn& fn) const = 0;
    virtual void Pin(bool on) = 0;
    virtual bool EntryAt(uint32_t idx, RouteKey& key, std::span<const Path>& paths) const = 0;
    virtual void Drain(const ChangeFn& fn) = 0;
};

// The table of one family whose keys are W octets wide.
template <size_t W>
class FamilyTable final : public FamilyTableBase {
public:
    FamilyTable(Family family, RibState* state)
        : family_(family), state_(state), index_(0, IndexHash{this}, IndexEq{this}) {}

    size_t Update(PeerId peer, const NlriList& nlri, const AttrRef& attrs) override {
        size_t ignored = 0;
        std::visit(
            [&](const auto& list) {
                for (const auto& n : list) {
                    Key key{};
                    if (!EncodeRouteKey(family_, n, key.data())) {
                        ++ignored;
                        continue;
                    }
                    if (!Upsert(FindOrInsert(key), peer, n.path_id, attrs, PayloadOf(n)))
                        ++ignored;
                }
            },
            nlri);
        return ignored;
    }

    size_t Withdraw(PeerId peer, const NlriList& nlri) override {
        size_t removed = 0;
        std::visit(
            [&](const auto& list) {
                for (const auto& n : list) {
                    Key key{};
                    if (!EncodeRouteKey(family_, n, key.data())) continue;
                    removed += Remove(key, peer, n.path_id);
                }
            },
            nlri);
        return removed;
    }

    size_t Withdraw(PeerId peer, std::span<const RouteKey> keys) override {
        size_t removed = 0;
        for (const RouteKey& k : keys) {
            if (k.family() != family_) continue;
            Key key;
            std::memcpy(key.data(), k.data(), W);
            removed += Remove(key, peer, k.path_id());
        }
        return removed;
    }

    size_t RemovePeer(PeerId peer, bool stale_only, uint32_t* cursor, size_t max_paths) override {
        uint32_t& count = state_->PeerPaths(peer, family_);
        size_t removed = 0;
        uint32_t idx = cursor ? *cursor : 0;
        for (; idx < size_ && count > 0 && removed < max_paths; ++idx) {
            EntryT& e = At(idx);
            bool best_removed = false;
            Snapshot pre;
            for (size_t i = e.size(); i-- > 0;) {
                const Path& p = e[i];
                if (p.peer() != peer || (stale_only && !p.stale())) continue;
                if (!pre.taken) pre = Snap(e);
                e.EraseAt(i);
                --count;
                ++removed;
                best_removed |= i == 0;
            }
            if (best_removed) {
                if (e.empty())
                    --live_;
                else
                    Reselect(e);
                MarkChanged(idx, e, std::move(pre));
            }
        }
        if (cursor) *cursor = idx;
        return removed;
    }

    size_t MarkStale(PeerId peer) override {
        const uint32_t total = state_->PeerPathsOr0(peer, family_);
        size_t marked = 0;
        for (uint32_t idx = 0; idx < size_ && marked < total; ++idx) {
            EntryT& e = At(idx);
            for (size_t i = 0; i < e.size(); ++i) {
                if (e[i].peer() != peer) continue;
                e[i].set_stale(true);
                ++marked;
            }
        }
        return marked;
    }

    void ReselectPeer(PeerId peer) override {
        for (uint32_t idx = 0; idx < size_; ++idx) {
            EntryT& e = At(idx);
            if (e.size() < 2) continue;
            bool has = false;
            for (size_t i = 0; i < e.size() && !has; ++i) has = e[i].peer() == peer;
            if (!has) continue;
            Snapshot pre = Snap(e);
            if (Reselect(e)) MarkChanged(idx, e, std::move(pre));
        }
    }

    void Reserve(size_t n) override { index_.reserve(n); }

    std::span<const Path> Paths(const RouteKey& k) const override {
        if (k.family() != family_) return {};
        Key key;
        std::memcpy(key.data(), k.data(), W);
        uint32_t idx = Find(key);
        if (idx == kNone) return {};
        return At(idx).span();
    }

    size_t live() const override { return live_; }
    size_t entries() const override { return size_; }
    size_t pending() const override { return changed_.size(); }

    void ForEach(const RouteFn& fn) const override {
        for (uint32_t idx = 0; idx < size_; ++idx) {
            const EntryT& e = At(idx);
            if (!e.empty()) fn(RouteKey(family_, e.key.data()), e.span());
        }
    }

    bool Visit(uint32_t& cursor, size_t max_routes, const RouteFn& fn) const override {
        size_t visited = 0;
        while (cursor < size_ && visited < max_routes) {
            const EntryT& e = At(cursor++);
            if (e.empty()) continue;
            fn(RouteKey(family_, e.key.data()), e.span());
            ++visited;
        }
        return cursor >= size_;
    }

    bool EntryAt(uint32_t idx, RouteKey& key, std::span<const Path>& paths) const override {
        if (idx >= size_) return false;
        const EntryT& e = At(idx);
        key = RouteKey(family_, e.key.data());
        paths = e.span();
        return true;
    }

    void Pin(bool on) override {
        if (on)
            ++pins_;
        else if (pins_ > 0)
            --pins_;
    }

    void Drain(const ChangeFn& fn) override {
        for (LogEntry& l : changed_) {
            EntryT& e = At(l.idx);
            e.set_flag(PathSet::kChanged, false);
            fn(RouteChange{family_, RouteKey(family_, e.key.data()),
                           e.empty() ? nullptr : &e[0], l.old_peer, l.old_attrs.get(), l.idx});
        }
        // A big batch leaves a big log: give its memory back.
        if (changed_.capacity() > kKeptLogCapacity)
            std::vector<LogEntry>().swap(changed_);
        else
            changed_.clear();
        // Entries left without paths stay in place (a key announced again
        // reuses its entry) until they are a quarter of the array, and then
        // go all at once (Compact: sequential, where erasing them one by one
        // cost three random index probes each). While a scan or a backlog
        // holds indices (pins), nothing moves.
        if (pins_ == 0 && size_ > live_ && (size_ - live_) * 4 >= size_) Compact();
    }

private:
    using Key = std::array<uint8_t, W>;
    using EntryT = Entry<W>;
    static constexpr uint32_t kNone = UINT32_MAX;
    static constexpr uint32_t kPageBits = 12;
    static constexpr uint32_t kPageSize = 1u << kPageBits;
    static constexpr size_t kKeptLogCapacity = 1u << 16;

    struct Probe {
        const uint8_t* key;
        uint64_t hash;
    };
    static uint64_t HashKey(const uint8_t* key) { return rib_hash::Bytes(key, W); }

    struct IndexHash {
        using is_transparent = void;
        using is_avalanching = void;
        const FamilyTable* table;
        size_t operator()(uint32_t idx) const { return HashKey(table->At(idx).key.data()); }
        size_t operator()(const Probe& p) const { return p.hash; }
    };
    struct IndexEq {
        using is_transparent = void;
        const FamilyTable* table;
        // Two entries are equal when their keys are (FindOrInsert inserts a
        // tentative entry to find an existing one with the same key).
        bool operator()(uint32_t a, uint32_t b) const {
            return a == b ||
                   std::memcmp(table->At(a).key.data(), table->At(b).key.data(), W) == 0;
        }
        bool operator()(const Probe& p, uint32_t idx) const {
            return std::memcmp(p.key, table->At(idx).key.data(), W) == 0;
        }
        bool operator()(uint32_t idx, const Probe& p) const { return (*this)(p, idx); }
    };

    using Index = boost::unordered_flat_set<uint32_t, IndexHash, IndexEq>;

    EntryT& At(uint32_t idx) { return pages_[idx >> kPageBits][idx & (kPageSize - 1)]; }
    const EntryT& At(uint32_t idx) const {
        return pages_[idx >> kPageBits][idx & (kPageSize - 1)];
    }

    uint32_t Find(const Key& key) const {
        auto it = index_.find(Probe{key.data(), HashKey(key.data())});
        return it == index_.end() ? kNone : *it;
    }

    // One probe of the index: the key goes into a tentative entry at the end
    // of the dense array, and inserting its index either keeps it (a new
    // key) or finds the existing entry (the tentative one is dropped).
    uint32_t FindOrInsert(const Key& key) {
        if (pages_.empty() || pages_.back().size() == kPageSize) {
            pages_.emplace_back();
            if (pages_.size() > 1) pages_.back().reserve(kPageSize);
        }
        pages_.back().emplace_back();
        const uint32_t idx = static_cast<uint32_t>(size_++);
        At(idx).key = key;
        if (index_.size() >= index_.max_load()) Regrow(idx);
        auto [it, inserted] = index_.insert(idx);
        if (inserted) return idx;
        pages_.back().pop_back();
        if (pages_.back().empty() && pages_.size() > 1) pages_.pop_back();
        --size_;
        return *it;
    }

    // Doubles the index by rebuilding it from the dense array in index
    // order, before the insert that would make the table rehash itself: a
    // rehash in place re-reads every key in slot (random) order, a cache
    // miss per entry once the table outgrows the caches; this reads them
    // sequentially. Every entry of the dense array is in the index (empty
    // ones too, until a drain erases them), so entries [0, end) are exactly
    // the index's elements.
    void Regrow(uint32_t end) { RebuildIndex(end, std::max<size_t>(2 * index_.size() + 2, 64)); }

    // Drops every empty entry (none may be in the change log), keeping the
    // others in order, and rebuilds the index at the new size: O(entries)
    // with sequential access, where erasing one by one costs two random
    // index probes per entry.
    void Compact() {
        uint32_t kept = 0;
        for (uint32_t idx = 0; idx < size_; ++idx) {
            if (At(idx).empty()) continue;
            if (kept != idx) At(kept) = std::move(At(idx));
            ++kept;
        }
        while (size_ > kept) {
            pages_.back().pop_back();
            if (pages_.back().empty()) pages_.pop_back();
            --size_;
        }
        RebuildIndex(kept, kept);
    }

    // A fresh index of entries [0, end) sized for `capacity`, the old one
    // freed first (it is not needed: the dense array holds the keys), so
    // that the peak is one index, not two.
    void RebuildIndex(uint32_t end, size_t capacity) {
        index_ = Index(0, IndexHash{this}, IndexEq{this});
        index_.reserve(capacity);
        for (uint32_t idx = 0; idx < end; ++idx) index_.insert(idx);
    }

    // The best path of an entry before a change, for the change log: taken
    // only when the entry is not logged yet (a logged entry keeps the best
    // path it had at the previous drain).
    struct Snapshot {
        bool taken = false;
        PeerId peer = 0;
        AttrRef attrs;
    };
    Snapshot Snap(const EntryT& e) const {
        Snapshot s;
        s.taken = true;
        if (e.flag(PathSet::kChanged) || e.empty()) return s;
        s.peer = e[0].peer();
        s.attrs = e[0].attrs();
        return s;
    }

    void MarkChanged(uint32_t idx, EntryT& e, Snapshot pre) {
        if (e.flag(PathSet::kChanged)) return;
        e.set_flag(PathSet::kChanged, true);
        changed_.push_back(LogEntry{idx, pre.peer, std::move(pre.attrs)});
    }

    // Puts the best path first; true when that moved another path there.
    bool Reselect(EntryT& e) {
        size_t best = SelectBest(e.data(), e.size(), *state_);
        e.SwapToFront(best);
        return best != 0;
    }

    // False when the key already holds the maximum number of paths.
    bool Upsert(uint32_t idx, PeerId peer, uint32_t path_id, const AttrRef& attrs,
                const NlriPayload& payload) {
        EntryT& e = At(idx);
        const size_t n = e.size();
        for (size_t i = 0; i < n; ++i) {
            Path& p = e[i];
            if (p.peer() != peer || p.path_id() != path_id) continue;
            p.set_stale(false);
            if (p.Same(attrs, payload)) return true;
            Snapshot pre = Snap(e);
            p.Set(attrs, payload);
            if (i == 0) {
                if (n > 1) Reselect(e);
                MarkChanged(idx, e, std::move(pre));
            } else if (Reselect(e)) {
                MarkChanged(idx, e, std::move(pre));
            }
            return true;
        }
        if (e.full()) return false;
        Snapshot pre = Snap(e);
        e.Add(Path(peer, path_id, attrs, payload));
        ++state_->PeerPaths(peer, family_);
        if (n == 0) {
            ++live_;
            MarkChanged(idx, e, std::move(pre));
        } else if (Reselect(e)) {
            MarkChanged(idx, e, std::move(pre));
        }
        return true;
    }

    size_t Remove(const Key& key, PeerId peer, uint32_t path_id) {
        const uint32_t idx = Find(key);
        if (idx == kNone) return 0;
        EntryT& e = At(idx);
        for (size_t i = 0; i < e.size(); ++i) {
            const Path& p = e[i];
            if (p.peer() != peer || p.path_id() != path_id) continue;
            Snapshot pre = i == 0 ? Snap(e) : Snapshot{};
            e.EraseAt(i);
            --state_->PeerPaths(peer, family_);
            if (i == 0) {
                if (e.empty())
                    --live_;
                else
                    Reselect(e);
                MarkChanged(idx, e, std::move(pre));
            }
            return 1;
        }
        return 0;
    }

    Family family_;
    RibState* state_;
    std::vector<std::vector<EntryT>> pages_;
    size_t size_ = 0;  // entries, including empty ones awaiting the drain
    size_t live_ = 0;  // entries with paths
    Index index_;
    struct LogEntry {
        uint32_t idx;
        PeerId old_peer;
        AttrRef old_attrs;  // null: no best path at the previous drain
    };
    std::vector<LogEntry> changed_;
    uint32_t pins_ = 0;               // scans under way (Rib::PinLayout)
};

}  // namespace detail

// ---------------------------------------------------------------------------
// Rib.

Rib::Rib() : state_(std::make_unique<detail::RibState>()) {
    PeerInfo local;
    local.local = true;
    state_->peers.push_back(local);
}

Rib::~Rib() = default;

void Rib::SetPeer(PeerId id, const PeerInfo& info) {
    if (id >= state_->peers.size()) state_->peers.resize(size_t{id} + 1);
    const bool changed = !(state_->peers[id] == info);
    state_->peers[id] = info;
    if (!changed) return;
    for (size_t f = 0; f < kFamilyCount; ++f) {
        if (tables_[f] && state_->PeerPathsOr0(id, static_cast<Family>(f)) > 0)
            tables_[f]->ReselectPeer(id);
    }
}

const PeerInfo& Rib::peer(PeerId id) const { return state_->Peer(id); }

detail::FamilyTableBase* Rib::Table(Family family) const {
    size_t f = FamilyIndex(family);
    return f < kFamilyCount ? tables_[f].get() : nullptr;
}

detail::FamilyTableBase& Rib::MakeTable(Family family) {
    auto& slot = tables_[FamilyIndex(family)];
    if (!slot) {
        detail::RibState* s = state_.get();
        switch (RouteKeyWidth(family)) {
            case 5: slot = std::make_unique<detail::FamilyTable<5>>(family, s); break;
            case 13: slot = std::make_unique<detail::FamilyTable<13>>(family, s); break;
            case 17: slot = std::make_unique<detail::FamilyTable<17>>(family, s); break;
            case 25: slot = std::make_unique<detail::FamilyTable<25>>(family, s); break;
            default: slot = std::make_unique<detail::FamilyTable<37>>(family, s); break;
        }
    }
    return *slot;
}

size_t Rib::Update(PeerId peer, Family family, const NlriList& nlri, const AttrRef& attrs) {
    if (RouteKeyWidth(family) == 0 || !attrs) return NlriCount(nlri);
    return MakeTable(family).Update(peer, nlri, attrs);
}

size_t Rib::Withdraw(PeerId peer, Family family, const NlriList& nlri) {
    auto* t = Table(family);
    return t ? t->Withdraw(peer, nlri) : 0;
}

size_t Rib::Withdraw(PeerId peer, Family family, std::span<const RouteKey> keys) {
    auto* t = Table(family);
    return t ? t->Withdraw(peer, keys) : 0;
}

size_t Rib::DropPeer(PeerId peer) {
    size_t removed = 0;
    for (size_t f = 0; f < kFamilyCount; ++f) removed += DropPeer(peer, static_cast<Family>(f));
    return removed;
}

size_t Rib::DropPeer(PeerId peer, Family family) {
    auto* t = Table(family);
    if (!t || state_->PeerPathsOr0(peer, family) == 0) return 0;
    return t->RemovePeer(peer, false);
}

size_t Rib::DropPeerSlice(PeerId peer, Family family, uint32_t& cursor, size_t max_paths) {
    auto* t = Table(family);
    if (!t || state_->PeerPathsOr0(peer, family) == 0) return 0;
    return t->RemovePeer(peer, false, &cursor, max_paths);
}

size_t Rib::MarkStale(PeerId peer, Family family) {
    auto* t = Table(family);
    if (!t || state_->PeerPathsOr0(peer, family) == 0) return 0;
    return t->MarkStale(peer);
}

size_t Rib::SweepStale(PeerId peer, Family family) {
    auto* t = Table(family);
    if (!t || state_->PeerPathsOr0(peer, family) == 0) return 0;
    return t->RemovePeer(peer, true);
}

void Rib::Reserve(Family family, size_t routes) {
    if (RouteKeyWidth(family) != 0) MakeTable(family).Reserve(routes);
}

const Path* Rib::Best(const RouteKey& key) const {
    auto paths = Paths(key);
    return paths.empty() ? nullptr : &paths[0];
}

std::span<const Path> Rib::Paths(const RouteKey& key) const {
    auto* t = Table(key.family());
    return t ? t->Paths(key) : std::span<const Path>();
}

size_t Rib::RouteCount(Family family) const {
    auto* t = Table(family);
    return t ? t->live() : 0;
}

size_t Rib::EmptyEntries(Family family) const {
    auto* t = Table(family);
    return t ? t->entries() - t->live() : 0;
}

size_t Rib::PathCount(PeerId peer, Family family) const {
    return state_->PeerPathsOr0(peer, family);
}

void Rib::ForEachRoute(
    Family family, const std::function<void(const RouteKey&, std::span<const Path>)>& fn) const {
    if (auto* t = Table(family)) t->ForEach(fn);
}

size_t Rib::PendingChanges() const {
    size_t n = 0;
    for (const auto& t : tables_)
        if (t) n += t->pending();
    return n;
}

bool Rib::VisitRoutes(Family family, uint32_t& cursor, size_t max_routes,
                      const std::function<void(const RouteKey&, std::span<const Path>)>& fn) const {
    auto* t = Table(family);
    return t ? t->Visit(cursor, max_routes, fn) : true;
}

bool Rib::EntryAt(Family family, uint32_t index, RouteKey& key,
                  std::span<const Path>& paths) const {
    auto* t = Table(family);
    return t && t->EntryAt(index, key, paths);
}

void Rib::PinLayout(Family family, bool on) {
    if (on)
        MakeTable(family).Pin(true);
    else if (auto* t = Table(family))
        t->Pin(false);
}

void Rib::DrainChanges(const std::function<void(const RouteChange&)>& fn) {
    for (const auto& t : tables_)
        if (t) t->Drain(fn);
}

}  // namespace bagpipe::bgp
