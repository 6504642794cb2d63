// RtMembership (RFC 4684): exact, default and prefix RTC routes, peers
// without RTC, the End-of-RIB gate, interest change events, and agreement of
// InterestedPeers with IsInterested (RapidCheck).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <vector>

#include "bgp/rib/rt_membership.h"

namespace bagpipe::bgp {
namespace {

using Kind = RtInterestChange::Kind;

ExtCommunity Rt(uint32_t asn, uint32_t number) { return ExtCommunity::RouteTarget(0, asn, number); }

RtcNlri Exact(const ExtCommunity& rt, uint32_t origin_as = 64512) {
    return RtcNlri{0, 96, origin_as, rt};
}

// An RTC route covering every route target of 2-octet AS `asn` (type 0x0002
// then the AS: 32 route-target bits).
RtcNlri AllOfAs(uint16_t asn) {
    RtcNlri n{0, 64, 64512, {}};
    n.route_target.bytes = {0x00, 0x02, static_cast<uint8_t>(asn >> 8), static_cast<uint8_t>(asn),
                            0, 0, 0, 0};
    return n;
}

std::vector<PeerId> Interested(const RtMembership& m, std::vector<ExtCommunity> comms) {
    return m.InterestedPeers(comms).ToVector();
}

class RtMembershipTest : public ::testing::Test {
protected:
    void SetUp() override {
        m.AddPeer(1, false);  // no RTC: receives everything
        m.AddPeer(2, true);
        m.AddPeer(3, true);
    }
    RtMembership m;
};

TEST_F(RtMembershipTest, PeersWithoutRtcReceiveEverything) {
    EXPECT_TRUE(m.RtcReady(1));
    EXPECT_FALSE(m.RtcNegotiated(1));
    EXPECT_EQ(Interested(m, {}), std::vector<PeerId>{1});
    EXPECT_EQ(Interested(m, {Rt(64512, 1)}), std::vector<PeerId>{1});
    EXPECT_FALSE(m.Add(1, Exact(Rt(64512, 1))));  // RTC routes from it are ignored
    EXPECT_TRUE(m.IsInterested(1, std::vector<ExtCommunity>{}));
}

TEST_F(RtMembershipTest, ExactRouteTargets) {
    m.SetRtcReady(2);
    m.SetRtcReady(3);
    EXPECT_TRUE(m.Add(2, Exact(Rt(64512, 1))));
    EXPECT_TRUE(m.Add(3, Exact(Rt(64512, 2))));
    EXPECT_EQ(Interested(m, {Rt(64512, 1)}), (std::vector<PeerId>{1, 2}));
    EXPECT_EQ(Interested(m, {Rt(64512, 2)}), (std::vector<PeerId>{1, 3}));
    EXPECT_EQ(Interested(m, {Rt(64512, 1), Rt(64512, 2)}), (std::vector<PeerId>{1, 2, 3}));
    EXPECT_EQ(Interested(m, {Rt(64512, 3)}), std::vector<PeerId>{1});
    // Non-RT communities never match, even with the same octets otherwise.
    ExtCommunity ro = ExtCommunity::RouteOrigin(0, 64512, 1);
    EXPECT_EQ(Interested(m, {ro, ExtCommunity::Encapsulation(8)}), std::vector<PeerId>{1});
    EXPECT_TRUE(m.Remove(2, Exact(Rt(64512, 1))));
    EXPECT_FALSE(m.Remove(2, Exact(Rt(64512, 1))));
    EXPECT_EQ(Interested(m, {Rt(64512, 1)}), std::vector<PeerId>{1});
}

TEST_F(RtMembershipTest, OriginAsDoesNotMatterForMatchingButRoutesCountSeparately) {
    m.SetRtcReady(2);
    m.Add(2, Exact(Rt(64512, 1), 64512));
    m.Add(2, Exact(Rt(64512, 1), 64999));
    m.Add(2, Exact(Rt(64512, 1), 64999));  // duplicate announcement
    EXPECT_EQ(m.RouteCount(2), 2u);
    m.Remove(2, Exact(Rt(64512, 1), 64512));
    EXPECT_TRUE(m.IsInterested(2, std::vector<ExtCommunity>{Rt(64512, 1)}));
    m.Remove(2, Exact(Rt(64512, 1), 64999));
    EXPECT_FALSE(m.IsInterested(2, std::vector<ExtCommunity>{Rt(64512, 1)}));
}

TEST_F(RtMembershipTest, DefaultRouteMeansEveryRouteTarget) {
    m.SetRtcReady(2);
    m.SetRtcReady(3);
    m.Add(2, RtcNlri{});
    EXPECT_EQ(Interested(m, {}), (std::vector<PeerId>{1, 2}));
    EXPECT_EQ(Interested(m, {Rt(1, 1)}), (std::vector<PeerId>{1, 2}));
    m.Remove(2, RtcNlri{});
    EXPECT_EQ(Interested(m, {Rt(1, 1)}), std::vector<PeerId>{1});
}

TEST_F(RtMembershipTest, PrefixRoutesMatchRouteTargetBits) {
    m.SetRtcReady(2);
    m.SetRtcReady(3);
    m.Add(2, AllOfAs(64512));
    EXPECT_EQ(Interested(m, {Rt(64512, 1)}), (std::vector<PeerId>{1, 2}));
    EXPECT_EQ(Interested(m, {Rt(64512, 99999)}), (std::vector<PeerId>{1, 2}));
    EXPECT_EQ(Interested(m, {Rt(64513, 1)}), std::vector<PeerId>{1});
    // Length 32: origin AS only, every route target.
    m.Add(3, RtcNlri{0, 32, 64512, {}});
    EXPECT_EQ(Interested(m, {Rt(1, 1)}), (std::vector<PeerId>{1, 3}));
    // Bits beyond the length are ignored on input.
    RtcNlri sloppy = AllOfAs(64513);
    sloppy.route_target.bytes[7] = 0xff;
    m.Add(2, sloppy);
    EXPECT_EQ(Interested(m, {Rt(64513, 5)}), (std::vector<PeerId>{1, 2, 3}));
    // Invalid lengths are refused.
    EXPECT_FALSE(m.Add(2, RtcNlri{0, 16, 64512, {}}));
    EXPECT_FALSE(m.Add(2, RtcNlri{0, 97, 64512, {}}));
}

TEST_F(RtMembershipTest, NothingIsSentBeforeTheRtcEndOfRib) {
    m.Add(2, Exact(Rt(64512, 1)));
    m.Add(2, RtcNlri{});
    EXPECT_FALSE(m.RtcReady(2));
    EXPECT_EQ(Interested(m, {Rt(64512, 1)}), std::vector<PeerId>{1});
    EXPECT_FALSE(m.IsInterested(2, std::vector<ExtCommunity>{Rt(64512, 1)}));
    EXPECT_TRUE(m.DrainChanges().empty());  // no events before ready
    m.SetRtcReady(2);
    EXPECT_TRUE(m.RtcReady(2));
    EXPECT_EQ(Interested(m, {Rt(64512, 1)}), (std::vector<PeerId>{1, 2}));
    EXPECT_EQ(m.DrainChanges(), (std::vector<RtInterestChange>{{2, Kind::kGained, 0, {}}}));
    m.SetRtcReady(2);
    EXPECT_TRUE(m.DrainChanges().empty());
}

TEST_F(RtMembershipTest, InterestChangeEvents) {
    m.SetRtcReady(2);
    m.DrainChanges();
    const ExtCommunity rt1 = Rt(64512, 1);
    m.Add(2, Exact(rt1));
    m.Add(2, Exact(rt1, 64999));  // already interested: no event
    EXPECT_EQ(m.DrainChanges(), (std::vector<RtInterestChange>{{2, Kind::kGained, 64, rt1}}));
    m.Remove(2, Exact(rt1));
    EXPECT_TRUE(m.DrainChanges().empty());
    m.Remove(2, Exact(rt1, 64999));
    EXPECT_EQ(m.DrainChanges(), (std::vector<RtInterestChange>{{2, Kind::kLost, 64, rt1}}));

    // Under a default route, exact and prefix changes are hidden.
    m.Add(2, RtcNlri{});
    m.Add(2, Exact(rt1));
    m.Add(2, AllOfAs(64512));
    m.Remove(2, Exact(rt1));
    m.Remove(2, AllOfAs(64512));
    EXPECT_EQ(m.DrainChanges(), (std::vector<RtInterestChange>{{2, Kind::kGained, 0, {}}}));
    m.Remove(2, RtcNlri{});
    EXPECT_EQ(m.DrainChanges(), (std::vector<RtInterestChange>{{2, Kind::kLost, 0, {}}}));

    // A prefix route logs its prefix; an exact RT under it is hidden.
    m.Add(2, AllOfAs(64512));
    m.Add(2, Exact(rt1));
    ExtCommunity prefix = AllOfAs(64512).route_target;
    EXPECT_EQ(m.DrainChanges(), (std::vector<RtInterestChange>{{2, Kind::kGained, 32, prefix}}));
    m.Remove(2, AllOfAs(64512));
    EXPECT_EQ(m.DrainChanges(), (std::vector<RtInterestChange>{{2, Kind::kLost, 32, prefix}}));
}

TEST_F(RtMembershipTest, RemovePeerForgetsItsRoutesAndEvents) {
    m.SetRtcReady(2);
    m.Add(2, Exact(Rt(64512, 1)));
    m.Add(2, RtcNlri{});
    m.Add(2, AllOfAs(64512));
    m.RemovePeer(2);
    EXPECT_FALSE(m.HasPeer(2));
    EXPECT_TRUE(m.DrainChanges().empty());
    EXPECT_EQ(Interested(m, {Rt(64512, 1)}), std::vector<PeerId>{1});
    EXPECT_EQ(m.RouteCount(2), 0u);
    // Coming back: fresh state, waiting for its End-of-RIB again.
    m.AddPeer(2, true);
    EXPECT_FALSE(m.RtcReady(2));
    m.RemovePeer(1);
    EXPECT_EQ(Interested(m, {Rt(64512, 1)}), std::vector<PeerId>{});
}

RC_GTEST_PROP(RtMembershipPropertyTest, InterestedPeersAgreesWithIsInterested, ()) {
    RtMembership m;
    const PeerId peers = *rc::gen::inRange<PeerId>(1, 70);
    for (PeerId p = 1; p <= peers; ++p) {
        const bool rtc = *rc::gen::inRange(0, 4) != 0;
        m.AddPeer(p, rtc);
        if (*rc::gen::arbitrary<bool>()) m.SetRtcReady(p);
        const size_t routes = *rc::gen::inRange<size_t>(0, 4);
        for (size_t i = 0; i < routes; ++i) {
            switch (*rc::gen::inRange(0, 4)) {
                case 0: m.Add(p, RtcNlri{}); break;
                case 1: m.Add(p, AllOfAs(*rc::gen::inRange<uint16_t>(1, 3))); break;
                default:
                    m.Add(p, Exact(Rt(*rc::gen::inRange(1u, 3u), *rc::gen::inRange(1u, 4u))));
            }
        }
    }
    std::vector<ExtCommunity> comms;
    const size_t n = *rc::gen::inRange<size_t>(0, 3);
    for (size_t i = 0; i < n; ++i)
        comms.push_back(Rt(*rc::gen::inRange(1u, 3u), *rc::gen::inRange(1u, 4u)));
    PeerSet set = m.InterestedPeers(comms);
    for (PeerId p = 0; p <= peers + 1; ++p) RC_ASSERT(set.Contains(p) == m.IsInterested(p, comms));
}

}  // namespace
}  // namespace bagpipe::bgp
