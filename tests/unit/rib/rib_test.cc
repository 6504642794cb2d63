// Rib: Adj-RIB-In updates and withdrawals, one test per best-path tie-break
// step (RFC 4271 §9.1.2.2, RFC 4456 §9), determinism under any arrival order
// (RapidCheck), DropPeer, graceful-restart stale marking and sweeping,
// ADD-PATH, NLRI data kept per path, and the deduplicated change log.
#include <gtest/gtest.h>

#include <set>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <vector>

#include "bgp/rib/rib.h"
#include "rib_test_util.h"

namespace bagpipe::bgp {
namespace {

using rib_test::Nh;
using rib_test::VpnAttrs;
using rib_test::Vpnv4;

constexpr Family kVpn = Family::kIpv4Vpn;

struct Change {
    RouteKey key;
    int best_peer;  // -1: no route
    bool operator==(const Change&) const = default;
};

class RibTest : public ::testing::Test {
protected:
    // Peer n: router id 10.0.0.n, address 192.0.2.n, iBGP unless said.
    void AddPeer(PeerId id, bool ibgp = true, uint32_t router_id = 0, uint32_t address = 0) {
        PeerInfo info;
        info.router_id = router_id ? router_id : 0x0a000000u + id;
        info.address = IpAddress::V4(address ? address : 0xc0000200u + id);
        info.asn = ibgp ? 64512 : 64600 + id;
        info.ibgp = ibgp;
        rib.SetPeer(id, info);
    }
    static VpnNlri Route(uint32_t i = 0, uint32_t path_id = 0) {
        return Vpnv4(1, 0x0a000000u + (i << 8), 24, 100, path_id);
    }
    static RouteKey Key(uint32_t i = 0) { return KeyOf(Route(i)); }
    AttrRef Attrs(const PathAttributes& a) { return store.Intern(a, Nh(0x7f000001)); }
    void Announce(PeerId peer, const PathAttributes& a, std::vector<VpnNlri> nlri) {
        EXPECT_EQ(rib.Update(peer, kVpn, NlriList(std::move(nlri)), Attrs(a)), 0u);
    }
    void Announce(PeerId peer, const PathAttributes& a, const VpnNlri& n = Route()) {
        Announce(peer, a, std::vector<VpnNlri>{n});
    }
    int BestPeer(uint32_t i = 0) {
        const Path* p = rib.Best(Key(i));
        return p ? p->peer() : -1;
    }
    std::vector<Change> Drain() {
        std::vector<Change> out;
        rib.DrainChanges([&](const RouteChange& c) {
            EXPECT_EQ(c.family, kVpn);
            out.push_back({c.key, c.best ? c.best->peer() : -1});
        });
        return out;
    }

