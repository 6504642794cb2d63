// VpnManager and VpnInstance with the dummy driver: origination (compared
// with the original bagpipe-bgp's captured UPDATEs), import and best path,
// MAC mobility, RT Constraint, errors, life cycle.
#include "vpn/vpn_manager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bgp/wire/message.h"
#include "bgp/wire/update_packer.h"
#include "bgp/family/flowspec/flowspec_rule.h"
#include "dataplane/dummy/dummy_driver.h"
#include "vpn/route_origination.h"

namespace bagpipe::vpn {
namespace {

using bgp::Family;
using dataplane::DummyDataplaneDriver;
using dataplane::DummyDriverOptions;
using dataplane::VpnType;

bgp::IpAddress Ip(std::string_view s) { return *bgp::IpAddress::Parse(s); }
bgp::MacAddress Mac(std::string_view s) { return *bgp::MacAddress::Parse(s); }
bgp::ExtCommunity Rt(uint32_t asn, uint32_t n) { return bgp::ExtCommunity::RouteTarget(0, asn, n); }

bgp::Bytes FromHex(std::string_view hex) {
    bgp::Bytes out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<uint8_t>(std::stoul(std::string(hex.substr(i, 2)), nullptr, 16)));
    return out;
}

// Records what the instances announce and withdraw (the speaker's role).
class RecordingSink : public RouteSink {
public:
    struct Entry {
        bool announce;
        Family family;
        bgp::NlriList nlri;
        bgp::PathAttributes attrs;
        bgp::NextHop next_hop;
    };
    void Announce(Family f, const bgp::NlriList& n, const bgp::PathAttributes& a,
                  const bgp::NextHop& nh) override {
        log.push_back({true, f, n, a, nh});
    }
    void Withdraw(Family f, const bgp::NlriList& n) override { log.push_back({false, f, n, {}, {}}); }

    std::vector<Entry> Of(Family f, bool announce = true) const {
        std::vector<Entry> out;
        for (const auto& e : log)
            if (e.family == f && e.announce == announce) out.push_back(e);
        return out;
    }
    std::vector<Entry> log;
};

template <class T>
const T& First(const bgp::NlriList& l) {
    return std::get<std::vector<T>>(l).front();
}

class VpnManagerTest : public ::testing::Test {
protected:
    void SetUp() override { Make(); }

    void Make(DummyDriverOptions ipvpn_opts = DummyDriverOptions::Defaults(VpnType::kIpVpn, Ip("127.0.1.1")),
              DummyDriverOptions evpn_opts = DummyDriverOptions::Defaults(VpnType::kEvpn, Ip("127.0.1.1"))) {
        manager.reset();
        auto ip = std::make_unique<DummyDataplaneDriver>(ipvpn_opts);
        auto ev = std::make_unique<DummyDataplaneDriver>(evpn_opts);
        ipvpn = ip.get();
        evpn = ev.get();
        VpnManagerConfig cfg;
        cfg.local_as = 64512;
        cfg.bgp_local_address = Ip("127.0.1.1");
        cfg.router_id = Ip("127.0.1.1").v4();
        manager = std::make_unique<VpnManager>(sink, nullptr, cfg, std::move(ip), std::move(ev));
    }

    static AttachParams EvpnParams(std::string_view mac = "52:54:00:aa:bb:01",
                                   std::string_view ip = "10.0.1.1", uint8_t len = 24) {
        AttachParams p;
        p.vpn_type = VpnType::kEvpn;
        p.vpn_instance_id = "evpn-test";
        p.mac = Mac(mac);
        p.local_port.linuxif = "tap-evpn1";
        p.import_rts = {Rt(64512, 513)};
        p.export_rts = {Rt(64512, 513)};
        if (!ip.empty()) {
            p.ip = Ip(ip);
            p.ip_prefix_length = len;
            p.ip_text = std::string(ip) + "/" + std::to_string(len);
        }
        p.gateway_ip = Ip("10.0.1.254");
        p.instance_description = "evpn test instance";
        return p;
    }

    static AttachParams IpvpnParams(std::string_view mac = "52:54:00:aa:bb:02",
                                    std::string_view ip = "10.0.0.1", uint8_t len = 24) {
        AttachParams p;
        p.vpn_type = VpnType::kIpVpn;
        p.vpn_instance_id = "ipvpn-test";
        p.mac = Mac(mac);
        p.local_port.linuxif = "tap-ipvpn1";
        p.import_rts = {Rt(64512, 512)};
        p.export_rts = {Rt(64512, 512)};
        p.ip = Ip(ip);
        p.ip_prefix_length = len;
        p.ip_text = std::string(ip) + "/" + std::to_string(len);
        p.gateway_ip = Ip("10.0.0.254");
        p.local_pref = 200;
        return p;
    }

