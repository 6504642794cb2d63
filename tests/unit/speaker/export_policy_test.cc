// The export and loop rules of route reflection (RFC 4456) and of iBGP/eBGP
// (RFC 4271 §9.2), and the attributes sent to each kind of peer.
#include <gtest/gtest.h>

#include "bgp/speaker/export_policy.h"

namespace bagpipe::bgp {
namespace {

PeerInfo Ibgp(uint32_t id, bool client) {
    PeerInfo p;
    p.router_id = id;
    p.address = IpAddress::V4(0x7f000000u + id);
    p.asn = 64512;
    p.ibgp = true;
    p.rr_client = client;
    return p;
}
PeerInfo Ebgp(uint32_t id, uint32_t asn) {
    PeerInfo p = Ibgp(id, false);
    p.asn = asn;
    p.ibgp = false;
    return p;
}
PeerInfo Local() {
    PeerInfo p;
    p.local = true;
    return p;
}
LocalSpeaker Self(bool rr) {
    LocalSpeaker s;
    s.asn = 64512;
    s.router_id = 0x0a000001;
    s.cluster_id = 0x0a0000ff;
    s.route_reflector = rr;
    s.next_hop = IpAddress::V4(0xc0000201);
    return s;
}

// RFC 4456 §8 table: client → all; non-client → clients; eBGP/local → all;
// never back to the source.
TEST(ExportPolicy, ReflectionMatrix) {
    const LocalSpeaker rr = Self(true);
    const PathAttributes a;
    const PeerInfo c1 = Ibgp(1, true), c2 = Ibgp(2, true), n1 = Ibgp(3, false), n2 = Ibgp(4, false);
    const PeerInfo e = Ebgp(5, 65001);
    EXPECT_TRUE(MayExport(1, c1, 2, c2, a, rr));
    EXPECT_TRUE(MayExport(1, c1, 3, n1, a, rr));
    EXPECT_FALSE(MayExport(1, c1, 1, c1, a, rr));
    EXPECT_TRUE(MayExport(3, n1, 1, c1, a, rr));
    EXPECT_FALSE(MayExport(3, n1, 4, n2, a, rr));
    EXPECT_TRUE(MayExport(3, n1, 5, e, a, rr));
    EXPECT_TRUE(MayExport(5, e, 3, n1, a, rr));
    EXPECT_TRUE(MayExport(kLocalPeer, Local(), 3, n1, a, rr));
    // Without reflection, iBGP-learned routes go to eBGP peers only.
    const LocalSpeaker plain = Self(false);
    EXPECT_FALSE(MayExport(1, c1, 2, c2, a, plain));
    EXPECT_TRUE(MayExport(1, c1, 5, e, a, plain));
    EXPECT_TRUE(MayExport(kLocalPeer, Local(), 1, c1, a, plain));
}

TEST(ExportPolicy, NotBackToTheOriginator) {
    PathAttributes a;
    a.originator_id = IpAddress::V4(2);
    a.set(attr::kOriginatorId);
    EXPECT_FALSE(MayExport(1, Ibgp(1, true), 2, Ibgp(2, true), a, Self(true)));
    EXPECT_TRUE(MayExport(1, Ibgp(1, true), 3, Ibgp(3, true), a, Self(true)));
}

TEST(ExportPolicy, LoopsAreDetected) {
    const LocalSpeaker rr = Self(true);
    PathAttributes a;
    EXPECT_FALSE(IsLoop(Ibgp(1, true), a, rr));
    a.cluster_list = {0x0a000099, rr.cluster_id};
    a.set(attr::kClusterList);
    EXPECT_TRUE(IsLoop(Ibgp(1, true), a, rr));
    PathAttributes b;
    b.originator_id = IpAddress::V4(rr.router_id);
    b.set(attr::kOriginatorId);
    EXPECT_TRUE(IsLoop(Ibgp(1, true), b, rr));
    PathAttributes c;
    c.as_path.segments = {{AsPathSegment::kSequence, {65001, 64512}}};
    c.set(attr::kAsPath);
    EXPECT_TRUE(IsLoop(Ebgp(5, 65001), c, rr));
    EXPECT_FALSE(IsLoop(Ibgp(1, true), c, rr));  // AS_PATH loops are an eBGP matter
}

// Reflected: ORIGINATOR_ID = source router id (kept when present),
// CLUSTER_LIST prepended with ours; next hop, communities, MED unchanged.
TEST(ExportPolicy, ReflectedAttributes) {
    PathAttributes a;
    a.set(attr::kOrigin);
    a.set(attr::kAsPath);
    a.med = 7;
    a.set(attr::kMed);
    a.cluster_list = {0x0a000099};
    a.set(attr::kClusterList);
    a.ext_communities = {ExtCommunity::RouteTarget(0, 64512, 1)};
    a.set(attr::kExtCommunities);
    const NextHop nh{IpAddress::V4(0x7f000101), {}};
    OutgoingAttributes o = MakeOutgoing(a, nh, Ibgp(0x0a00000b, true), true, Family::kIpv4Vpn, Self(true));
    EXPECT_EQ(o.next_hop, nh);
    ASSERT_TRUE(o.attrs.has(attr::kOriginatorId));
    EXPECT_EQ(o.attrs.originator_id, IpAddress::V4(0x0a00000b));
    EXPECT_EQ(o.attrs.cluster_list, (std::vector<uint32_t>{0x0a0000ff, 0x0a000099}));
    EXPECT_EQ(o.attrs.med, 7u);
    EXPECT_TRUE(o.attrs.has(attr::kLocalPref));
    EXPECT_EQ(o.attrs.local_pref, 100u);
    EXPECT_EQ(o.attrs.ext_communities, a.ext_communities);
    // An ORIGINATOR_ID already set is kept.
    a.originator_id = IpAddress::V4(0x0a000063);
    a.set(attr::kOriginatorId);
    o = MakeOutgoing(a, nh, Ibgp(0x0a00000b, true), true, Family::kIpv4Vpn, Self(true));
    EXPECT_EQ(o.attrs.originator_id, IpAddress::V4(0x0a000063));
}

// Towards eBGP: our AS first in AS_PATH, next-hop-self, no iBGP-only
// attributes; MED learned from eBGP is not passed on.
TEST(ExportPolicy, EbgpAttributes) {
    PathAttributes a;
    a.set(attr::kOrigin);
    a.as_path.segments = {{AsPathSegment::kSequence, {65001}}};
    a.set(attr::kAsPath);
    a.local_pref = 300;
    a.set(attr::kLocalPref);
    a.med = 5;
    a.set(attr::kMed);
    a.originator_id = IpAddress::V4(9);
    a.set(attr::kOriginatorId);
    a.cluster_list = {1};
    a.set(attr::kClusterList);
    const NextHop nh{IpAddress::V4(0x7f000101), {}};
    OutgoingAttributes o = MakeOutgoing(a, nh, Ebgp(5, 65001), false, Family::kIpv4Vpn, Self(false));
    EXPECT_EQ(o.attrs.as_path.segments[0].asns, (std::vector<uint32_t>{64512, 65001}));
    EXPECT_EQ(o.next_hop.global, IpAddress::V4(0xc0000201));
    EXPECT_FALSE(o.attrs.has(attr::kLocalPref));
    EXPECT_FALSE(o.attrs.has(attr::kOriginatorId));
    EXPECT_FALSE(o.attrs.has(attr::kClusterList));
    EXPECT_FALSE(o.attrs.has(attr::kMed));
    // From iBGP the MED stays (it is ours to send).
    o = MakeOutgoing(a, nh, Ibgp(1, true), false, Family::kIpv4Vpn, Self(false));
    EXPECT_TRUE(o.attrs.has(attr::kMed));
    // An empty AS_PATH becomes our AS alone; IPv4 unicast gets NEXT_HOP.
    PathAttributes b;
    o = MakeOutgoing(b, {}, Local(), false, Family::kIpv4Unicast, Self(false));
    EXPECT_EQ(o.attrs.as_path.segments.size(), 1u);
    EXPECT_EQ(o.attrs.as_path.segments[0].asns, (std::vector<uint32_t>{64512}));
    EXPECT_TRUE(o.attrs.has(attr::kNextHop));
    EXPECT_EQ(o.attrs.next_hop, IpAddress::V4(0xc0000201));
}

// LOCAL_PREF learned over eBGP is never passed to iBGP peers.
TEST(ExportPolicy, EbgpLearnedToIbgp) {
    PathAttributes a;
    a.local_pref = 300;
    a.set(attr::kLocalPref);
    OutgoingAttributes o =
        MakeOutgoing(a, {}, Ebgp(5, 65001), true, Family::kIpv4Vpn, Self(true));
    EXPECT_EQ(o.attrs.local_pref, 100u);
    EXPECT_FALSE(o.attrs.has(attr::kOriginatorId));
    EXPECT_FALSE(o.attrs.has(attr::kClusterList));
}

}  // namespace
}  // namespace bagpipe::bgp
