// RIB throughput and footprint on VPNv4 at route-reflector scale: 1,000,000
// routes in UPDATE-sized batches of 256 NLRI sharing 1,000 attribute sets.
//   BM_AttrHash*        field-wise vs canonical-encoding hash of a typical
//                       VPN set (why AttrStore hashes field-wise)
//   BM_AttrInternHit    interning a set that already exists (once per UPDATE)
//   BM_RibInsert        1 M routes from one peer into an empty RIB (routes/s)
//   BM_RibSecondPeer    the same 1 M keys from a second peer, half of them
//                       better: best-path recompute on every key
//   BM_RibDrain         draining the change log of 1 M new keys
//   BM_RibDropPeer      withdrawing all 1 M routes of a peer, then draining
//   BM_RibMemory        bytes per route (mallinfo2 delta, attribute sets and
//                       index included) with one and with two paths a key
// See BENCHMARKS.md for figures.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdint>
#include <vector>

#include "bgp/rib/attr_store.h"
#include "bgp/rib/rib.h"

namespace bagpipe::bgp {
namespace {

constexpr size_t kRoutes = 1000000;
constexpr size_t kSets = 1000;
constexpr size_t kBatch = 256;
constexpr Family kVpn = Family::kIpv4Vpn;

// ORIGIN, AS_PATH, LOCAL_PREF, EXT_COMMUNITIES (RT + encapsulation),
// ORIGINATOR_ID, CLUSTER_LIST: what a reflected VPN route carries.
PathAttributes TypicalSet(uint32_t i, uint32_t local_pref = 100) {
    PathAttributes a;
    a.origin = Origin::kIgp;
    a.set(attr::kOrigin);
    a.as_path.segments.push_back({AsPathSegment::kSequence, {64500 + i % 13}});
    a.set(attr::kAsPath);
    a.local_pref = local_pref;
    a.set(attr::kLocalPref);
    a.ext_communities = {
        ExtCommunity::RouteTarget(0, 64512, i),
        ExtCommunity::Encapsulation(static_cast<uint16_t>(TunnelType::kMplsOverGre))};
    a.set(attr::kExtCommunities);
    a.originator_id = IpAddress::V4(0xc0000200u + i % 200);
    a.set(attr::kOriginatorId);
    a.cluster_list = {0x0a000001};
    a.set(attr::kClusterList);
    return a;
}

struct Workload {
    std::vector<NlriList> batches;
    std::vector<size_t> set_of_batch;
    std::vector<PathAttributes> sets;
    std::vector<PathAttributes> better_sets;  // local_pref 200
};

const Workload& GetWorkload() {
    static const Workload w = [] {
        Workload w;
        for (uint32_t s = 0; s < kSets; ++s) {
            PathAttributes a = TypicalSet(s);
            a.mp_reach.family = kVpn;
            a.mp_reach.next_hop.global = IpAddress::V4(0xc0000201);
            a.set(attr::kMpReach);
            w.sets.push_back(a);
            a.local_pref = 200;
            w.better_sets.push_back(a);
        }
        for (size_t first = 0; first < kRoutes; first += kBatch) {
            std::vector<VpnNlri> v;
            for (size_t i = first; i < first + kBatch && i < kRoutes; ++i) {
                VpnNlri n;
                n.labels = LabelStack::One(MplsLabelField(16 + static_cast<uint32_t>(i % 1000000)));
                n.rd = RouteDistinguisher::Type0(64512, static_cast<uint32_t>(i % 1000));
                n.prefix.address = IpAddress::V4(0x0a000000u + static_cast<uint32_t>(i));
                n.prefix.length = 32;
                v.push_back(n);
            }
            w.set_of_batch.push_back(w.batches.size() % kSets);
            w.batches.emplace_back(std::move(v));
        }
        return w;
    }();
    return w;
}

void SetPeers(Rib& rib) {
    for (PeerId p = 1; p <= 2; ++p) {
        PeerInfo info;
        info.router_id = 0x0a000000u + p;
        info.address = IpAddress::V4(0xc0000200u + p);
        info.asn = 64512;
        info.rr_client = true;
        rib.SetPeer(p, info);
    }
}

// Feeds every batch from `peer`: one Intern per UPDATE, then Update. With
// `better_half`, odd batches use local_pref 200 sets.
void Feed(Rib& rib, AttrStore& store, PeerId peer, bool better_half = false) {
    const Workload& w = GetWorkload();
    for (size_t b = 0; b < w.batches.size(); ++b) {
        const auto& sets = better_half && (b % 2) ? w.better_sets : w.sets;
        AttrRef attrs = store.Intern(sets[w.set_of_batch[b]]);
        rib.Update(peer, kVpn, w.batches[b], attrs);
    }
}

void Discard(Rib& rib) {
    rib.DrainChanges([](const RouteChange& c) { benchmark::DoNotOptimize(c.best); });
}

void BM_AttrHashFieldwise(benchmark::State& state) {
    PathAttributes a = TypicalSet(7);
    NextHop nh{IpAddress::V4(0xc0000201), {}};
    for (auto _ : state) benchmark::DoNotOptimize(HashAttributes(a, nh));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_AttrHashFieldwise);

void BM_AttrHashCanonical(benchmark::State& state) {
    PathAttributes a = TypicalSet(7);
    NextHop nh{IpAddress::V4(0xc0000201), {}};
    Bytes scratch;
    for (auto _ : state) benchmark::DoNotOptimize(HashAttributesCanonical(a, nh, scratch));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_AttrHashCanonical);

void BM_AttrInternHit(benchmark::State& state) {
    AttrStore store;
    const Workload& w = GetWorkload();
    std::vector<AttrRef> keep;
    for (const auto& s : w.sets) keep.push_back(store.Intern(s));
    size_t i = 0;
    for (auto _ : state) {
        AttrRef r = store.Intern(w.sets[i++ % kSets]);
        benchmark::DoNotOptimize(r.get());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_AttrInternHit);

void BM_RibInsert(benchmark::State& state) {
    GetWorkload();
    for (auto _ : state) {
        state.PauseTiming();
        {
            AttrStore store;
            auto rib = std::make_unique<Rib>();
            SetPeers(*rib);
            state.ResumeTiming();
            Feed(*rib, store, 1);
            state.PauseTiming();
            if (rib->RouteCount(kVpn) != kRoutes) state.SkipWithError("route count");
            rib.reset();
        }
        state.ResumeTiming();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRoutes));
}
BENCHMARK(BM_RibInsert)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_RibSecondPeer(benchmark::State& state) {
    GetWorkload();
    size_t changes = 0;
    for (auto _ : state) {
        state.PauseTiming();
        {
            AttrStore store;
            auto rib = std::make_unique<Rib>();
            SetPeers(*rib);
            Feed(*rib, store, 1);
            Discard(*rib);
            state.ResumeTiming();
            Feed(*rib, store, 2, true);
            state.PauseTiming();
            changes = rib->PendingChanges();
            rib.reset();
        }
        state.ResumeTiming();
    }
    state.counters["best_changes"] = static_cast<double>(changes);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRoutes));
}
BENCHMARK(BM_RibSecondPeer)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_RibDrain(benchmark::State& state) {
    GetWorkload();
    for (auto _ : state) {
        state.PauseTiming();
        {
            AttrStore store;
            auto rib = std::make_unique<Rib>();
            SetPeers(*rib);
            Feed(*rib, store, 1);
            state.ResumeTiming();
            Discard(*rib);
            state.PauseTiming();
            rib.reset();
        }
        state.ResumeTiming();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRoutes));
}
BENCHMARK(BM_RibDrain)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_RibDropPeer(benchmark::State& state) {
    GetWorkload();
    const bool two_peers = state.range(0) == 2;
    for (auto _ : state) {
        state.PauseTiming();
        {
            AttrStore store;
            auto rib = std::make_unique<Rib>();
            SetPeers(*rib);
            Feed(*rib, store, 1);
            if (two_peers) Feed(*rib, store, 2);
            Discard(*rib);
            state.ResumeTiming();
            rib->DropPeer(1);
            Discard(*rib);
            state.PauseTiming();
            if (rib->RouteCount(kVpn) != (two_peers ? kRoutes : 0)) state.SkipWithError("count");
            rib.reset();
        }
        state.ResumeTiming();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRoutes));
}
BENCHMARK(BM_RibDropPeer)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(3);

size_t HeapInUse() { return mallinfo2().uordblks; }

void BM_RibMemory(benchmark::State& state) {
    GetWorkload();
    const int paths = static_cast<int>(state.range(0));
    double per_route = 0, attr_sets = 0;
    for (auto _ : state) {
        const size_t before = HeapInUse();
        {
            AttrStore store;
            auto rib = std::make_unique<Rib>();
            SetPeers(*rib);
            for (PeerId p = 1; p <= paths; ++p) Feed(*rib, store, p);
            Discard(*rib);
            per_route = static_cast<double>(HeapInUse() - before) / kRoutes;
            attr_sets = static_cast<double>(store.size());
            rib.reset();
        }
    }
    state.counters["bytes_per_route"] = per_route;
    state.counters["attr_sets"] = attr_sets;
}
BENCHMARK(BM_RibMemory)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace bagpipe::bgp