    // A route received from a remote PE, as the speaker reports it.
    bgp::LocRibChange Remote(const bgp::EvpnNlri& n, std::vector<bgp::ExtCommunity> ext,
                             std::string_view next_hop, std::optional<bgp::PmsiTunnel> pmsi = {},
                             uint32_t local_pref = 100) {
        bgp::PathAttributes a;
        a.set(bgp::attr::kOrigin);
        a.set(bgp::attr::kAsPath);
        a.set(bgp::attr::kLocalPref);
        a.local_pref = local_pref;
        a.set(bgp::attr::kExtCommunities);
        a.ext_communities = std::move(ext);
        if (pmsi) {
            a.set(bgp::attr::kPmsiTunnel);
            a.pmsi_tunnel = *pmsi;
        }
        bgp::LocRibChange c;
        c.family = Family::kL2vpnEvpn;
        c.key = *bgp::KeyOf(n);
        c.peer = 1;
        c.attrs = store.Intern(a, bgp::NextHop{Ip(next_hop), {}});
        c.payload = bgp::PayloadOf(n);
        return c;
    }

    bgp::LocRibChange RemoteVpn(const bgp::VpnNlri& n, std::vector<bgp::ExtCommunity> ext,
                                std::string_view next_hop, uint32_t local_pref = 100) {
        bgp::PathAttributes a;
        a.set(bgp::attr::kOrigin);
        a.set(bgp::attr::kAsPath);
        a.set(bgp::attr::kLocalPref);
        a.local_pref = local_pref;
        a.set(bgp::attr::kExtCommunities);
        a.ext_communities = std::move(ext);
        bgp::LocRibChange c;
        c.family = Family::kIpv4Vpn;
        c.key = bgp::KeyOf(n);
        c.peer = 1;
        c.attrs = store.Intern(a, bgp::NextHop{Ip(next_hop), {}});
        c.payload = bgp::PayloadOf(n);
        return c;
    }

    static bgp::LocRibChange Gone(const bgp::LocRibChange& c) {
        bgp::LocRibChange g;
        g.family = c.family;
        g.key = c.key;
        return g;
    }

    void Feed(std::vector<bgp::LocRibChange> v) { manager->OnLocRibChanges(std::move(v)); }