    AttrStore store;
    Rib rib;
};

// ---------------------------------------------------------------------------
// Basics.

TEST_F(RibTest, AnnounceAndWithdrawOneRoute) {
    AddPeer(1);
    Announce(1, VpnAttrs(1));
    EXPECT_EQ(BestPeer(), 1);
    EXPECT_EQ(rib.RouteCount(kVpn), 1u);
    EXPECT_EQ(rib.PathCount(1, kVpn), 1u);
    const Path* best = rib.Best(Key());
    ASSERT_NE(best, nullptr);
    EXPECT_EQ(best->labels(), LabelStack::One(MplsLabelField(100)));
    EXPECT_EQ(best->attributes().attributes().local_pref, 100u);
    EXPECT_EQ(Drain(), (std::vector<Change>{{Key(), 1}}));

    EXPECT_EQ(rib.Withdraw(1, kVpn, NlriList(std::vector<VpnNlri>{Route()})), 1u);
    EXPECT_EQ(BestPeer(), -1);
    EXPECT_EQ(rib.RouteCount(kVpn), 0u);
    EXPECT_EQ(rib.PathCount(1, kVpn), 0u);
    EXPECT_EQ(Drain(), (std::vector<Change>{{Key(), -1}}));
    EXPECT_EQ(rib.PendingChanges(), 0u);
    // Withdrawing what is not there changes nothing.
    EXPECT_EQ(rib.Withdraw(1, kVpn, NlriList(std::vector<VpnNlri>{Route()})), 0u);
    EXPECT_EQ(rib.PendingChanges(), 0u);
}

TEST_F(RibTest, ReannouncementReplacesThePeersPath) {
    AddPeer(1);
    Announce(1, VpnAttrs(1));
    Drain();
    Announce(1, VpnAttrs(1));  // identical: no change
    EXPECT_EQ(rib.PendingChanges(), 0u);
    Announce(1, VpnAttrs(2));  // new attributes
    EXPECT_EQ(Drain().size(), 1u);
    EXPECT_EQ(rib.Paths(Key()).size(), 1u);
    VpnNlri relabeled = Route();
    relabeled.labels = LabelStack::One(MplsLabelField(555));
    Announce(1, VpnAttrs(2), relabeled);  // new label
    EXPECT_EQ(Drain().size(), 1u);
    EXPECT_EQ(rib.Best(Key())->labels(), relabeled.labels);
    EXPECT_EQ(rib.PathCount(1, kVpn), 1u);
}

TEST_F(RibTest, IgnoresNlriOfAnotherFamily) {
    AddPeer(1);
    VpnNlri v6;
    v6.prefix = *Prefix::Parse("2001:db8::/32");
    EXPECT_EQ(rib.Update(1, kVpn, NlriList(std::vector<VpnNlri>{v6, Route()}), Attrs(VpnAttrs())),
              1u);
    EXPECT_EQ(rib.RouteCount(kVpn), 1u);
    EXPECT_EQ(rib.RouteCount(Family::kIpv6Vpn), 0u);
}

// ---------------------------------------------------------------------------
// Best path, one test per step. Each time peer 2 is better at the step under
// test and worse at every later one, so the step alone decides.

TEST_F(RibTest, BestPathHighestLocalPref) {
    AddPeer(1);
    AddPeer(2);
    Announce(1, VpnAttrs(1, {}, 100));
    Announce(2, VpnAttrs(1, {1, 2, 3}, 200));
    EXPECT_EQ(BestPeer(), 2);
}

TEST_F(RibTest, BestPathMissingLocalPrefCountsAs100) {
    AddPeer(1);
    AddPeer(2);
    Announce(1, VpnAttrs(1, {}, 99));
    Announce(2, VpnAttrs(1, {1, 2}, std::nullopt));
    EXPECT_EQ(BestPeer(), 2);
    Announce(1, VpnAttrs(1, {}, 101));
    EXPECT_EQ(BestPeer(), 1);
}

TEST_F(RibTest, BestPathLocallyOriginatedFirst) {
    AddPeer(1);
    Announce(1, VpnAttrs(1, {}));
    Announce(kLocalPeer, VpnAttrs(1, {1, 2, 3}));
    EXPECT_EQ(BestPeer(), kLocalPeer);
}

TEST_F(RibTest, BestPathShortestAsPath) {
    AddPeer(1);
    AddPeer(2);
    PathAttributes shorter = VpnAttrs(1, {});
    // A confederation sequence counts 0, an AS_SET 1: length 2.
    shorter.as_path.segments = {{AsPathSegment::kConfedSequence, {65001, 65002, 65003}},
                                {AsPathSegment::kSequence, {64500}},
                                {AsPathSegment::kSet, {1, 2, 3, 4}}};
    shorter.origin = Origin::kIncomplete;
    PathAttributes longer = VpnAttrs(1, {64500, 64501, 64502});
    Announce(1, longer);
    Announce(2, shorter);
    EXPECT_EQ(BestPeer(), 2);
}

TEST_F(RibTest, BestPathLowestOrigin) {
    AddPeer(1);
    AddPeer(2);
    PathAttributes incomplete = VpnAttrs(1, {64500});
    incomplete.origin = Origin::kIncomplete;
    PathAttributes egp = VpnAttrs(1, {64500});
    egp.origin = Origin::kEgp;
    egp.med = 50;
    egp.set(attr::kMed);
    Announce(1, incomplete);
    Announce(2, egp);
    EXPECT_EQ(BestPeer(), 2);
}

TEST_F(RibTest, BestPathLowestMedFromTheSameNeighbourAs) {
    AddPeer(1);
    AddPeer(2);
    PathAttributes high = VpnAttrs(1, {64500});
    high.med = 20;
    high.set(attr::kMed);
    PathAttributes low = VpnAttrs(1, {64500, 64501});
    low.as_path.segments = {{AsPathSegment::kSequence, {64500}}};
    low.med = 10;
    low.set(attr::kMed);
    Announce(1, high);
    Announce(2, low);
    EXPECT_EQ(BestPeer(), 2);  // peer 1 would win on router id
}

TEST_F(RibTest, BestPathMedNotComparedAcrossNeighbourAses) {
    AddPeer(1);
    AddPeer(2);
    PathAttributes a = VpnAttrs(1, {64500});
    a.med = 20;
    a.set(attr::kMed);
    PathAttributes b = VpnAttrs(1, {64600});
    b.med = 10;
    b.set(attr::kMed);
    Announce(1, a);
    Announce(2, b);
    EXPECT_EQ(BestPeer(), 1);  // decided by router id
}

TEST_F(RibTest, BestPathMissingMedIsZero) {
    AddPeer(1);
    AddPeer(2);
    PathAttributes with = VpnAttrs(1, {64500});
    with.med = 1;
    with.set(attr::kMed);
    Announce(1, with);
    Announce(2, VpnAttrs(1, {64500}));
    EXPECT_EQ(BestPeer(), 2);
}

TEST_F(RibTest, BestPathMedEliminationIsOrderIndependent) {
    // The classic non-transitive triangle: A(AS1, MED 10), B(AS2, MED 0),
    // C(AS1, MED 0). Pairwise comparison gives different winners depending
    // on order; elimination removes A (C has a lower MED in AS1) then router
    // id decides between B and C.
    AddPeer(1, true, 0x01000000);
    AddPeer(2, true, 0x03000000);
    AddPeer(3, true, 0x02000000);
    auto with_med = [](uint32_t as, uint32_t med) {
        PathAttributes a = VpnAttrs(1, {as});
        a.med = med;
        a.set(attr::kMed);
        return a;
    };
    std::vector<std::pair<PeerId, PathAttributes>> paths = {
        {1, with_med(1, 10)}, {2, with_med(2, 0)}, {3, with_med(1, 0)}};
    std::vector<size_t> order = {0, 1, 2};
    do {
        Rib r;
        for (PeerId p = 1; p <= 3; ++p) r.SetPeer(p, rib.peer(p));
        for (size_t i : order)
            r.Update(paths[i].first, kVpn, NlriList(std::vector<VpnNlri>{Route()}),
                     Attrs(paths[i].second));
        EXPECT_EQ(r.Best(Key())->peer(), 3);
    } while (std::next_permutation(order.begin(), order.end()));
}

TEST_F(RibTest, BestPathEbgpOverIbgp) {
    AddPeer(1, true);
    AddPeer(2, false, 0x0b000000);
    Announce(1, VpnAttrs(1, {64500}, 100));
    Announce(2, VpnAttrs(1, {64500}, std::nullopt));
    EXPECT_EQ(BestPeer(), 2);
}

TEST_F(RibTest, BestPathIgnoresLocalPrefFromEbgp) {
    AddPeer(1, true);
    AddPeer(2, false);
    Announce(1, VpnAttrs(1, {64500}, 150));
    Announce(2, VpnAttrs(1, {64500}, 500));
    EXPECT_EQ(BestPeer(), 1);
}

TEST_F(RibTest, BestPathLowestRouterId) {
    AddPeer(1, true, 0x0a000009, 0xc0000201);
    AddPeer(2, true, 0x0a000002, 0xc0000202);
    Announce(1, VpnAttrs(1, {64500}));
    Announce(2, VpnAttrs(1, {64500}));
    EXPECT_EQ(BestPeer(), 2);
}

TEST_F(RibTest, BestPathOriginatorIdReplacesRouterId) {
    AddPeer(1, true, 0x0a000001);
    AddPeer(2, true, 0x0a000002);
    PathAttributes reflected = VpnAttrs(1, {64500});
    reflected.originator_id = IpAddress::V4(0x01010101);
    reflected.set(attr::kOriginatorId);
    reflected.cluster_list = {1, 2, 3};
    reflected.set(attr::kClusterList);
    Announce(1, VpnAttrs(1, {64500}));
    Announce(2, reflected);
    EXPECT_EQ(BestPeer(), 2);
}

TEST_F(RibTest, BestPathShortestClusterList) {
    AddPeer(1, true, 0x0a000001, 0xc0000201);
    AddPeer(2, true, 0x0a000002, 0xc0000202);
    PathAttributes a = VpnAttrs(1, {64500});
    a.originator_id = IpAddress::V4(0x01010101);
    a.set(attr::kOriginatorId);
    PathAttributes longer = a;
    longer.cluster_list = {1, 2};
    longer.set(attr::kClusterList);
    PathAttributes shorter = a;
    shorter.cluster_list = {1};
    shorter.set(attr::kClusterList);
    Announce(1, longer);
    Announce(2, shorter);
    EXPECT_EQ(BestPeer(), 2);
}

TEST_F(RibTest, BestPathLowestPeerAddress) {
    AddPeer(1, true, 0x0a000001, 0xc0000209);
    AddPeer(2, true, 0x0a000001, 0xc0000202);
    Announce(1, VpnAttrs(1, {64500}));
    Announce(2, VpnAttrs(1, {64500}));
    EXPECT_EQ(BestPeer(), 2);
}

TEST_F(RibTest, BestPathLowestPathIdThenPeerId) {
    AddPeer(1, true, 0x0a000001, 0xc0000201);
    AddPeer(2, true, 0x0a000001, 0xc0000201);  // same facts
    Announce(2, VpnAttrs(1, {64500}), Route(0, 5));
    Announce(2, VpnAttrs(1, {64500}), Route(0, 3));
    EXPECT_EQ(rib.Best(Key())->path_id(), 3u);
    Announce(1, VpnAttrs(1, {64500}), Route(0, 3));
    EXPECT_EQ(BestPeer(), 1);
    EXPECT_EQ(rib.Paths(Key()).size(), 3u);
}

// Random paths with attributes and peer facts drawn from small domains, so
// that every tie-break step gets exercised: any arrival order, and any
// withdraw/re-announce sequence, ends with the same best path.
RC_GTEST_PROP(RibPropertyTest, BestPathIsDeterministic, ()) {
    const size_t n = *rc::gen::inRange<size_t>(2, 9);
    AttrStore store;
    std::vector<PeerInfo> peers(n + 1);
    struct Input {
        PeerId peer;
        uint32_t path_id;
        PathAttributes attrs;
    };
    std::vector<Input> inputs;
    for (size_t i = 1; i <= n; ++i) {
        PeerInfo& p = peers[i];
        p.router_id = *rc::gen::inRange<uint32_t>(1, 4);
        p.address = IpAddress::V4(*rc::gen::inRange<uint32_t>(1, 4));
        p.ibgp = *rc::gen::arbitrary<bool>();
        PathAttributes a = VpnAttrs(1, {}, *rc::gen::element<uint32_t>(100, 200));
        if (*rc::gen::arbitrary<bool>()) a.clear(attr::kLocalPref);
        a.as_path.segments.push_back(
            {AsPathSegment::kSequence,
             *rc::gen::container<std::vector<uint32_t>>(*rc::gen::inRange<size_t>(0, 3),
                                                        rc::gen::inRange(1u, 3u))});
        a.origin = static_cast<Origin>(*rc::gen::inRange(0, 3));
        if (*rc::gen::arbitrary<bool>()) {
            a.med = *rc::gen::inRange<uint32_t>(0, 3);
            a.set(attr::kMed);
        }
        if (*rc::gen::arbitrary<bool>()) {
            a.originator_id = IpAddress::V4(*rc::gen::inRange<uint32_t>(1, 4));
            a.set(attr::kOriginatorId);
        }
        if (*rc::gen::arbitrary<bool>()) {
            a.cluster_list.assign(*rc::gen::inRange<size_t>(1, 3), 7);
            a.set(attr::kClusterList);
        }
        const size_t paths = *rc::gen::inRange<size_t>(1, 3);  // ADD-PATH
        for (size_t k = 0; k < paths; ++k)
            inputs.push_back({static_cast<PeerId>(i), static_cast<uint32_t>(k), a});
    }
    auto run = [&](const std::vector<size_t>& order, bool churn) {
        Rib rib;
        for (size_t i = 1; i <= n; ++i) rib.SetPeer(static_cast<PeerId>(i), peers[i]);
        auto announce = [&](const Input& in) {
            rib.Update(in.peer, kVpn,
                       NlriList(std::vector<VpnNlri>{Vpnv4(1, 0x0a000000, 24, 16, in.path_id)}),
                       store.Intern(in.attrs, {}));
        };
        for (size_t i : order) announce(inputs[i]);
        if (churn) {
            // Withdraw and re-announce the first half again.
            for (size_t j = 0; j < order.size() / 2; ++j) {
                const Input& in = inputs[order[j]];
                rib.Withdraw(in.peer, kVpn,
                             NlriList(std::vector<VpnNlri>{Vpnv4(1, 0x0a000000, 24, 16,
                                                                 in.path_id)}));
            }
            for (size_t j = 0; j < order.size() / 2; ++j) announce(inputs[order[j]]);
        }
        const Path* best = rib.Best(KeyOf(Vpnv4(1, 0x0a000000, 24)));
        RC_ASSERT(best != nullptr);
        RC_ASSERT(rib.Paths(KeyOf(Vpnv4(1, 0x0a000000, 24))).size() == inputs.size());
        return std::make_pair(best->peer(), best->path_id());
    };
    std::vector<size_t> order(inputs.size());
    std::iota(order.begin(), order.end(), 0);
    const auto reference = run(order, false);
    std::vector<size_t> shuffled = order;
    std::mt19937_64 rng(*rc::gen::arbitrary<uint64_t>());
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    RC_ASSERT(run(shuffled, false) == reference);
    RC_ASSERT(run(shuffled, true) == reference);
    std::vector<size_t> reversed(order.rbegin(), order.rend());
    RC_ASSERT(run(reversed, true) == reference);
}

// ---------------------------------------------------------------------------
// Withdrawals, DropPeer, stale paths.

TEST_F(RibTest, WithdrawingTheBestPromotesTheNext) {
    AddPeer(1);
    AddPeer(2);
    Announce(1, VpnAttrs(1, {}, 200));
    Announce(2, VpnAttrs(1, {}, 100));
    Drain();
    // Withdrawing a non-best path logs nothing.
    rib.Withdraw(2, kVpn, std::vector<RouteKey>{Key()});
    EXPECT_EQ(rib.PendingChanges(), 0u);
    Announce(2, VpnAttrs(1, {}, 100));
    EXPECT_EQ(rib.PendingChanges(), 0u);  // not better than the best
    rib.Withdraw(1, kVpn, std::vector<RouteKey>{Key()});
    EXPECT_EQ(BestPeer(), 2);
    EXPECT_EQ(Drain(), (std::vector<Change>{{Key(), 2}}));
}

TEST_F(RibTest, WithdrawByKeySelectsThePathId) {
    AddPeer(1);
    Announce(1, VpnAttrs(1), Route(0, 1));
    Announce(1, VpnAttrs(2), Route(0, 2));
    EXPECT_EQ(rib.Paths(Key()).size(), 2u);
    EXPECT_EQ(rib.Withdraw(1, kVpn, std::vector<RouteKey>{Key().WithPathId(2)}), 1u);
    ASSERT_EQ(rib.Paths(Key()).size(), 1u);
    EXPECT_EQ(rib.Best(Key())->path_id(), 1u);
    EXPECT_EQ(rib.Withdraw(1, kVpn, std::vector<RouteKey>{Key().WithPathId(2)}), 0u);
}

TEST_F(RibTest, DropPeerWithdrawsAllItsPaths) {
    AddPeer(1);
    AddPeer(2);
    std::vector<VpnNlri> routes;
    for (uint32_t i = 0; i < 1000; ++i) routes.push_back(Route(i));
    Announce(1, VpnAttrs(1, {}, 200), routes);
    routes.resize(10);
    Announce(2, VpnAttrs(1, {}, 100), routes);
    Drain();
    EXPECT_EQ(rib.RouteCount(kVpn), 1000u);
    EXPECT_EQ(rib.DropPeer(1), 1000u);
    EXPECT_EQ(rib.PathCount(1, kVpn), 0u);
    EXPECT_EQ(rib.RouteCount(kVpn), 10u);
    auto changes = Drain();
    EXPECT_EQ(changes.size(), 1000u);
    size_t to_peer2 = std::count_if(changes.begin(), changes.end(),
                                    [](const Change& c) { return c.best_peer == 2; });
    EXPECT_EQ(to_peer2, 10u);
    for (uint32_t i = 0; i < 1000; ++i) EXPECT_EQ(BestPeer(i), i < 10 ? 2 : -1);
    EXPECT_EQ(rib.DropPeer(1), 0u);
    EXPECT_EQ(rib.DropPeer(2, kVpn), 10u);
    Drain();
    EXPECT_EQ(rib.RouteCount(kVpn), 0u);
}

TEST_F(RibTest, StaleSweep) {
    AddPeer(1);
    AddPeer(2);
    std::vector<VpnNlri> routes;
    for (uint32_t i = 0; i < 10; ++i) routes.push_back(Route(i));
    Announce(1, VpnAttrs(1, {}, 200), routes);
    Announce(2, VpnAttrs(1, {}, 100), {Route(0), Route(1)});
    Drain();
    EXPECT_EQ(rib.MarkStale(1, kVpn), 10u);
    EXPECT_TRUE(rib.Best(Key(3))->stale());
    EXPECT_EQ(rib.PendingChanges(), 0u);  // stale paths stay best
    // The restarted peer re-announces routes 0-4, one with new attributes.
    Announce(1, VpnAttrs(1, {}, 200), {Route(0), Route(1), Route(2), Route(3)});
    Announce(1, VpnAttrs(2, {}, 200), Route(4));
    EXPECT_FALSE(rib.Best(Key(3))->stale());
    EXPECT_EQ(Drain(), (std::vector<Change>{{Key(4), 1}}));
    EXPECT_EQ(rib.SweepStale(1, kVpn), 5u);
    EXPECT_EQ(rib.PathCount(1, kVpn), 5u);
    auto changes = Drain();
    EXPECT_EQ(changes.size(), 5u);
    for (const Change& c : changes) EXPECT_EQ(c.best_peer, -1);
    for (uint32_t i = 0; i < 10; ++i) EXPECT_EQ(BestPeer(i), i < 5 ? 1 : -1);
    EXPECT_EQ(rib.SweepStale(1, kVpn), 0u);
    EXPECT_EQ(rib.Paths(Key(0)).size(), 2u);
}

// ---------------------------------------------------------------------------
// The change log.

TEST_F(RibTest, ChangeLogHasOneEntryPerKeyPerBatch) {
    AddPeer(1);
    AddPeer(2);
    for (int round = 0; round < 100; ++round) {
        Announce(1, VpnAttrs(round % 2 + 1));
        Announce(2, VpnAttrs(1, {}, round % 2 ? 300 : 50));
        if (round % 10 == 0) rib.DropPeer(1);
    }
    rib.Withdraw(1, kVpn, std::vector<RouteKey>{Key()});
    rib.Withdraw(2, kVpn, std::vector<RouteKey>{Key()});
    Announce(2, VpnAttrs(1));
    EXPECT_EQ(rib.PendingChanges(), 1u);
    EXPECT_EQ(Drain(), (std::vector<Change>{{Key(), 2}}));
}

TEST_F(RibTest, ChangeLogDedupOverABigBatch) {
    AddPeer(1);
    AddPeer(2);
    constexpr uint32_t kRoutes = 100000;
    std::vector<VpnNlri> routes;
    for (uint32_t i = 0; i < kRoutes; ++i)
        routes.push_back(Vpnv4(i % 100, 0x0a000000 + (i << 8), 24));
    for (uint32_t set = 0; set < 5; ++set) {
        Announce(1, VpnAttrs(set), routes);
        Announce(2, VpnAttrs(set, {}, 300), routes);
    }
    EXPECT_EQ(rib.PendingChanges(), kRoutes);
    size_t n = 0;
    rib.DrainChanges([&](const RouteChange& c) {
        ++n;
        EXPECT_EQ(c.best->peer(), 2);
    });
    EXPECT_EQ(n, kRoutes);
}

TEST_F(RibTest, DrainFreesEmptyKeysAndKeepsTheOthersReachable) {
    AddPeer(1);
    std::vector<VpnNlri> routes;
    for (uint32_t i = 0; i < 10000; ++i) routes.push_back(Route(i));
    Announce(1, VpnAttrs(1), routes);
    Drain();
    // Withdraw every third route, re-add some of them within the batch.
    std::vector<RouteKey> gone;
    for (uint32_t i = 0; i < 10000; i += 3) gone.push_back(Key(i));
    rib.Withdraw(1, kVpn, gone);
    Announce(1, VpnAttrs(1), {Route(0), Route(3)});
    auto changes = Drain();
    EXPECT_EQ(changes.size(), gone.size());
    EXPECT_EQ(rib.RouteCount(kVpn), 10000u - gone.size() + 2);
    for (uint32_t i = 0; i < 10000; ++i)
        ASSERT_EQ(BestPeer(i), (i % 3 != 0 || i == 0 || i == 3) ? 1 : -1) << i;
    size_t visited = 0;
    rib.ForEachRoute(kVpn, [&](const RouteKey& k, std::span<const Path> paths) {
        ++visited;
        EXPECT_EQ(paths.size(), 1u);
        EXPECT_EQ(k.family(), kVpn);
    });
    EXPECT_EQ(visited, rib.RouteCount(kVpn));
}

TEST_F(RibTest, DrainErasesAFewEmptyKeysOneByOne) {
    AddPeer(1);
    std::vector<VpnNlri> routes;
    for (uint32_t i = 0; i < 10000; ++i) routes.push_back(Route(i));
    Announce(1, VpnAttrs(1), routes);
    Drain();
    for (int round = 0; round < 3; ++round) {
        std::vector<RouteKey> gone;
        for (uint32_t i = round; i < 10000; i += 20) gone.push_back(Key(i));
        EXPECT_EQ(rib.Withdraw(1, kVpn, gone), gone.size());
        EXPECT_EQ(Drain().size(), gone.size());
    }
    EXPECT_EQ(rib.RouteCount(kVpn), 10000u - 3 * 500);
    for (uint32_t i = 0; i < 10000; ++i) ASSERT_EQ(BestPeer(i), i % 20 < 3 ? -1 : 1) << i;
    Announce(1, VpnAttrs(1), routes);
    EXPECT_EQ(Drain().size(), 1500u);
    EXPECT_EQ(rib.RouteCount(kVpn), 10000u);
}

// ---------------------------------------------------------------------------
// Other families and NLRI data.

TEST_F(RibTest, EvpnPathsKeepEsiLabelsAndGateway) {
    AddPeer(1);
    EvpnNlri mac;
    mac.route_type = 2;
    mac.rd = RouteDistinguisher::Type1(0xc0000201, 1);
    mac.mac_length = 48;
    mac.mac.bytes = {0x52, 0x54, 0, 0, 0, 1};
    mac.ip = IpAddress::V4(0x0a000001);
    mac.esi.bytes[9] = 7;
    mac.labels = LabelStack::One(5001);
    mac.labels.Push(6001);
    EvpnNlri prefix;
    prefix.route_type = 5;
    prefix.rd = RouteDistinguisher::Type1(0xc0000201, 1);
    prefix.prefix = *Prefix::Parse("10.1.0.0/16");
    prefix.gateway_ip = IpAddress::V4(uint32_t{0});
    prefix.labels = LabelStack::One(7001);
    EvpnNlri deep = prefix;
    deep.prefix = *Prefix::Parse("10.2.0.0/16");
    deep.gateway_ip = IpAddress::V4(0x0a020001);
    EXPECT_EQ(rib.Update(1, Family::kL2vpnEvpn, NlriList(std::vector<EvpnNlri>{mac, prefix, deep}),
                         Attrs(VpnAttrs())),
              0u);
    for (const EvpnNlri& n : {mac, prefix, deep}) {
        const Path* p = rib.Best(*KeyOf(n));
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(ToNlri<EvpnNlri>(*KeyOf(n), p->payload()), n);
    }
    // Same MAC/IP with another ESI: the same route, replaced.
    EvpnNlri moved = mac;
    moved.esi = Esi{};
    rib.Update(1, Family::kL2vpnEvpn, NlriList(std::vector<EvpnNlri>{moved}), Attrs(VpnAttrs()));
    EXPECT_EQ(rib.Paths(*KeyOf(mac)).size(), 1u);
    EXPECT_TRUE(rib.Best(*KeyOf(mac))->payload().esi.is_zero());
    EXPECT_EQ(rib.RouteCount(Family::kL2vpnEvpn), 3u);
}

TEST_F(RibTest, DeepLabelStacksAreKept) {
    AddPeer(1);
    VpnNlri n = Route();
    n.labels.Push(MplsLabelField(200, false));
    n.labels.Push(MplsLabelField(300));
    Announce(1, VpnAttrs(), n);
    EXPECT_EQ(rib.Best(Key())->labels(), n.labels);
    n.labels = LabelStack::One(MplsLabelField(1));
    Announce(1, VpnAttrs(), n);
    EXPECT_EQ(rib.Best(Key())->labels(), n.labels);
}

TEST_F(RibTest, RtcAndUnicastFamilies) {
    AddPeer(1);
    RtcNlri rtc{0, 96, 64512, ExtCommunity::RouteTarget(0, 64512, 1)};
    EXPECT_EQ(rib.Update(1, Family::kIpv4Rtc, NlriList(std::vector<RtcNlri>{rtc, RtcNlri{}}),
                         Attrs(VpnAttrs())),
              0u);
    EXPECT_EQ(rib.RouteCount(Family::kIpv4Rtc), 2u);
    InetNlri v6{0, *Prefix::Parse("2001:db8::/32")};
    EXPECT_EQ(rib.Update(1, Family::kIpv6Unicast, NlriList(std::vector<InetNlri>{v6}),
                         Attrs(VpnAttrs())),
              0u);
    EXPECT_NE(rib.Best(KeyOf(v6)), nullptr);
    EXPECT_EQ(rib.Best(KeyOf(InetNlri{0, *Prefix::Parse("2001:db8::/33")})), nullptr);
    EXPECT_EQ(rib.DropPeer(1), 3u);
}

TEST_F(RibTest, ChangingPeerFactsReselects) {
    AddPeer(1, true, 0x0a000001);
    AddPeer(2, true, 0x0a000002);
    Announce(1, VpnAttrs(1, {64500}));
    Announce(2, VpnAttrs(1, {64500}));
    EXPECT_EQ(BestPeer(), 1);
    Drain();
    AddPeer(1, true, 0x0a000003);
    EXPECT_EQ(BestPeer(), 2);
    EXPECT_EQ(Drain(), (std::vector<Change>{{Key(), 2}}));
}

TEST_F(RibTest, AttributeSetsAreReleasedWithTheirRoutes) {
    AddPeer(1);
    Announce(1, VpnAttrs(1), {Route(0), Route(1)});
    Announce(1, VpnAttrs(2), Route(2));
    EXPECT_EQ(store.size(), 2u);
    Announce(1, VpnAttrs(1), Route(2));
    EXPECT_EQ(store.size(), 1u);
    rib.DropPeer(1);
    rib.DrainChanges([](const RouteChange&) {});
    EXPECT_EQ(store.size(), 0u);
}

// The change log carries the best path of the previous drain: the export
// stage needs it to know who was sent the route before.
TEST_F(RibTest, ChangeLogCarriesThePreviousBestPath) {
    AddPeer(1);
    AddPeer(2);
    Announce(1, VpnAttrs(1));
    std::vector<std::pair<int, const AttrEntry*>> seen;
    auto drain = [&] {
        seen.clear();
        rib.DrainChanges([&](const RouteChange& c) {
            seen.push_back({c.old_attrs ? c.old_peer : -1, c.old_attrs});
        });
    };
    drain();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].first, -1);  // new route: nothing before
    const AttrRef first = Attrs(VpnAttrs(1));
    // Peer 1 changes its attributes, then peer 2 wins with a higher
    // LOCAL_PREF, in one batch: the old best is peer 1's first set.
    Announce(1, VpnAttrs(7));
    Announce(2, VpnAttrs(1, {}, 200));
    drain();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].first, 1);
    EXPECT_EQ(seen[0].second, first.get());
    // Both withdraw: the old best is peer 2's.
    rib.DropPeer(2);
    rib.DropPeer(1);
    drain();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].first, 2);
}

