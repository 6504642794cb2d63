// Capability negotiation: families (with RFC 4760's implied IPv4 unicast),
// four-octet AS, route refresh, extended message, ADD-PATH directions,
// graceful restart and the hold time, and the codec context they produce.
#include <gtest/gtest.h>

#include <vector>

#include "bgp/session/negotiation.h"
#include "session_test_util.h"

namespace bagpipe::bgp {
namespace {

using namespace session_test;  // NOLINT(build/namespaces): test fixtures

OpenMessage Open(uint32_t asn, uint16_t hold, std::vector<Capability> caps) {
    OpenMessage o;
    o.my_as = asn <= 0xffff ? static_cast<uint16_t>(asn) : kAsTrans;
    o.hold_time = hold;
    o.bgp_id = asn;  // any non-zero identifier
    o.capabilities = std::move(caps);
    return o;
}

TEST(Negotiation, FamiliesIntersectAndReportTheMissing) {
    OpenMessage ours = Open(kLocalAs, 180,
                            {Mp(Family::kIpv4Vpn), Mp(Family::kL2vpnEvpn), Mp(Family::kIpv4Rtc)});
    OpenMessage theirs = Open(kPeerAs, 180,
                              {Mp(Family::kL2vpnEvpn), Mp(Family::kIpv4Rtc),
                               Mp(Family::kIpv6Unicast), MultiprotocolCap{16388, 72}});
    NegotiatedSession n = Negotiate(ours, theirs);
    EXPECT_EQ(n.families, Families({Family::kL2vpnEvpn, Family::kIpv4Rtc}));
    EXPECT_EQ(n.families_missing, Families({Family::kIpv4Vpn}));
    // What the peer offers beyond ours, unknown families included.
    EXPECT_EQ(n.families_peer_only,
              (std::vector<AfiSafi>{{kAfiIpv6, kSafiUnicast}, {16388, 72}}));
}

TEST(Negotiation, NoMultiprotocolCapabilityImpliesIpv4Unicast) {
    OpenMessage plain = Open(kPeerAs, 180, {RouteRefreshCap{}});
    EXPECT_EQ(OfferedFamilies(plain), Families({Family::kIpv4Unicast}));
    // Against an MP speaker offering IPv4 unicast and VPNv4.
    OpenMessage mp = Open(kLocalAs, 180, {Mp(Family::kIpv4Unicast), Mp(Family::kIpv4Vpn)});
    NegotiatedSession n = Negotiate(mp, plain);
    EXPECT_EQ(n.families, Families({Family::kIpv4Unicast}));
    EXPECT_EQ(n.families_missing, Families({Family::kIpv4Vpn}));
    // Both silent: IPv4 unicast.
    EXPECT_EQ(Negotiate(plain, plain).families, Families({Family::kIpv4Unicast}));
    // An MP speaker without IPv4 unicast has nothing in common with a plain one.
    OpenMessage vpn_only = Open(kLocalAs, 180, {Mp(Family::kIpv4Vpn)});
    EXPECT_TRUE(Negotiate(vpn_only, plain).families.none());
}

TEST(Negotiation, FourOctetAs) {
    const uint32_t big = 4200000001;
    OpenMessage ours4 = Open(kLocalAs, 180, {FourOctetAsCap{kLocalAs}});
    OpenMessage ours2 = Open(kLocalAs, 180, {});
    OpenMessage theirs4 = Open(big, 180, {FourOctetAsCap{big}});
    OpenMessage theirs2 = Open(kPeerAs, 180, {});

    NegotiatedSession both = Negotiate(ours4, theirs4);
    EXPECT_TRUE(both.asn4);
    EXPECT_TRUE(both.context.asn4);
    EXPECT_EQ(both.peer_as, big);
    EXPECT_EQ(both.local_as, kLocalAs);

    NegotiatedSession only_theirs = Negotiate(ours2, theirs4);
    EXPECT_FALSE(only_theirs.asn4);
    EXPECT_FALSE(only_theirs.context.asn4);
    EXPECT_EQ(only_theirs.peer_as, big);  // their real AS is still known

    NegotiatedSession only_ours = Negotiate(ours4, theirs2);
    EXPECT_FALSE(only_ours.asn4);
    EXPECT_EQ(only_ours.peer_as, kPeerAs);
}

TEST(Negotiation, IbgpFollowsTheAsNumbers) {
    OpenMessage ours = Open(kLocalAs, 180, {FourOctetAsCap{kLocalAs}});
    EXPECT_TRUE(Negotiate(ours, Open(kLocalAs, 180, {FourOctetAsCap{kLocalAs}})).ibgp);
    EXPECT_TRUE(Negotiate(ours, Open(kLocalAs, 180, {})).context.ibgp);
    EXPECT_FALSE(Negotiate(ours, Open(kPeerAs, 180, {})).ibgp);
    EXPECT_FALSE(Negotiate(ours, Open(kPeerAs, 180, {})).context.ibgp);
}

TEST(Negotiation, RouteRefreshAndExtendedMessageNeedBothSides) {
    OpenMessage all = Open(kLocalAs, 180,
                           {RouteRefreshCap{}, EnhancedRouteRefreshCap{}, ExtendedMessageCap{}});
    OpenMessage none = Open(kPeerAs, 180, {});
    NegotiatedSession n = Negotiate(all, all);
    EXPECT_TRUE(n.route_refresh);
    EXPECT_TRUE(n.enhanced_route_refresh);
    EXPECT_TRUE(n.extended_message);
    EXPECT_EQ(n.context.max_message_size(), 65535u);
    NegotiatedSession one = Negotiate(all, none);
    EXPECT_FALSE(one.route_refresh);
    EXPECT_FALSE(one.enhanced_route_refresh);
    EXPECT_FALSE(one.extended_message);
    EXPECT_EQ(one.context.max_message_size(), 4096u);
    // The pre-standard Cisco code 128 counts as route refresh.
    OpenMessage cisco = Open(kPeerAs, 180, {UnknownCap{cap::kRouteRefreshCisco, {}}});
    EXPECT_TRUE(Negotiate(all, cisco).route_refresh);
}

struct AddPathCase {
    uint8_t ours;    // 0: not advertised
    uint8_t theirs;
    bool receive;
    bool send;
};

TEST(Negotiation, AddPathDirections) {
    const AddPathCase cases[] = {
        {1, 2, true, false}, {1, 1, false, false}, {2, 2, false, false}, {2, 1, false, true},
        {3, 3, true, true},  {3, 1, false, true},  {3, 2, true, false},  {1, 3, true, false},
        {0, 3, false, false}, {3, 0, false, false},
    };
    const AfiSafi evpn = ToAfiSafi(Family::kL2vpnEvpn);
    auto open = [&](uint32_t asn, uint8_t dir) {
        std::vector<Capability> caps = {Mp(Family::kL2vpnEvpn)};
        if (dir) caps.push_back(AddPathCap{{{evpn.afi, evpn.safi, dir}}});
        return Open(asn, 180, caps);
    };
    for (const AddPathCase& c : cases) {
        SCOPED_TRACE(fmt::format("ours {} theirs {}", c.ours, c.theirs));
        NegotiatedSession n = Negotiate(open(kLocalAs, c.ours), open(kPeerAs, c.theirs));
        EXPECT_EQ(n.add_path_receive.test(FamilyIndex(Family::kL2vpnEvpn)), c.receive);
        EXPECT_EQ(n.add_path_send.test(FamilyIndex(Family::kL2vpnEvpn)), c.send);
        EXPECT_EQ(n.context.add_path_rx(Family::kL2vpnEvpn), c.receive);
        EXPECT_EQ(n.context.add_path_tx(Family::kL2vpnEvpn), c.send);
    }
}

TEST(Negotiation, AddPathOnlyForNegotiatedFamilies) {
    const AfiSafi vpn = ToAfiSafi(Family::kIpv4Vpn);
    const AfiSafi evpn = ToAfiSafi(Family::kL2vpnEvpn);
    OpenMessage ours = Open(kLocalAs, 180,
                            {Mp(Family::kL2vpnEvpn), Mp(Family::kIpv4Vpn),
                             AddPathCap{{{vpn.afi, vpn.safi, 3}, {evpn.afi, evpn.safi, 3}}}});
    // The peer offers ADD-PATH for VPNv4 but not the family itself.
    OpenMessage theirs = Open(kPeerAs, 180,
                              {Mp(Family::kL2vpnEvpn),
                               AddPathCap{{{vpn.afi, vpn.safi, 3}, {evpn.afi, evpn.safi, 2}}}});
    NegotiatedSession n = Negotiate(ours, theirs);
    EXPECT_EQ(n.add_path_receive, Families({Family::kL2vpnEvpn}));
    EXPECT_TRUE(n.add_path_send.none());
}

TEST(Negotiation, GracefulRestart) {
    const AfiSafi vpn = ToAfiSafi(Family::kIpv4Vpn);
    const AfiSafi evpn = ToAfiSafi(Family::kL2vpnEvpn);
    const AfiSafi v6 = ToAfiSafi(Family::kIpv6Unicast);
    GracefulRestartCap helper;  // what BaGPipe sends: restart time, no families
    helper.restart_time = 120;
    GracefulRestartCap peer;
    peer.flags = 0x8 | 0x4;  // R and N
    peer.restart_time = 90;
    peer.entries = {{vpn.afi, vpn.safi, 0x80}, {evpn.afi, evpn.safi, 0x00},
                    {v6.afi, v6.safi, 0x80}};  // IPv6 is not negotiated
    OpenMessage ours = Open(kLocalAs, 180, {Mp(Family::kIpv4Vpn), Mp(Family::kL2vpnEvpn), helper});
    OpenMessage theirs =
        Open(kPeerAs, 180, {Mp(Family::kIpv4Vpn), Mp(Family::kL2vpnEvpn), peer});

    NegotiatedSession n = Negotiate(ours, theirs);
    EXPECT_TRUE(n.graceful_restart);
    const GracefulRestartInfo& gr = n.peer_graceful_restart;
    EXPECT_TRUE(gr.advertised);
    EXPECT_EQ(gr.restart_time, 90);
    EXPECT_TRUE(gr.restart_state);
    EXPECT_TRUE(gr.notification);
    EXPECT_EQ(gr.families, Families({Family::kIpv4Vpn, Family::kL2vpnEvpn}));
    EXPECT_EQ(gr.forwarding_preserved, Families({Family::kIpv4Vpn}));

    // We did not advertise it: the peer's parameters are reported, not negotiated.
    OpenMessage ours_plain = Open(kLocalAs, 180, {Mp(Family::kIpv4Vpn), Mp(Family::kL2vpnEvpn)});
    NegotiatedSession m = Negotiate(ours_plain, theirs);
    EXPECT_FALSE(m.graceful_restart);
    EXPECT_TRUE(m.peer_graceful_restart.advertised);
    // The peer did not advertise it.
    NegotiatedSession none = Negotiate(ours, ours_plain);
    EXPECT_FALSE(none.graceful_restart);
    EXPECT_EQ(none.peer_graceful_restart, GracefulRestartInfo{});
}

TEST(Negotiation, HoldTimeIsTheMinimum) {
    struct Case {
        uint16_t ours, theirs, hold, keepalive;
    };
    const Case cases[] = {{180, 90, 90, 30}, {90, 180, 90, 30}, {180, 0, 0, 0},
                          {0, 180, 0, 0},    {3, 180, 3, 1},    {180, 180, 180, 60}};
    for (const Case& c : cases) {
        NegotiatedSession n = Negotiate(Open(kLocalAs, c.ours, {}), Open(kPeerAs, c.theirs, {}));
        EXPECT_EQ(n.hold_time, c.hold) << c.ours << " vs " << c.theirs;
        EXPECT_EQ(n.keepalive_time, c.keepalive) << c.ours << " vs " << c.theirs;
    }
}

TEST(Negotiation, BagpipeLikePeer) {
    // The original bagpipe-bgp advertises MP for its VPN families, route
    // refresh and no four-octet AS: 2-octet AS paths on the wire.
    OpenMessage ours = BuildOpen(TestConfig());
    OpenMessage bagpipe = Open(kPeerAs, 180,
                               {Mp(Family::kIpv4Vpn), Mp(Family::kL2vpnEvpn),
                                Mp(Family::kIpv4Rtc), RouteRefreshCap{}});
    NegotiatedSession n = Negotiate(ours, bagpipe);
    EXPECT_FALSE(n.asn4);
    EXPECT_FALSE(n.context.asn4);
    EXPECT_TRUE(n.route_refresh);
    EXPECT_EQ(n.families, Families({Family::kIpv4Vpn, Family::kL2vpnEvpn, Family::kIpv4Rtc}));
    EXPECT_EQ(n.families_missing, Families({Family::kIpv4Unicast}));
    EXPECT_TRUE(n.families_peer_only.empty());
    EXPECT_EQ(n.hold_time, 180);
}

}  // namespace
}  // namespace bagpipe::bgp