    bgp::AttrStore store;
    RecordingSink sink;
    DummyDataplaneDriver* ipvpn = nullptr;
    DummyDataplaneDriver* evpn = nullptr;
    std::unique_ptr<VpnManager> manager;
};

// Re-encodes an announced route as an UPDATE (2-octet AS, like the original)
// and decodes it.
bgp::UpdateMessage AsUpdate(const RecordingSink::Entry& e) {
    bgp::SessionContext ctx;
    ctx.asn4 = false;
    bgp::Bytes bytes;
    bgp::PackAnnouncements(e.attrs, e.family, e.next_hop, e.nlri, ctx, bytes);
    auto r = bgp::DecodeMessage(bytes, ctx);
    EXPECT_FALSE(r.error.has_value());
    return std::get<bgp::UpdateMessage>(*r.message);
}

bgp::UpdateMessage Decode(std::string_view hex) {
    bgp::SessionContext ctx;
    ctx.asn4 = false;
    const bgp::Bytes b = FromHex(hex);
    auto r = bgp::DecodeMessage(b, ctx);
    EXPECT_FALSE(r.error.has_value());
    return std::get<bgp::UpdateMessage>(*r.message);
}

// The reference's captured UPDATEs (bagpipe-bgp.md §7), produced by the
// original for the same attach requests.
constexpr std::string_view kRefType3 =
    "ffffffffffffffffffffffffffffffff0063020000004c4001010040020040050400000064c01010030c000000000008"
    "0002fc0000000201c0160900060000107f000101800e1c001946047f00010100031100017f000101000000000000207f"
    "000101";
constexpr std::string_view kRefType2 =
    "ffffffffffffffffffffffffffffffff006b02000000544001010040020040050400000064c01010030c000000000008"
    "0002fc0000000201800e30001946047f00010100022500017f0001010000000000000000000000000000000030525400"
    "aabb01200a000101000010";
constexpr std::string_view kRefVpnv4 =
    "ffffffffffffffffffffffffffffffff005c020000004540010100400200400504000000c8c01010030c00000000000a"
    "0002fc0000000200800e210001800c00000000000000007f000101007800013100017f00010100020a000001";
constexpr std::string_view kRefRtc =
    "ffffffffffffffffffffffffffffffff003e02000000274001010040020040050400000064800e16000184047f000101"
    "00600000fc000002fc0000000200";

TEST_F(VpnManagerTest, EvpnAttachOriginatesTheOriginalsRoutes) {
    ASSERT_FALSE(manager->Attach(EvpnParams()).has_value());
    const auto evpn_routes = sink.Of(Family::kL2vpnEvpn);
    ASSERT_EQ(evpn_routes.size(), 2u);
    // Same instance numbering as the original's first instance (VNI 16, RD
    // 127.0.1.1:0), so the routes are identical to the captured ones.
    EXPECT_EQ(AsUpdate(evpn_routes[0]), Decode(kRefType3));
    EXPECT_EQ(AsUpdate(evpn_routes[1]), Decode(kRefType2));
    const auto rtc = sink.Of(Family::kIpv4Rtc);
    ASSERT_EQ(rtc.size(), 1u);
    EXPECT_EQ(First<bgp::RtcNlri>(rtc[0].nlri).route_target, Rt(64512, 513));
    // The driver saw the instance and the port.
    auto* dp = evpn->FindInstance("evpn-test");
    ASSERT_NE(dp, nullptr);
    EXPECT_EQ(dp->config().instance_label, 16u);
    EXPECT_EQ(dp->ports().size(), 1u);
    EXPECT_EQ(evpn->CallsTo(dataplane::DummyMethod::kVifPlugged).size(), 1u);
}

TEST_F(VpnManagerTest, IpvpnAttachOriginatesTheOriginalsRoutes) {
    // The original's VRF was its second instance: take the same numbers by
    // creating (and keeping) an E-VPN instance first.
    ASSERT_FALSE(manager->Attach(EvpnParams()).has_value());
    ASSERT_FALSE(manager->Attach(IpvpnParams()).has_value());
    const auto vpn = sink.Of(Family::kIpv4Vpn);
    ASSERT_EQ(vpn.size(), 1u);
    bgp::UpdateMessage ours = AsUpdate(vpn[0]);
    bgp::UpdateMessage ref = Decode(kRefVpnv4);
    // Labels and RDs are numbered differently (ours: VRF RD :1, label 19 as
    // the original's allocation order of instance then port labels).
    auto& on = std::get<std::vector<bgp::VpnNlri>>(ours.attributes.mp_reach.nlri).front();
    auto& rn = std::get<std::vector<bgp::VpnNlri>>(ref.attributes.mp_reach.nlri).front();
    EXPECT_EQ(on.prefix, rn.prefix);
    EXPECT_EQ(on.rd.ToString(), "127.0.1.1:1");
    EXPECT_EQ(rn.rd.ToString(), "127.0.1.1:2");
    EXPECT_EQ(bgp::LabelFromField(on.labels.front()), 19u);
    EXPECT_EQ(bgp::LabelFromField(rn.labels.front()), 19u);
    on.rd = rn.rd;
    EXPECT_EQ(ours, ref);
    // RTC for both route targets, as the original.
    const auto rtc = sink.Of(Family::kIpv4Rtc);
    ASSERT_EQ(rtc.size(), 2u);
    RecordingSink::Entry rtc512 = rtc[1];
    EXPECT_EQ(AsUpdate(rtc512), Decode(kRefRtc));
}

TEST_F(VpnManagerTest, RemoteEvpnRoutesProgramTheDriver) {
    ASSERT_FALSE(manager->Attach(EvpnParams()).has_value());
    const auto vxlan = bgp::ExtCommunity::Encapsulation(8);
    auto t2 = Remote(MacIpRoute(*bgp::RouteDistinguisher::Parse("127.0.1.3:2"), Mac("52:54:00:00:00:02"),
                                Ip("10.0.1.2"), 5000),
                     {Rt(64512, 513), vxlan}, "127.0.1.3");
    auto t3 = Remote(InclusiveMulticastRoute(*bgp::RouteDistinguisher::Parse("127.0.1.3:2"), Ip("127.0.1.3")),
                     {Rt(64512, 513), vxlan}, "127.0.1.3", IngressReplication(5000, Ip("127.0.1.3")));
    // Not imported: another route target.
    auto other = Remote(MacIpRoute(*bgp::RouteDistinguisher::Parse("127.0.1.3:3"), Mac("52:54:00:00:00:09"),
                                   {}, 6000),
                        {Rt(64512, 999), vxlan}, "127.0.1.3");
    Feed({t2, t3, other});
    auto* dp = evpn->FindInstance("evpn-test");
    auto remotes = dp->RemoteEndpointsFor(Mac("52:54:00:00:00:02"));
    ASSERT_EQ(remotes.size(), 1u);
    EXPECT_EQ(remotes[0].remote_pe, Ip("127.0.1.3"));
    EXPECT_EQ(remotes[0].label, 5000u);
    EXPECT_EQ(remotes[0].ip, Ip("10.0.1.2"));
    EXPECT_TRUE(remotes[0].encaps.contains(dataplane::Encapsulation::kVxlan));
    ASSERT_EQ(dp->bum_endpoints().size(), 1u);
    EXPECT_EQ(dp->bum_endpoints().begin()->second.vni, 5000u);
    EXPECT_TRUE(dp->RemoteEndpointsFor(Mac("52:54:00:00:00:09")).empty());

    Feed({Gone(t2), Gone(t3)});
    EXPECT_TRUE(dp->RemoteEndpointsFor(Mac("52:54:00:00:00:02")).empty());
    EXPECT_TRUE(dp->bum_endpoints().empty());
}

TEST_F(VpnManagerTest, RouteWithoutCommonEncapsulationIsIgnored) {
    ASSERT_FALSE(manager->Attach(EvpnParams()).has_value());
    // MPLS only: the dummy E-VPN driver does VXLAN only.
    auto t2 = Remote(MacIpRoute(*bgp::RouteDistinguisher::Parse("127.0.1.3:2"), Mac("52:54:00:00:00:02"),
                                {}, 5000),
                     {Rt(64512, 513), bgp::ExtCommunity::Encapsulation(10)}, "127.0.1.3");
    Feed({t2});
    EXPECT_TRUE(evpn->FindInstance("evpn-test")->RemoteEndpointsFor(Mac("52:54:00:00:00:02")).empty());
    EXPECT_EQ(manager->Find("evpn-test")->encap_mismatches(), 1u);
}

TEST_F(VpnManagerTest, MacMobilityHighestSequenceWinsAndLocalAttachOutbids) {
    ASSERT_FALSE(manager->Attach(EvpnParams()).has_value());
    const auto vxlan = bgp::ExtCommunity::Encapsulation(8);
    const auto mac = Mac("52:54:00:00:00:07");
    auto from_b = Remote(MacIpRoute(*bgp::RouteDistinguisher::Parse("127.0.1.2:1"), mac, {}, 100),
                         {Rt(64512, 513), vxlan}, "127.0.1.2");
    auto from_c = Remote(MacIpRoute(*bgp::RouteDistinguisher::Parse("127.0.1.3:1"), mac, {}, 100),
                         {Rt(64512, 513), vxlan, bgp::ExtCommunity::MacMobility(1, false)}, "127.0.1.3");
    Feed({from_b, from_c});
    auto* dp = evpn->FindInstance("evpn-test");
    auto r = dp->RemoteEndpointsFor(mac);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].remote_pe, Ip("127.0.1.3"));  // sequence 1 beats 0 (and the lower next hop)

    // The MAC comes here: our route carries sequence 2, and the remote entry
    // is no longer programmed while the port is local.
    ASSERT_FALSE(manager->Attach(EvpnParams("52:54:00:00:00:07", "", 0)).has_value());
    const auto ours = sink.Of(Family::kL2vpnEvpn).back();
    uint32_t seq = 0;
    for (const auto& c : ours.attrs.ext_communities)
        if (c.is_mac_mobility()) seq = c.mac_mobility_sequence();
    EXPECT_EQ(seq, 2u);
    EXPECT_TRUE(dp->RemoteEndpointsFor(mac).empty());

    // It leaves again: the best remote is programmed again.
    AttachParams d = EvpnParams("52:54:00:00:00:07", "", 0);
    ASSERT_FALSE(manager->Detach(d).has_value());
    ASSERT_EQ(dp->RemoteEndpointsFor(mac).size(), 1u);
}