// A pinned scan visits every key that stays in the table exactly once,
// however many keys are removed (and erased by drains) under it.
TEST_F(RibTest, PinnedScanNeitherSkipsNorRepeats) {
    AddPeer(1);
    std::vector<VpnNlri> routes;
    for (uint32_t i = 0; i < 1000; ++i) routes.push_back(Route(i));
    Announce(1, VpnAttrs(1), routes);
    rib.DrainChanges([](const RouteChange&) {});
    rib.PinLayout(kVpn, true);
    uint32_t cursor = 0;
    std::set<RouteKey> visited;
    size_t repeats = 0;
    bool done = false;
    uint32_t round = 0;
    while (!done) {
        done = rib.VisitRoutes(kVpn, cursor, 50, [&](const RouteKey& k, std::span<const Path>) {
            if (!visited.insert(k).second) ++repeats;
        });
        // Withdraw 40 routes that are even-numbered, and drain.
        std::vector<VpnNlri> gone;
        for (uint32_t j = 0; j < 40 && round * 40 + j < 500; ++j) gone.push_back(Route(2 * (round * 40 + j)));
        ++round;
        rib.Withdraw(1, kVpn, NlriList(std::move(gone)));
        rib.DrainChanges([](const RouteChange&) {});
    }
    rib.PinLayout(kVpn, false);
    EXPECT_EQ(repeats, 0u);
    for (uint32_t i = 1; i < 1000; i += 2) EXPECT_TRUE(visited.count(Key(i))) << i;
    // Unpinned, the next drain erases the deferred empties.
    rib.DrainChanges([](const RouteChange&) {});
    EXPECT_EQ(rib.RouteCount(kVpn), 500u);
    size_t n = 0;
    rib.ForEachRoute(kVpn, [&](const RouteKey&, std::span<const Path>) { ++n; });
    EXPECT_EQ(n, 500u);
}

