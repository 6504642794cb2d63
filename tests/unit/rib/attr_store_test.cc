// AttrStore: one entry per distinct set, MP_* and absent fields ignored,
// entries freed with their last reference, best-path facts, lazy canonical
// encodings, and a scale check (1,000 sets shared by 1,000,000 references).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <memory>
#include <vector>

#include "bgp/rib/attr_store.h"
#include "rib_test_util.h"

namespace bagpipe::bgp {
namespace {

using rib_test::Nh;
using rib_test::VpnAttrs;

TEST(AttrStoreTest, SameSetGivesSameHandle) {
    AttrStore store;
    AttrRef a = store.Intern(VpnAttrs(1), Nh(0x0a000001));
    AttrRef b = store.Intern(VpnAttrs(1), Nh(0x0a000001));
    EXPECT_EQ(a.get(), b.get());
    EXPECT_EQ(store.size(), 1u);
    EXPECT_EQ(store.hits(), 1u);
    EXPECT_EQ(store.misses(), 1u);
    EXPECT_EQ(a->use_count(), 2u);
}

TEST(AttrStoreTest, DistinctSetsAndNextHopsGiveDistinctHandles) {
    AttrStore store;
    AttrRef a = store.Intern(VpnAttrs(1), Nh(0x0a000001));
    AttrRef b = store.Intern(VpnAttrs(2), Nh(0x0a000001));
    AttrRef c = store.Intern(VpnAttrs(1), Nh(0x0a000002));
    AttrRef d = store.Intern(VpnAttrs(1, {}, 200), Nh(0x0a000001));
    AttrRef e = store.Intern(VpnAttrs(1, {}, std::nullopt), Nh(0x0a000001));
    EXPECT_NE(a.get(), b.get());
    EXPECT_NE(a.get(), c.get());
    EXPECT_NE(a.get(), d.get());
    EXPECT_NE(a.get(), e.get());
    EXPECT_EQ(store.size(), 5u);
}

TEST(AttrStoreTest, MpReachIsNotPartOfTheSetButItsNextHopIs) {
    AttrStore store;
    PathAttributes a = VpnAttrs(1);
    a.mp_reach.family = Family::kIpv4Vpn;
    a.mp_reach.next_hop = Nh(0xc0000201);
    a.mp_reach.nlri = std::vector<VpnNlri>{rib_test::Vpnv4(1, 0x0a000001)};
    a.set(attr::kMpReach);
    PathAttributes b = a;
    b.mp_reach.nlri = std::vector<VpnNlri>{rib_test::Vpnv4(2, 0x0a000002)};
    AttrRef ra = store.Intern(a);
    AttrRef rb = store.Intern(b);
    EXPECT_EQ(ra.get(), rb.get());
    EXPECT_FALSE(ra->attributes().has(attr::kMpReach));
    EXPECT_EQ(NlriCount(ra->attributes().mp_reach.nlri), 0u);
    EXPECT_EQ(ra->next_hop(), Nh(0xc0000201));
    // The same set without MP_REACH but with its next hop given explicitly.
    EXPECT_EQ(store.Intern(VpnAttrs(1), Nh(0xc0000201)).get(), ra.get());
    // MP_UNREACH does not matter either.
    PathAttributes c = a;
    c.mp_unreach.family = Family::kIpv4Vpn;
    c.set(attr::kMpUnreach);
    EXPECT_EQ(store.Intern(c).get(), ra.get());
}

TEST(AttrStoreTest, AbsentAttributesValuesAreIgnored) {
    AttrStore store;
    PathAttributes a = VpnAttrs(1);
    PathAttributes b = VpnAttrs(1);
    b.med = 77;  // MED not present
    b.cluster_list = {1, 2};
    EXPECT_EQ(store.Intern(a, {}).get(), store.Intern(b, {}).get());
    EXPECT_EQ(HashAttributes(a, {}), HashAttributes(b, {}));
}

TEST(AttrStoreTest, LastReferenceFreesTheEntry) {
    AttrStore store;
    AttrRef a = store.Intern(VpnAttrs(1), {});
    {
        AttrRef b = a;
        AttrRef c = store.Intern(VpnAttrs(2), {});
        EXPECT_EQ(store.size(), 2u);
    }
    EXPECT_EQ(store.size(), 1u);
    a.reset();
    EXPECT_EQ(store.size(), 0u);
    // Interning again creates a fresh entry.
    AttrRef d = store.Intern(VpnAttrs(1), {});
    EXPECT_EQ(store.size(), 1u);
    EXPECT_EQ(store.misses(), 3u);
}

TEST(AttrStoreTest, ReferencesMayOutliveTheStore) {
    AttrRef survivor;
    {
        AttrStore store;
        survivor = store.Intern(VpnAttrs(1), {});
        AttrRef other = store.Intern(VpnAttrs(2), {});
    }
    EXPECT_EQ(survivor->use_count(), 1u);
    EXPECT_EQ(survivor->attributes().local_pref, 100u);
    survivor.reset();  // freed without a store (ASan checks)
}

TEST(AttrStoreTest, BestPathFacts) {
    PathAttributes a;
    a.origin = Origin::kIncomplete;
    a.set(attr::kOrigin);
    a.as_path.segments = {{AsPathSegment::kConfedSequence, {65001, 65002}},
                          {AsPathSegment::kSequence, {64500, 64501}},
                          {AsPathSegment::kSet, {1, 2, 3}}};
    a.set(attr::kAsPath);
    a.med = 5;
    a.set(attr::kMed);
    a.local_pref = 300;
    a.set(attr::kLocalPref);
    a.originator_id = IpAddress::V4(0x01020304);
    a.set(attr::kOriginatorId);
    a.cluster_list = {7, 8, 9};
    a.set(attr::kClusterList);
    BestPathFacts f = ComputeBestPathFacts(a);
    EXPECT_EQ(f.origin, 2);
    EXPECT_EQ(f.as_path_length, 3u);  // confed 0, sequence 2, set 1
    EXPECT_EQ(f.neighbor_as, 64500u);
    EXPECT_EQ(f.med, 5u);
    EXPECT_TRUE(f.has_local_pref);
    EXPECT_EQ(f.local_pref, 300u);
    EXPECT_TRUE(f.has_originator_id);
    EXPECT_EQ(f.originator_id, 0x01020304u);
    EXPECT_EQ(f.cluster_list_length, 3u);

    BestPathFacts empty = ComputeBestPathFacts(PathAttributes{});
    EXPECT_FALSE(empty.has_local_pref);
    EXPECT_EQ(empty.local_pref, 100u);
    EXPECT_EQ(empty.med, 0u);
    EXPECT_EQ(empty.neighbor_as, 0u);
    EXPECT_FALSE(empty.has_originator_id);

    AttrStore store;
    EXPECT_EQ(store.Intern(a, {})->facts(), f);
}

TEST(AttrStoreTest, CanonicalEncodingIsLazyAndCached) {
    AttrStore store;
    PathAttributes a = VpnAttrs(1, {4200000000u, 64500});
    AttrRef r = store.Intern(a, {});
    for (bool asn4 : {true, false}) {
        Bytes expected;
        Writer w(expected);
        SessionContext ctx;
        ctx.asn4 = asn4;
        EncodePathAttributes(a, ctx, w);
        const Bytes& got = r->Encoded(asn4);
        EXPECT_EQ(got, expected) << "asn4=" << asn4;
        EXPECT_EQ(&r->Encoded(asn4), &got);
    }
    EXPECT_NE(r->Encoded(true), r->Encoded(false));  // AS_TRANS + AS4_PATH
}

TEST(AttrStoreTest, ThousandSetsSharedByAMillionReferences) {
    AttrStore store;
    constexpr size_t kSets = 1000, kRefs = 1000000;
    std::vector<PathAttributes> sets;
    for (uint32_t i = 0; i < kSets; ++i) sets.push_back(VpnAttrs(i, {64500, 64501 + i % 7}));
    std::vector<AttrRef> refs;
    refs.reserve(kRefs);
    for (size_t i = 0; i < kRefs; ++i) refs.push_back(store.Intern(sets[i % kSets], Nh(1)));
    EXPECT_EQ(store.size(), kSets);
    EXPECT_EQ(store.misses(), kSets);
    EXPECT_EQ(refs[0]->use_count(), kRefs / kSets);
    for (size_t i = 0; i < kSets; ++i) EXPECT_EQ(refs[i].get(), refs[i + kSets].get());
    refs.resize(kRefs / 2);
    EXPECT_EQ(store.size(), kSets);
    refs.clear();
    EXPECT_EQ(store.size(), 0u);
}

RC_GTEST_PROP(AttrStoreTest, EqualSetsShareAnEntryAndHash, ()) {
    PathAttributes a = VpnAttrs(*rc::gen::inRange<uint32_t>(0, 4),
                                *rc::gen::container<std::vector<uint32_t>>(
                                    *rc::gen::inRange<size_t>(0, 4), rc::gen::inRange(1u, 5u)),
                                *rc::gen::inRange<uint32_t>(99, 102));
    if (*rc::gen::arbitrary<bool>()) {
        a.med = *rc::gen::inRange<uint32_t>(0, 3);
        a.set(attr::kMed);
    }
    if (*rc::gen::arbitrary<bool>()) {
        a.cluster_list = *rc::gen::container<std::vector<uint32_t>>(
            *rc::gen::inRange<size_t>(1, 3), rc::gen::inRange(1u, 3u));
        a.set(attr::kClusterList);
    }
    PathAttributes b = a;
    const bool mutate = *rc::gen::arbitrary<bool>();
    if (mutate) {
        switch (*rc::gen::inRange(0, 3)) {
            case 0: b.local_pref += 1; break;
            case 1: b.ext_communities.pop_back(); break;
            default: b.clear(attr::kOrigin); break;
        }
    }
    AttrStore store;
    AttrRef ra = store.Intern(a, Nh(1));
    AttrRef rb = store.Intern(b, Nh(1));
    RC_ASSERT((ra.get() == rb.get()) == !mutate);
    if (!mutate) RC_ASSERT(HashAttributes(a, Nh(1)) == HashAttributes(b, Nh(1)));
    RC_ASSERT(store.size() == (mutate ? 2u : 1u));
}

}  // namespace
}  // namespace bagpipe::bgp