TEST_F(VpnManagerTest, VrfBestPathAndEcmp) {
    ASSERT_FALSE(manager->Attach(IpvpnParams()).has_value());
    const auto mpls = bgp::ExtCommunity::Encapsulation(10);
    auto prefix = *bgp::Prefix::Parse("10.0.0.2/32");
    auto a = RemoteVpn(VpnRoute(*bgp::RouteDistinguisher::Parse("127.0.1.3:1"), prefix, 100),
                       {Rt(64512, 512), mpls}, "127.0.1.3");
    auto b = RemoteVpn(VpnRoute(*bgp::RouteDistinguisher::Parse("127.0.1.4:1"), prefix, 200),
                       {Rt(64512, 512), mpls}, "127.0.1.4");
    Feed({b, a});
    auto* dp = ipvpn->FindInstance("ipvpn-test");
    auto r = dp->RemoteEndpointsFor(prefix);
    ASSERT_EQ(r.size(), 1u);  // no ECMP in the dummy driver: the lowest next hop
    EXPECT_EQ(r[0].remote_pe, Ip("127.0.1.3"));
    EXPECT_EQ(r[0].label, 100u);
    // A higher LOCAL_PREF wins; the replaced endpoint is removed.
    auto b2 = RemoteVpn(VpnRoute(*bgp::RouteDistinguisher::Parse("127.0.1.4:1"), prefix, 200),
                        {Rt(64512, 512), mpls}, "127.0.1.4", 300);
    Feed({b2});
    r = dp->RemoteEndpointsFor(prefix);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].remote_pe, Ip("127.0.1.4"));

    // With an ECMP driver both equal routes are programmed.
    auto opts = DummyDriverOptions::Defaults(VpnType::kIpVpn, Ip("127.0.1.1"));
    opts.ecmp = true;
    Make(opts);
    ASSERT_FALSE(manager->Attach(IpvpnParams()).has_value());
    Feed({a, b});
    EXPECT_EQ(ipvpn->FindInstance("ipvpn-test")->RemoteEndpointsFor(prefix).size(), 2u);
}