// A peer's routes dropped in slices under a pin: each slice logs at most
// its size, the change indices stay valid (EntryAt: the key, no paths once
// withdrawn), other peers' routes are untouched, and the first drain after
// the unpin erases every emptied entry (compaction: more than a quarter).
TEST_F(RibTest, DropPeerSliceUnderAPin) {
    AddPeer(1);
    AddPeer(2);
    std::vector<VpnNlri> routes;
    for (uint32_t i = 0; i < 1000; ++i) routes.push_back(Route(i));
    Announce(1, VpnAttrs(1), routes);
    Announce(2, VpnAttrs(2), std::vector<VpnNlri>{Route(5000), Route(5001)});
    rib.DrainChanges([](const RouteChange&) {});
    rib.PinLayout(kVpn, true);
    uint32_t cursor = 0;
    size_t slices = 0, logged = 0;
    std::vector<std::pair<uint32_t, RouteKey>> seen;
    while (rib.PathCount(1, kVpn) > 0) {
        EXPECT_LE(rib.DropPeerSlice(1, kVpn, cursor, 300), 300u);
        ++slices;
        rib.DrainChanges([&](const RouteChange& c) {
            ++logged;
            EXPECT_EQ(c.best, nullptr);
            seen.emplace_back(c.index, c.key);
        });
    }
    EXPECT_EQ(slices, 4u);
    EXPECT_EQ(logged, 1000u);
    for (const auto& [idx, key] : seen) {
        RouteKey k;
        std::span<const Path> paths;
        ASSERT_TRUE(rib.EntryAt(kVpn, idx, k, paths));
        EXPECT_EQ(k, key);
        EXPECT_TRUE(paths.empty());
    }
    EXPECT_EQ(BestPeer(5000), 2);
    rib.PinLayout(kVpn, false);
    rib.DrainChanges([](const RouteChange&) {});
    EXPECT_EQ(rib.RouteCount(kVpn), 2u);
    size_t n = 0;
    rib.ForEachRoute(kVpn, [&](const RouteKey&, std::span<const Path>) { ++n; });
    EXPECT_EQ(n, 2u);
    RouteKey k;
    std::span<const Path> paths;
    EXPECT_FALSE(rib.EntryAt(kVpn, 2, k, paths));  // two entries left: 0 and 1
    EXPECT_EQ(BestPeer(5001), 2);
}

// Paths with a path id, two labels or an EVPN ESI keep them (out of line).
TEST_F(RibTest, PathDataOutOfLine) {
    AddPeer(1);
    VpnNlri a = Route(1, 7);  // ADD-PATH path id 7
    VpnNlri b = Route(2);
    b.labels.count = 2;
    b.labels.raw[1] = 0x000641;
    Announce(1, VpnAttrs(1), std::vector<VpnNlri>{a, b});
    auto pa = rib.Paths(Key(1));
    ASSERT_EQ(pa.size(), 1u);
    EXPECT_EQ(pa[0].path_id(), 7u);
    EXPECT_EQ(pa[0].labels(), a.labels);
    const Path* pb = rib.Best(Key(2));
    ASSERT_NE(pb, nullptr);
    EXPECT_EQ(pb->labels(), b.labels);
    EXPECT_EQ(pb->path_id(), 0u);
    EXPECT_EQ(&pb->attributes(), pa[0].attrs().get());
    // The same again is no change; another label is.
    Drain();
    Announce(1, VpnAttrs(1), std::vector<VpnNlri>{a, b});
    EXPECT_TRUE(Drain().empty());
    b.labels.raw[1] = 0x000651;
    Announce(1, VpnAttrs(1), b);
    EXPECT_EQ(Drain().size(), 1u);
    EXPECT_EQ(rib.Best(Key(2))->labels(), b.labels);
}

}  // namespace
}  // namespace bagpipe::bgp