TEST_F(VpnManagerTest, ErrorsAreClientErrors) {
    ASSERT_FALSE(manager->Attach(EvpnParams()).has_value());
    // Same id, other type.
    AttachParams wrong = IpvpnParams();
    wrong.vpn_instance_id = "evpn-test";
    auto e = manager->Attach(wrong);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->status, 400);
    // Same IP, other MAC, whatever the prefix length (the original's bug 5).
    AttachParams other = EvpnParams("52:54:00:aa:bb:99", "10.0.1.1", 32);
    other.local_port.linuxif = "tap-evpn2";
    e = manager->Attach(other);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->status, 400);
    EXPECT_NE(e->message.find("already bound"), std::string::npos);
    // Same MAC on another port.
    AttachParams moved = EvpnParams("52:54:00:aa:bb:01", "10.0.1.5", 24);
    moved.local_port.linuxif = "tap-other";
    e = manager->Attach(moved);
    ASSERT_TRUE(e);
    EXPECT_NE(e->message.find("two different ports"), std::string::npos);
    // Unsupported direction.
    AttachParams dir = EvpnParams("52:54:00:aa:bb:03", "10.0.1.3", 24);
    dir.direction = dataplane::Direction::kToPort;
    e = manager->Attach(dir);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message, "Unsupported direction: to-port");
    // Detach of what is not attached.
    e = manager->Detach(EvpnParams("52:54:00:aa:bb:04", "10.0.1.4", 24));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->status, 400);
    AttachParams unknown = EvpnParams();
    unknown.vpn_instance_id = "nope";
    e = manager->Detach(unknown);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message, "VPN nope could not be found");
    // Forced VNI used twice.
    AttachParams v1 = EvpnParams("52:54:00:00:01:01", "", 0);
    v1.vpn_instance_id = "v1";
    v1.vni = 5000;
    ASSERT_FALSE(manager->Attach(v1).has_value());
    AttachParams v2 = v1;
    v2.vpn_instance_id = "v2";
    e = manager->Attach(v2);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message, "A VPN instance using vni 5000 already exists.");
    // A forced VNI equal to an allocated label.
    AttachParams v3 = v1;
    v3.vpn_instance_id = "v3";
    v3.vni = 16;
    e = manager->Attach(v3);
    ASSERT_TRUE(e);
    EXPECT_EQ(manager->Find("v3"), nullptr);  // a failed first attach leaves nothing
}

TEST_F(VpnManagerTest, IdempotentReattachAndLiveRouteTargets) {
    ASSERT_FALSE(manager->Attach(EvpnParams()).has_value());
    const size_t before = sink.log.size();
    ASSERT_FALSE(manager->Attach(EvpnParams()).has_value());
    EXPECT_EQ(sink.log.size(), before);  // nothing re-announced
    // New export RT: every route re-announced with it; new import RT: RTC.
    AttachParams p = EvpnParams();
    p.export_rts = {Rt(64512, 600)};
    p.import_rts = {Rt(64512, 513), Rt(64512, 601)};
    ASSERT_FALSE(manager->Attach(p).has_value());
    const auto routes = sink.Of(Family::kL2vpnEvpn);
    ASSERT_EQ(routes.size(), 4u);
    for (size_t i = 2; i < 4; ++i) {
        const auto& ext = routes[i].attrs.ext_communities;
        EXPECT_NE(std::find(ext.begin(), ext.end(), Rt(64512, 600)), ext.end());
        EXPECT_EQ(std::find(ext.begin(), ext.end(), Rt(64512, 513)), ext.end());
    }
    EXPECT_EQ(sink.Of(Family::kIpv4Rtc).size(), 2u);
    // Dropping an import RT withdraws its RTC route.
    p.import_rts = {Rt(64512, 601)};
    ASSERT_FALSE(manager->Attach(p).has_value());
    const auto rtc_gone = sink.Of(Family::kIpv4Rtc, false);
    ASSERT_EQ(rtc_gone.size(), 1u);
    EXPECT_EQ(First<bgp::RtcNlri>(rtc_gone[0].nlri).route_target, Rt(64512, 513));
}

// Two subnets on one network (OpenStack): the second attach's gateway_ip
// reaches the driver with its own endpoint (LocalPort::gateway), on plug and
// unplug; the instance keeps the first as gateway_ip() and lists both.
TEST_F(VpnManagerTest, EachAttachKeepsItsGateway) {
    ASSERT_FALSE(manager->Attach(IpvpnParams()).has_value());
    AttachParams second = IpvpnParams("52:54:00:aa:bb:03", "10.0.5.1", 24);
    second.local_port.linuxif = "tap-ipvpn2";
    second.gateway_ip = Ip("10.0.5.254");
    ASSERT_FALSE(manager->Attach(second).has_value());
    auto plugs = ipvpn->CallsTo(dataplane::DummyMethod::kVifPlugged);
    ASSERT_EQ(plugs.size(), 2u);
    auto gw = [](const dataplane::DummyCall* c) { return std::get<dataplane::DummyVifArgs>(c->args).port.gateway; };
    EXPECT_EQ(gw(plugs[0]), (bgp::Prefix{Ip("10.0.0.254"), 24}));
    EXPECT_EQ(gw(plugs[1]), (bgp::Prefix{Ip("10.0.5.254"), 24}));
    const VpnInstance* inst = manager->Find("ipvpn-test");
    ASSERT_NE(inst, nullptr);
    EXPECT_EQ(inst->gateway_ip(), Ip("10.0.0.254"));
    EXPECT_EQ(inst->gateway_ips(), (std::vector<bgp::IpAddress>{Ip("10.0.0.254"), Ip("10.0.5.254")}));
    ASSERT_FALSE(manager->Detach(second).has_value());
    auto unplugs = ipvpn->CallsTo(dataplane::DummyMethod::kVifUnplugged);
    ASSERT_EQ(unplugs.size(), 1u);
    EXPECT_EQ(gw(unplugs[0]), (bgp::Prefix{Ip("10.0.5.254"), 24}));
    EXPECT_EQ(inst->gateway_ips(), (std::vector<bgp::IpAddress>{Ip("10.0.0.254")}));
}

TEST_F(VpnManagerTest, LastDetachStopsTheInstance) {
    ASSERT_FALSE(manager->Attach(EvpnParams()).has_value());
    ASSERT_FALSE(manager->Attach(EvpnParams("52:54:00:aa:bb:05", "10.0.1.5", 24)).has_value());
    const auto vxlan = bgp::ExtCommunity::Encapsulation(8);
    Feed({Remote(MacIpRoute(*bgp::RouteDistinguisher::Parse("127.0.1.3:2"), Mac("52:54:00:00:00:02"), {}, 5000),
                 {Rt(64512, 513), vxlan}, "127.0.1.3")});
    ASSERT_FALSE(manager->Detach(EvpnParams()).has_value());
    EXPECT_NE(manager->Find("evpn-test"), nullptr);
    EXPECT_EQ(manager->labels().size(), 2u);  // VNI + the remaining MAC
    // E-VPN wildcard detach (no IP).
    AttachParams d = EvpnParams("52:54:00:aa:bb:05", "", 0);
    ASSERT_FALSE(manager->Detach(d).has_value());
    EXPECT_EQ(manager->Find("evpn-test"), nullptr);
    EXPECT_EQ(manager->size(), 0u);
    EXPECT_EQ(manager->labels().size(), 0u);
    EXPECT_EQ(manager->rds().size(), 0u);
    EXPECT_TRUE(manager->rtc_refs().empty());
    // Every announced route was withdrawn.
    EXPECT_EQ(sink.Of(Family::kL2vpnEvpn, false).size(), 3u);
    EXPECT_EQ(sink.Of(Family::kIpv4Rtc, false).size(), 1u);
    EXPECT_EQ(evpn->CallsTo(dataplane::DummyMethod::kCleanup).size(), 1u);
    // The imported state is gone with it: a later withdrawal is harmless.
    Feed({Gone(Remote(MacIpRoute(*bgp::RouteDistinguisher::Parse("127.0.1.3:2"), Mac("52:54:00:00:00:02"), {}, 5000),
                      {Rt(64512, 513), vxlan}, "127.0.1.3"))});
}

TEST_F(VpnManagerTest, AdvertiseSubnetUsesItsOwnRd) {
    AttachParams p = IpvpnParams();
    p.advertise_subnet = true;
    ASSERT_FALSE(manager->Attach(p).has_value());
    const auto vpn = sink.Of(Family::kIpv4Vpn);
    ASSERT_EQ(vpn.size(), 1u);
    const auto& n = First<bgp::VpnNlri>(vpn[0].nlri);
    EXPECT_EQ(n.prefix.ToString(), "10.0.0.0/24");
    EXPECT_NE(n.rd, manager->Find("ipvpn-test")->rd());
}

TEST_F(VpnManagerTest, ReadvertiseTowardsToRtPerEndpoint) {
    AttachParams p = IpvpnParams();
    p.readvertise = Readvertise{{Rt(64512, 700)}, {Rt(64512, 701)}};
    ASSERT_FALSE(manager->Attach(p).has_value());
    // Subscribed (RTC) to the import RT and to from_rt.
    EXPECT_EQ(manager->rtc_refs().count(Rt(64512, 700)), 1u);
    const auto mpls = bgp::ExtCommunity::Encapsulation(10);
    auto prefix = *bgp::Prefix::Parse("192.0.2.0/24");
    auto r = RemoteVpn(VpnRoute(*bgp::RouteDistinguisher::Parse("127.0.1.9:1"), prefix, 300),
                       {Rt(64512, 700), mpls}, "127.0.1.9");
    const size_t before = sink.Of(Family::kIpv4Vpn).size();
    Feed({r});
    // Not imported into the dataplane (700 is not an import RT)...
    EXPECT_TRUE(ipvpn->FindInstance("ipvpn-test")->RemoteEndpointsFor(prefix).empty());
    // ...but re-advertised towards 701, with this VRF's port label, its own
    // RD and the original RT as RT-record.
    auto vpn = sink.Of(Family::kIpv4Vpn);
    ASSERT_EQ(vpn.size(), before + 1);
    const auto& n = First<bgp::VpnNlri>(vpn.back().nlri);
    EXPECT_EQ(n.prefix, prefix);
    EXPECT_EQ(bgp::LabelFromField(n.labels.front()), *manager->Find("ipvpn-test")->MacLabel(p.mac));
    const auto& ext = vpn.back().attrs.ext_communities;
    EXPECT_NE(std::find(ext.begin(), ext.end(), Rt(64512, 701)), ext.end());
    EXPECT_NE(std::find(ext.begin(), ext.end(), RtRecordOf(Rt(64512, 700))), ext.end());
    EXPECT_EQ(manager->Find("ipvpn-test")->readvertised().size(), 1u);
    // A route already re-advertised towards 701 is not re-advertised again.
    auto looped = RemoteVpn(VpnRoute(*bgp::RouteDistinguisher::Parse("127.0.1.8:1"),
                                     *bgp::Prefix::Parse("198.51.100.0/24"), 300),
                            {Rt(64512, 700), RtRecordOf(Rt(64512, 701)), mpls}, "127.0.1.8");
    Feed({looped});
    EXPECT_EQ(manager->Find("ipvpn-test")->readvertised().size(), 1u);
    // The route goes: so does its re-advertisement.
    Feed({Gone(r)});
    EXPECT_TRUE(manager->Find("ipvpn-test")->readvertised().empty());
    EXPECT_EQ(sink.Of(Family::kIpv4Vpn, false).size(), 1u);
}

TEST_F(VpnManagerTest, EvpnToIpvpnStitching) {
    ASSERT_FALSE(manager->Attach(EvpnParams()).has_value());
    AttachParams v = IpvpnParams();
    v.local_port = LocalPortSpec{};
    v.local_port.evpn = EvpnStitch{"evpn-test", ""};
    // An unknown EVI is a client error.
    AttachParams bad = v;
    bad.local_port.evpn->id = "nope";
    auto e = manager->Attach(bad);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->status, 400);
    EXPECT_EQ(manager->Find("ipvpn-test"), nullptr);

    ASSERT_FALSE(manager->Attach(v).has_value());
    const VpnInstance* evi = manager->Find("evpn-test");
    const VpnInstance* vrf = manager->Find("ipvpn-test");
    ASSERT_TRUE(evi->gateway_port().has_value());
    EXPECT_EQ(evi->gateway_port()->interface, "evpn1-ipvpn2");
    EXPECT_EQ(evi->gateway_port()->gateway_ip, Ip("10.0.0.254"));
    EXPECT_EQ(vrf->ports().count("ipvpn2-evpn1"), 1u);
    auto* edp = evpn->FindInstance("evpn-test");
    ASSERT_TRUE(edp->gateway_port().has_value());
    EXPECT_EQ(edp->gateway_port()->linuxif, "evpn1-ipvpn2");
    // The VRF's last endpoint behind the EVI leaves: the gateway port goes.
    ASSERT_FALSE(manager->Detach(v).has_value());
    EXPECT_FALSE(evi->gateway_port().has_value());
    EXPECT_FALSE(edp->gateway_port().has_value());
    EXPECT_EQ(manager->Find("ipvpn-test"), nullptr);
}

TEST_F(VpnManagerTest, AttractTrafficFlowspecRedirect) {
    // The service VRF: re-advertises what carries 700 as a FlowSpec redirect.
    AttachParams svc = IpvpnParams();
    svc.vpn_instance_id = "svc";
    svc.readvertise = Readvertise{{Rt(64512, 700)}, {Rt(64512, 701)}};
    AttractTraffic at;
    at.redirect_rts = {Rt(64512, 702)};
    at.classifier.protocol = 6;
    at.classifier.destination_port = dataplane::PortRange{80, 80};
    at.to_rts = {Rt(64512, 701)};
    svc.attract_traffic = at;
    ASSERT_FALSE(manager->Attach(svc).has_value());
    const auto mpls = bgp::ExtCommunity::Encapsulation(10);
    auto prefix = *bgp::Prefix::Parse("192.0.2.0/24");
    auto r = RemoteVpn(VpnRoute(*bgp::RouteDistinguisher::Parse("127.0.1.9:1"), prefix, 300),
                       {Rt(64512, 700), mpls}, "127.0.1.9");
    Feed({r});
    const auto flows = sink.Of(Family::kIpv4FlowspecVpn);
    ASSERT_EQ(flows.size(), 1u);
    std::string error;
    auto rule = bgp::DecodeFlowspecVpn(First<bgp::OpaqueNlri>(flows[0].nlri).raw, error);
    ASSERT_TRUE(rule) << error;
    EXPECT_EQ(rule->destination, prefix);
    EXPECT_EQ(bgp::AsSimpleRange(rule->destination_ports)->min, 80u);
    const auto& fext = flows[0].attrs.ext_communities;
    EXPECT_NE(std::find(fext.begin(), fext.end(), Rt(64512, 702)), fext.end());
    // The default route towards 701, from the service port (not the prefix).
    const auto vpn = sink.Of(Family::kIpv4Vpn);
    ASSERT_FALSE(vpn.empty());
    EXPECT_EQ(First<bgp::VpnNlri>(vpn.back().nlri).prefix.ToString(), "0.0.0.0/0");
    for (const auto& e : vpn) EXPECT_NE(First<bgp::VpnNlri>(e.nlri).prefix, prefix);

    // A VRF importing 702 gets the rule: a classifier redirecting to a new
    // redirect instance that imports 701.
    AttachParams client = IpvpnParams("52:54:00:aa:bb:07", "10.9.0.1", 24);
    client.vpn_instance_id = "client";
    client.local_port.linuxif = "tap-client";
    client.import_rts = {Rt(64512, 702)};
    client.export_rts = {Rt(64512, 703)};
    ASSERT_FALSE(manager->Attach(client).has_value());
    bgp::LocRibChange flow;
    flow.family = Family::kIpv4FlowspecVpn;
    flow.key = *bgp::KeyOf(Family::kIpv4FlowspecVpn, First<bgp::OpaqueNlri>(flows[0].nlri));
    flow.peer = 1;
    flow.attrs = store.Intern(flows[0].attrs, bgp::NextHop{});
    Feed({flow});
    const VpnInstance* redirect = manager->Find("redirect-to-ipvpn-64512_701");
    ASSERT_NE(redirect, nullptr);
    EXPECT_EQ(redirect->import_rts(), std::vector<bgp::ExtCommunity>{Rt(64512, 701)});
    auto* cdp = ipvpn->FindInstance("client");
    ASSERT_EQ(cdp->classifiers().size(), 1u);
    EXPECT_EQ(cdp->classifiers().begin()->second, redirect->id());
    EXPECT_EQ(cdp->classifiers().begin()->first.destination_prefix, prefix);
    EXPECT_EQ(cdp->classifiers().begin()->first.protocol, 6);
    // The rule goes: so do the classifier and the redirect instance.
    Feed({Gone(flow)});
    EXPECT_TRUE(cdp->classifiers().empty());
    EXPECT_EQ(manager->Find("redirect-to-ipvpn-64512_701"), nullptr);
    // The re-advertised route goes: the FlowSpec and default routes are withdrawn.
    Feed({Gone(r)});
    EXPECT_EQ(sink.Of(Family::kIpv4FlowspecVpn, false).size(), 1u);
    EXPECT_TRUE(manager->Find("svc")->readvertised().empty());
}

TEST_F(VpnManagerTest, IpvpnOverVxlanAdvertisesType5WithRoutersMac) {
    auto opts = DummyDriverOptions::Defaults(VpnType::kIpVpn, Ip("127.0.1.1"));
    opts.encaps = {dataplane::Encapsulation::kVxlan};
    opts.router_mac = Mac("02:00:00:00:00:01");
    Make(opts);
    ASSERT_FALSE(manager->Attach(IpvpnParams()).has_value());
    EXPECT_TRUE(sink.Of(Family::kIpv4Vpn).empty());  // VXLAN only: no VPNv4 route
    const auto evpn_routes = sink.Of(Family::kL2vpnEvpn);
    ASSERT_EQ(evpn_routes.size(), 1u);
    const auto& n = First<bgp::EvpnNlri>(evpn_routes[0].nlri);
    EXPECT_EQ(n.route_type, 5);
    EXPECT_EQ(n.prefix.ToString(), "10.0.0.1/32");
    EXPECT_EQ(n.labels.front(), manager->Find("ipvpn-test")->instance_label());  // the VNI, unshifted
    const auto& ext = evpn_routes[0].attrs.ext_communities;
    EXPECT_NE(std::find(ext.begin(), ext.end(), bgp::ExtCommunity::RoutersMac(Mac("02:00:00:00:00:01"))),
              ext.end());
    EXPECT_NE(std::find(ext.begin(), ext.end(), bgp::ExtCommunity::Encapsulation(8)), ext.end());
    // A remote type 5 route is imported as the VRF's prefix.
    auto r = Remote(IpPrefixRoute(*bgp::RouteDistinguisher::Parse("127.0.1.3:1"), *bgp::Prefix::Parse("10.0.0.9/32"), 7000),
                    {Rt(64512, 512), bgp::ExtCommunity::Encapsulation(8),
                     bgp::ExtCommunity::RoutersMac(Mac("02:00:00:00:00:03"))},
                    "127.0.1.3");
    Feed({r});
    auto remotes = ipvpn->FindInstance("ipvpn-test")->RemoteEndpointsFor(*bgp::Prefix::Parse("10.0.0.9/32"));
    ASSERT_EQ(remotes.size(), 1u);
    EXPECT_EQ(remotes[0].label, 7000u);
    // The remote router's MAC reaches the driver (the inner destination MAC).
    EXPECT_EQ(remotes[0].router_mac, Mac("02:00:00:00:00:03"));
}

TEST(IdentifierAllocator, OriginalOrderAndLateReuse) {
    IdentifierAllocator a(16, 18);
    EXPECT_EQ(a.Allocate("a"), 16u);
    EXPECT_EQ(a.Allocate("b"), 17u);
    a.Release(16);
    EXPECT_EQ(a.Allocate("c"), 18u);  // the counter first
    EXPECT_EQ(a.Allocate("d"), 16u);  // then the freed ones
    EXPECT_FALSE(a.Allocate("e").has_value());
    EXPECT_FALSE(a.Reserve(17, "x"));
    a.Release(17);
    EXPECT_TRUE(a.Reserve(17, "x"));
    EXPECT_FALSE(a.Reserve(99, "out of range"));
}

}  // namespace
}  // namespace bagpipe::vpn
