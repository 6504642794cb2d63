// The dummy dataplane driver: recorded state after call sequences
// (plug/unplug, remote and BUM endpoints, classifiers, idempotent repeats,
// cleanup), contract checks, the bounded call log and the JSON shapes.
#include "dataplane/dummy/dummy_driver.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "dataplane_test_util.h"

namespace bagpipe::dataplane {
namespace {

using test::Bum;
using test::Ip;
using test::Mac;
using test::MacRoute;
using test::Pfx;
using test::Port;
using test::VpnRoute;

// A started driver (ResetState + Initialize, as the VPN manager does) and
// one instance of it.
struct Started {
    std::unique_ptr<DummyDataplaneDriver> driver;
    std::unique_ptr<VpnInstanceDataplane> owned;
    DummyInstanceDataplane* instance = nullptr;
};

Started Start(DummyDriverOptions options, uint32_t id = 1, std::string_view external = "vpn-a",
              uint32_t label = 16) {
    Started s;
    s.driver = std::make_unique<DummyDataplaneDriver>(std::move(options));
    EXPECT_TRUE(s.driver->ResetState().ok());
    EXPECT_TRUE(s.driver->Initialize().ok());
    auto r = s.driver->CreateInstance(test::Instance(id, external, label));
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (r.ok()) {
        s.owned = std::move(r).value();
        s.instance = dynamic_cast<DummyInstanceDataplane*>(s.owned.get());
    }
    return s;
}

Started StartIpVpn() {
    return Start(DummyDriverOptions::Defaults(VpnType::kIpVpn, Ip("127.0.1.1")));
}
Started StartEvpn() {
    return Start(DummyDriverOptions::Defaults(VpnType::kEvpn, Ip("127.0.1.1")));
}

TEST(DummyDriver, OriginalDefaults) {
    DummyDataplaneDriver ipvpn(DummyDriverOptions::Defaults(VpnType::kIpVpn, Ip("127.0.1.1")));
    EXPECT_EQ(ipvpn.type(), VpnType::kIpVpn);
    EXPECT_EQ(ipvpn.name(), "dummy");
    EXPECT_EQ(ipvpn.SupportedEncapsulations(),
              (EncapsulationSet{Encapsulation::kDefault, Encapsulation::kMpls}));
    EXPECT_FALSE(ipvpn.EcmpSupport());
    EXPECT_FALSE(ipvpn.NeedsCleanupAssist());
    EXPECT_EQ(ipvpn.LocalAddress(), Ip("127.0.1.1"));

    DummyDataplaneDriver evpn(DummyDriverOptions::Defaults(VpnType::kEvpn));
    EXPECT_EQ(evpn.SupportedEncapsulations(), EncapsulationSet{Encapsulation::kVxlan});
    EXPECT_FALSE(evpn.EcmpSupport());
}

TEST(DummyDriver, DirectionValidation) {
    DummyDataplaneDriver d(DummyDriverOptions::Defaults(VpnType::kIpVpn));
    EXPECT_TRUE(d.ValidateDirection(Direction::kBoth).ok());
    DataplaneStatus s = d.ValidateDirection(Direction::kToPort);
    EXPECT_EQ(s.code(), DataplaneErrorCode::kInvalidArgument);
    EXPECT_EQ(s.message(), "Unsupported direction: to-port");  // the original's 400 text
    EXPECT_EQ(d.ValidateDirection(Direction::kFromPort).message(),
              "Unsupported direction: from-port");

    DummyDriverOptions all = DummyDriverOptions::Defaults(VpnType::kIpVpn);
    all.directions = {Direction::kBoth, Direction::kToPort, Direction::kFromPort};
    DummyDataplaneDriver ovs_like(all);
    EXPECT_TRUE(ovs_like.ValidateDirection(Direction::kToPort).ok());
    EXPECT_TRUE(ovs_like.ValidateDirection(Direction::kFromPort).ok());
}

TEST(DummyDriver, CreateInstanceNeedsInitialize) {
    DummyDataplaneDriver d(DummyDriverOptions::Defaults(VpnType::kEvpn));
    auto r = d.CreateInstance(test::Instance(1, "evpn-a", 16));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), DataplaneErrorCode::kFailedPrecondition);
    EXPECT_EQ(d.FindInstance(1), nullptr);

    ASSERT_TRUE(d.Initialize().ok());
    auto ok = d.CreateInstance(test::Instance(1, "evpn-a", 16));
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(d.FindInstance(1), ok.value().get());
    EXPECT_EQ(d.FindInstance("evpn-a"), ok.value().get());

    // The same live id twice is a VPN layer bug.
    auto dup = d.CreateInstance(test::Instance(1, "evpn-b", 17));
    EXPECT_EQ(dup.status().code(), DataplaneErrorCode::kFailedPrecondition);
    // VNI out of 24 bits.
    auto big = d.CreateInstance(test::Instance(2, "evpn-c", bgp::kMaxVni + 1));
    EXPECT_EQ(big.status().code(), DataplaneErrorCode::kInvalidArgument);

    // Destroying an instance unregisters it.
    ok.value().reset();
    EXPECT_EQ(d.FindInstance(1), nullptr);
    EXPECT_TRUE(d.instances().empty());
}

TEST(DummyDriver, IpVpnLabelRange) {
    DummyDataplaneDriver d(DummyDriverOptions::Defaults(VpnType::kIpVpn));
    ASSERT_TRUE(d.Initialize().ok());
    EXPECT_FALSE(d.CreateInstance(test::Instance(1, "v", bgp::kMaxMplsLabel + 1)).ok());
    EXPECT_TRUE(d.CreateInstance(test::Instance(1, "v", bgp::kMaxMplsLabel)).ok());
    EXPECT_EQ(d.CreateInstance(test::Instance(0, "zero", 20)).status().code(),
              DataplaneErrorCode::kInvalidArgument);
}

TEST(DummyDriver, PlugUnplugState) {
    Started s = StartIpVpn();
    DummyInstanceDataplane& i = *s.instance;
    ASSERT_TRUE(i.VifPlugged(Mac("52:54:00:aa:bb:02"), Ip("10.0.0.1"), Port("tap-ipvpn1"), 19,
                             Direction::kBoth)
                    .ok());
    ASSERT_TRUE(i.VifPlugged(Mac("52:54:00:aa:bb:03"), Ip("10.0.0.2"), Port("tap-ipvpn2"), 20,
                             Direction::kBoth)
                    .ok());
    ASSERT_EQ(i.ports().size(), 2u);
    const DummyPlugged& p = i.ports().at(DummyLocalKey{Mac("52:54:00:aa:bb:02"), Ip("10.0.0.1")});
    EXPECT_EQ(p.port.linuxif, "tap-ipvpn1");
    EXPECT_EQ(p.label, 19u);

    // Idempotent re-plug: same state, not a change.
    ASSERT_TRUE(i.VifPlugged(Mac("52:54:00:aa:bb:02"), Ip("10.0.0.1"), Port("tap-ipvpn1"), 19,
                             Direction::kBoth)
                    .ok());
    EXPECT_EQ(i.ports().size(), 2u);
    EXPECT_FALSE(s.driver->calls().back().changed);

    // Re-plug with another port replaces.
    ASSERT_TRUE(i.VifPlugged(Mac("52:54:00:aa:bb:02"), Ip("10.0.0.1"), Port("tap-moved"), 19,
                             Direction::kBoth)
                    .ok());
    EXPECT_TRUE(s.driver->calls().back().changed);
    EXPECT_EQ(i.ports().at(DummyLocalKey{Mac("52:54:00:aa:bb:02"), Ip("10.0.0.1")}).port.linuxif,
              "tap-moved");

    ASSERT_TRUE(i.VifUnplugged(Mac("52:54:00:aa:bb:02"), Ip("10.0.0.1"), Port("tap-moved"), 19,
                               Direction::kBoth, true)
                    .ok());
    EXPECT_TRUE(s.driver->calls().back().changed);
    EXPECT_EQ(i.ports().size(), 1u);

    // Unplugging what is not plugged succeeds and changes nothing.
    ASSERT_TRUE(i.VifUnplugged(Mac("52:54:00:aa:bb:02"), Ip("10.0.0.1"), Port("tap-moved"), 19,
                               Direction::kBoth, true)
                    .ok());
    EXPECT_FALSE(s.driver->calls().back().changed);
    EXPECT_EQ(i.ports().size(), 1u);
}

TEST(DummyDriver, PlugRefusesWhatTheDriverCannotDo) {
    Started s = StartIpVpn();
    DummyInstanceDataplane& i = *s.instance;
    DataplaneStatus st = i.VifPlugged(Mac("52:54:00:aa:bb:02"), Ip("10.0.0.1"), Port("tap1"), 19,
                                      Direction::kToPort);
    EXPECT_EQ(st.message(), "Unsupported direction: to-port");
    EXPECT_EQ(i.VifPlugged(Mac("52:54:00:aa:bb:02"), bgp::IpAddress{}, Port("tap1"), 19,
                           Direction::kBoth)
                  .code(),
              DataplaneErrorCode::kInvalidArgument);  // IP-VPN needs an IP
    EXPECT_FALSE(i.VifPlugged(Mac("52:54:00:aa:bb:02"), Ip("10.0.0.1"), Port("tap1"),
                              bgp::kMaxMplsLabel + 1, Direction::kBoth)
                     .ok());
    EXPECT_TRUE(i.ports().empty());
    // Failed calls are logged with their error and no change.
    const DummyCall& last = s.driver->calls().back();
    EXPECT_FALSE(last.status.ok());
    EXPECT_FALSE(last.changed);

    // E-VPN endpoints may come without IP.
    Started e = StartEvpn();
    EXPECT_TRUE(e.instance
                    ->VifPlugged(Mac("52:54:00:aa:bb:01"), bgp::IpAddress{}, Port("tap-evpn1"),
                                 17, Direction::kBoth)
                    .ok());
    EXPECT_EQ(e.instance->ports().size(), 1u);
}

TEST(DummyDriver, IpVpnRemoteEndpoints) {
    Started s = StartIpVpn();
    DummyInstanceDataplane& i = *s.instance;
    // The original's observed call: ('10.0.0.2/32', '127.0.1.3', 100, <nlri>, {encap:MPLS}, 0).
    ASSERT_TRUE(i.SetupRemoteEndpoint(VpnRoute("10.0.0.2/32", "127.0.1.3", 100)).ok());
    ASSERT_TRUE(i.SetupRemoteEndpoint(VpnRoute("10.0.1.0/24", "127.0.1.4", 200,
                                               {Encapsulation::kDefault}))
                    .ok());
    EXPECT_EQ(i.remote_endpoints().size(), 2u);
    auto paths = i.RemoteEndpointsFor(Pfx("10.0.0.2/32"));
    ASSERT_EQ(paths.size(), 1u);
    EXPECT_EQ(paths[0].remote_pe, Ip("127.0.1.3"));
    EXPECT_EQ(paths[0].label, 100u);

    // Repeat: idempotent.
    ASSERT_TRUE(i.SetupRemoteEndpoint(VpnRoute("10.0.0.2/32", "127.0.1.3", 100)).ok());
    EXPECT_FALSE(s.driver->calls().back().changed);
    EXPECT_EQ(i.remote_endpoints().size(), 2u);

    // Same key, new attributes (hash order): replaced in place.
    RemoteEndpoint updated = VpnRoute("10.0.0.2/32", "127.0.1.3", 100);
    updated.lb_consistent_hash_order = 3;
    ASSERT_TRUE(i.SetupRemoteEndpoint(updated).ok());
    EXPECT_TRUE(s.driver->calls().back().changed);
    EXPECT_EQ(i.RemoteEndpointsFor(Pfx("10.0.0.2/32")).at(0).lb_consistent_hash_order, 3u);

    // Make-before-break: a second next hop, then removal of the first.
    ASSERT_TRUE(i.SetupRemoteEndpoint(VpnRoute("10.0.0.2/32", "127.0.1.5", 300)).ok());
    EXPECT_EQ(i.RemoteEndpointsFor(Pfx("10.0.0.2/32")).size(), 2u);
    ASSERT_TRUE(i.RemoveRemoteEndpoint(VpnRoute("10.0.0.2/32", "127.0.1.3", 100)).ok());
    paths = i.RemoteEndpointsFor(Pfx("10.0.0.2/32"));
    ASSERT_EQ(paths.size(), 1u);
    EXPECT_EQ(paths[0].remote_pe, Ip("127.0.1.5"));

    // Removing an absent endpoint (other label) is a no-op success.
    ASSERT_TRUE(i.RemoveRemoteEndpoint(VpnRoute("10.0.0.2/32", "127.0.1.5", 301)).ok());
    EXPECT_FALSE(s.driver->calls().back().changed);
    EXPECT_EQ(i.remote_endpoints().size(), 2u);
}

TEST(DummyDriver, RemoteEndpointEncapsulationAndRangeChecks) {
    Started s = StartIpVpn();
    DummyInstanceDataplane& i = *s.instance;
    DataplaneStatus st = i.SetupRemoteEndpoint(
        VpnRoute("10.0.0.2/32", "127.0.1.3", 100, {Encapsulation::kVxlan}));
    EXPECT_EQ(st.code(), DataplaneErrorCode::kInvalidArgument);
    EXPECT_NE(st.message().find("encap:VXLAN"), std::string::npos) << st.message();
    EXPECT_FALSE(i.SetupRemoteEndpoint(VpnRoute("10.0.0.2/32", "127.0.1.3", 100, {})).ok());
    EXPECT_FALSE(
        i.SetupRemoteEndpoint(VpnRoute("10.0.0.2/32", "127.0.1.3", bgp::kMaxMplsLabel + 1)).ok());
    RemoteEndpoint no_pe = VpnRoute("10.0.0.2/32", "127.0.1.3", 100);
    no_pe.remote_pe = {};
    EXPECT_FALSE(i.SetupRemoteEndpoint(no_pe).ok());
    EXPECT_TRUE(i.remote_endpoints().empty());

    // Configurable for tests: the same driver with VXLAN.
    DummyDriverOptions o = DummyDriverOptions::Defaults(VpnType::kIpVpn);
    o.encaps = {Encapsulation::kMpls, Encapsulation::kVxlan};
    Started v = Start(o);
    EXPECT_TRUE(v.instance
                    ->SetupRemoteEndpoint(
                        VpnRoute("10.0.0.2/32", "127.0.1.3", 100, {Encapsulation::kVxlan}))
                    .ok());
    // Without DEFAULT, a route without encapsulation community is refused.
    EXPECT_FALSE(v.instance
                     ->SetupRemoteEndpoint(
                         VpnRoute("10.0.0.3/32", "127.0.1.3", 100, {Encapsulation::kDefault}))
                     .ok());
}

TEST(DummyDriver, EvpnRemoteAndBumEndpoints) {
    Started s = StartEvpn();
    DummyInstanceDataplane& i = *s.instance;
    ASSERT_TRUE(
        i.SetupRemoteEndpoint(MacRoute("52:54:00:00:00:02", "127.0.1.3", 5000, "10.0.1.2")).ok());
    ASSERT_TRUE(i.AddBumEndpoint(Bum("127.0.1.3", 5000)).ok());
    ASSERT_TRUE(i.AddBumEndpoint(Bum("127.0.1.4", 5000)).ok());
    ASSERT_TRUE(i.AddBumEndpoint(Bum("127.0.1.4", 5000)).ok());  // repeat
    EXPECT_FALSE(s.driver->calls().back().changed);

    auto macs = i.RemoteEndpointsFor(Mac("52:54:00:00:00:02"));
    ASSERT_EQ(macs.size(), 1u);
    EXPECT_EQ(macs[0].ip, Ip("10.0.1.2"));
    EXPECT_EQ(macs[0].label, 5000u);
    EXPECT_EQ(i.bum_endpoints().size(), 2u);
    EXPECT_TRUE(i.bum_endpoints().count(DummyBumKey{Ip("127.0.1.4"), 5000}));

    // A VNI beyond 20 bits is fine for E-VPN, beyond 24 is not.
    EXPECT_TRUE(i.SetupRemoteEndpoint(MacRoute("52:54:00:00:00:05", "127.0.1.3", 0x123456)).ok());
    EXPECT_FALSE(
        i.SetupRemoteEndpoint(MacRoute("52:54:00:00:00:06", "127.0.1.3", bgp::kMaxVni + 1)).ok());
    EXPECT_FALSE(i.AddBumEndpoint(Bum("127.0.1.5", 5000, {Encapsulation::kMpls})).ok());

    ASSERT_TRUE(i.RemoveBumEndpoint(Bum("127.0.1.3", 5000)).ok());
    ASSERT_TRUE(i.RemoveBumEndpoint(Bum("127.0.1.3", 5000)).ok());  // absent: no-op
    EXPECT_FALSE(s.driver->calls().back().changed);
    EXPECT_EQ(i.bum_endpoints().size(), 1u);
    ASSERT_TRUE(i.RemoveRemoteEndpoint(MacRoute("52:54:00:00:00:02", "127.0.1.3", 5000)).ok());
    EXPECT_TRUE(i.RemoteEndpointsFor(Mac("52:54:00:00:00:02")).empty());
}

TEST(DummyDriver, GatewayPort) {
    Started s = StartEvpn();
    DummyInstanceDataplane& i = *s.instance;
    ASSERT_TRUE(i.SetGatewayPort("evpn1-ipvpn2", Ip("10.0.0.254")).ok());
    ASSERT_TRUE(i.gateway_port().has_value());
    EXPECT_EQ(i.gateway_port()->linuxif, "evpn1-ipvpn2");
    EXPECT_EQ(i.gateway_port()->gateway_ip, Ip("10.0.0.254"));
    ASSERT_TRUE(i.GatewayPortDown("other-if").ok());  // not that port: nothing
    EXPECT_TRUE(i.gateway_port().has_value());
    ASSERT_TRUE(i.GatewayPortDown("evpn1-ipvpn2").ok());
    EXPECT_FALSE(i.gateway_port().has_value());
    EXPECT_FALSE(i.SetGatewayPort("", Ip("10.0.0.254")).ok());
}

TEST(DummyDriver, ClassifiersAndFallback) {
    Started s = StartIpVpn();
    DummyInstanceDataplane& i = *s.instance;
    TrafficClassifier c;
    c.destination_prefix = Pfx("10.0.2.0/24");
    c.protocol = 6;
    c.destination_port = PortRange{80, 80};
    ASSERT_TRUE(i.AddTrafficClassifier(c, 3).ok());
    ASSERT_TRUE(i.AddTrafficClassifier(c, 3).ok());
    EXPECT_FALSE(s.driver->calls().back().changed);
    ASSERT_TRUE(i.AddTrafficClassifier(c, 4).ok());  // new redirect target replaces
    EXPECT_EQ(i.classifiers().at(c), 4u);
    EXPECT_FALSE(i.AddTrafficClassifier(c, 0).ok());

    Fallback f{Mac("00:00:5e:00:43:64"), Mac("52:54:00:00:00:09"), 7};
    ASSERT_TRUE(i.UpdateFallback(f).ok());
    EXPECT_EQ(i.fallback(), f);
    ASSERT_TRUE(i.UpdateFallback(std::nullopt).ok());
    EXPECT_FALSE(i.fallback().has_value());

    ASSERT_TRUE(i.RemoveTrafficClassifier(c).ok());
    EXPECT_TRUE(i.classifiers().empty());
    ASSERT_TRUE(i.RemoveTrafficClassifier(c).ok());
    EXPECT_FALSE(s.driver->calls().back().changed);
}

TEST(DummyDriver, OtherTypeMethodsAreNotSupported) {
    Started v = StartIpVpn();
    EXPECT_EQ(v.instance->AddBumEndpoint(Bum("127.0.1.3", 5000)).code(),
              DataplaneErrorCode::kNotSupported);
    EXPECT_EQ(v.instance->SetGatewayPort("x", Ip("10.0.0.1")).code(),
              DataplaneErrorCode::kNotSupported);
    EXPECT_EQ(v.instance->GatewayPortDown("x").code(), DataplaneErrorCode::kNotSupported);

    Started e = StartEvpn();
    EXPECT_EQ(e.instance->AddTrafficClassifier(TrafficClassifier{}, 2).code(),
              DataplaneErrorCode::kNotSupported);
    EXPECT_EQ(e.instance->RemoveTrafficClassifier(TrafficClassifier{}).code(),
              DataplaneErrorCode::kNotSupported);
    EXPECT_EQ(e.instance->UpdateFallback(std::nullopt).code(),
              DataplaneErrorCode::kNotSupported);
    EXPECT_EQ(e.instance->AddBumEndpoint(Bum("127.0.1.3", 5000)).code(), DataplaneErrorCode::kOk);
}

TEST(DummyDriver, CleanupRemovesEverythingAndIsLast) {
    Started s = StartEvpn();
    DummyInstanceDataplane& i = *s.instance;
    ASSERT_TRUE(i.VifPlugged(Mac("52:54:00:aa:bb:01"), Ip("10.0.1.1"), Port("tap-evpn1"), 17,
                             Direction::kBoth)
                    .ok());
    ASSERT_TRUE(i.SetupRemoteEndpoint(MacRoute("52:54:00:00:00:02", "127.0.1.3", 16)).ok());
    ASSERT_TRUE(i.AddBumEndpoint(Bum("127.0.1.3", 16)).ok());
    ASSERT_TRUE(i.SetGatewayPort("evpn1-ipvpn2", Ip("10.0.0.254")).ok());
    EXPECT_EQ(i.StateSize(), 4u);

    ASSERT_TRUE(i.Cleanup().ok());
    EXPECT_EQ(i.StateSize(), 0u);
    EXPECT_TRUE(i.cleaned_up());
    const DummyCall& c = s.driver->calls().back();
    EXPECT_EQ(c.method, DummyMethod::kCleanup);
    EXPECT_EQ(std::get<DummyCleanupArgs>(c.args),
              (DummyCleanupArgs{1, 1, 1, 0, true, false}));

    // Anything after Cleanup violates the contract.
    EXPECT_EQ(i.AddBumEndpoint(Bum("127.0.1.4", 16)).code(),
              DataplaneErrorCode::kFailedPrecondition);
    EXPECT_EQ(i.Cleanup().code(), DataplaneErrorCode::kFailedPrecondition);
    EXPECT_EQ(i.StateSize(), 0u);
}

TEST(DummyDriver, CleanupAfterAssistFindsNothing) {
    DummyDriverOptions o = DummyDriverOptions::Defaults(VpnType::kIpVpn);
    o.needs_cleanup_assist = true;
    Started s = Start(o);
    EXPECT_TRUE(s.driver->NeedsCleanupAssist());
    DummyInstanceDataplane& i = *s.instance;
    ASSERT_TRUE(i.VifPlugged(Mac("52:54:00:aa:bb:02"), Ip("10.0.0.1"), Port("tap1"), 19,
                             Direction::kBoth)
                    .ok());
    ASSERT_TRUE(i.SetupRemoteEndpoint(VpnRoute("10.0.0.2/32", "127.0.1.3", 100)).ok());
    // What the VPN layer does for a driver needing cleanup assist.
    ASSERT_TRUE(i.RemoveRemoteEndpoint(VpnRoute("10.0.0.2/32", "127.0.1.3", 100)).ok());
    ASSERT_TRUE(i.VifUnplugged(Mac("52:54:00:aa:bb:02"), Ip("10.0.0.1"), Port("tap1"), 19,
                               Direction::kBoth, true)
                    .ok());
    ASSERT_TRUE(i.Cleanup().ok());
    EXPECT_EQ(std::get<DummyCleanupArgs>(s.driver->calls().back().args), DummyCleanupArgs{});
}

TEST(DummyDriver, InstancesAreIndependent) {
    DummyDataplaneDriver d(DummyDriverOptions::Defaults(VpnType::kIpVpn));
    ASSERT_TRUE(d.Initialize().ok());
    auto a = d.CreateInstance(test::Instance(1, "a", 16));
    auto b = d.CreateInstance(test::Instance(2, "b", 18));
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_TRUE(a.value()->SetupRemoteEndpoint(VpnRoute("10.0.0.2/32", "127.0.1.3", 100)).ok());
    EXPECT_EQ(d.FindInstance(1)->remote_endpoints().size(), 1u);
    EXPECT_TRUE(d.FindInstance(2)->remote_endpoints().empty());
    ASSERT_EQ(d.instances().size(), 2u);
    EXPECT_EQ(d.CallsTo(DummyMethod::kSetupRemoteEndpoint, 1).size(), 1u);
    EXPECT_TRUE(d.CallsTo(DummyMethod::kSetupRemoteEndpoint, 2).empty());
    EXPECT_EQ(d.CallsTo(DummyMethod::kCreateInstance).size(), 2u);
}

TEST(DummyDriver, CallLogRecordsEveryCallInOrder) {
    auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1714564800));
    DummyDriverOptions o = DummyDriverOptions::Defaults(VpnType::kEvpn, Ip("127.0.1.1"));
    o.clock = [&now] { return now += std::chrono::milliseconds(1); };
    Started s = Start(o, 1, "evpn-test", 16);
    ASSERT_TRUE(s.instance->AddBumEndpoint(Bum("127.0.1.3", 5000)).ok());
    const auto& calls = s.driver->calls();
    ASSERT_EQ(calls.size(), 4u);
    EXPECT_EQ(calls[0].method, DummyMethod::kResetState);
    EXPECT_EQ(calls[1].method, DummyMethod::kInitialize);
    EXPECT_EQ(calls[2].method, DummyMethod::kCreateInstance);
    EXPECT_EQ(calls[3].method, DummyMethod::kAddBumEndpoint);
    for (size_t n = 0; n < calls.size(); ++n) EXPECT_EQ(calls[n].seq, n + 1);
    EXPECT_LT(calls[0].time, calls[3].time);
    EXPECT_EQ(calls[0].instance_id, 0u);
    EXPECT_EQ(calls[3].instance_id, 1u);
    EXPECT_EQ(std::get<BumEndpoint>(calls[3].args).remote_pe, Ip("127.0.1.3"));

    nlohmann::json log = s.driver->CallLogJson();
    ASSERT_EQ(log.size(), 4u);
    const nlohmann::json& bum = log[3];
    EXPECT_EQ(bum["seq"], 4);
    EXPECT_EQ(bum["method"], "add_dataplane_for_bum_endpoint");
    EXPECT_EQ(bum["driver"], "evpn");
    EXPECT_EQ(bum["instance_id"], 1);
    EXPECT_EQ(bum["external_instance_id"], "evpn-test");
    EXPECT_EQ(bum["args"]["remote_pe"], "127.0.1.3");
    EXPECT_EQ(bum["args"]["vni"], 5000);
    EXPECT_EQ(bum["args"]["encaps"], nlohmann::json::array({"encap:VXLAN"}));
    EXPECT_EQ(bum["changed"], true);
    EXPECT_TRUE(bum["error"].is_null());
    EXPECT_EQ(bum["time"], "2024-05-01T12:00:00.004000Z");
    EXPECT_TRUE(log[0]["instance_id"].is_null());
    EXPECT_EQ(log[2]["method"], "initialize_dataplane_instance");
    EXPECT_EQ(log[2]["args"]["external_instance_id"], "evpn-test");
    EXPECT_EQ(log[2]["args"]["gateway_ip"], "10.0.0.254");

    // Paging and filtering.
    EXPECT_EQ(s.driver->CallLogJson(2).size(), 2u);
    EXPECT_EQ(s.driver->CallLogJson(2, 1)[0]["seq"], 3);
    EXPECT_EQ(s.driver->CallLogJson(0, SIZE_MAX, 0u).size(), 2u);  // driver-level
    EXPECT_EQ(s.driver->CallLogJson(0, SIZE_MAX, 1u).size(), 2u);
    EXPECT_TRUE(s.driver->CallLogJson(99).empty());

    // An error is rendered with its code.
    ASSERT_FALSE(s.instance->AddBumEndpoint(Bum("127.0.1.3", bgp::kMaxVni + 1)).ok());
    nlohmann::json err = s.driver->CallLogJson(4)[0];
    EXPECT_EQ(err["error_code"], "invalid-argument");
    EXPECT_FALSE(err["error"].get<std::string>().empty());
    EXPECT_EQ(err["changed"], false);
}

TEST(DummyDriver, CallLogIsBounded) {
    DummyDriverOptions o = DummyDriverOptions::Defaults(VpnType::kIpVpn);
    o.call_log_size = 100;
    Started s = Start(o);  // 3 calls
    for (int n = 0; n < 1000; ++n) {
        RemoteEndpoint r = VpnRoute("10.0.0.0/32", "127.0.1.3", 100 + n);
        ASSERT_TRUE(s.instance->SetupRemoteEndpoint(r).ok());
    }
    const auto& calls = s.driver->calls();
    EXPECT_EQ(calls.size(), 100u);
    EXPECT_EQ(s.driver->total_calls(), 1003u);
    EXPECT_EQ(calls.front().seq, 904u);
    EXPECT_EQ(calls.back().seq, 1003u);
    // State is not bounded: every endpoint is still there.
    EXPECT_EQ(s.instance->remote_endpoints().size(), 1000u);
    // Paging from before the window starts at its first entry.
    EXPECT_EQ(s.driver->CallLogJson(10, 1)[0]["seq"], 904);
    EXPECT_EQ(s.driver->CallLogJson(1000).size(), 3u);

    nlohmann::json j = s.driver->ToJson();
    EXPECT_EQ(j["calls"]["total"], 1003);
    EXPECT_EQ(j["calls"]["logged"], 100);
    EXPECT_EQ(j["calls"]["capacity"], 100);
    EXPECT_EQ(j["calls"]["first_seq"], 904);
    EXPECT_EQ(j["calls"]["last_seq"], 1003);

    s.driver->ClearCallLog();
    EXPECT_TRUE(s.driver->calls().empty());
    EXPECT_EQ(s.driver->total_calls(), 1003u);

    // Size 0: nothing logged, calls still counted and state still kept.
    DummyDriverOptions off = DummyDriverOptions::Defaults(VpnType::kIpVpn);
    off.call_log_size = 0;
    Started q = Start(off);
    ASSERT_TRUE(q.instance->SetupRemoteEndpoint(VpnRoute("10.0.0.0/32", "127.0.1.3", 100)).ok());
    EXPECT_TRUE(q.driver->calls().empty());
    EXPECT_EQ(q.driver->total_calls(), 4u);
    EXPECT_EQ(q.instance->remote_endpoints().size(), 1u);
}

TEST(DummyDriver, DefaultCallLogHoldsTenThousand) {
    Started s = StartIpVpn();
    RemoteEndpoint absent = VpnRoute("10.0.0.0/32", "127.0.1.3", 100);
    for (int n = 0; n < 10'050; ++n) ASSERT_TRUE(s.instance->RemoveRemoteEndpoint(absent).ok());
    EXPECT_EQ(s.driver->calls().size(), 10'000u);
    EXPECT_EQ(s.driver->calls().back().seq, 10'053u);
}

TEST(DummyDriver, DriverJsonShape) {
    config::DataplaneDriverConfig cfg;
    cfg.driver = "dummy";
    cfg.configured_driver = "DummyDataplaneDriver";
    cfg.local_address = Ip("127.0.1.1");
    auto o = DummyDriverOptions::FromConfig(VpnType::kEvpn, cfg);
    ASSERT_TRUE(o.ok());
    Started s = Start(o.value(), 1, "evpn-test", 16);
    nlohmann::json j = s.driver->ToJson();
    // The original's /vpns/dataplane/drivers/evpn fields.
    EXPECT_EQ(j["name"], "DummyDataplaneDriver");
    EXPECT_EQ(j["local_address"], "127.0.1.1");
    EXPECT_EQ(j["supported_encaps"], nlohmann::json::array({"encap:VXLAN"}));
    EXPECT_EQ(j["config"]["dataplane_driver"], "DummyDataplaneDriver");
    EXPECT_EQ(j["config"]["dataplane_local_address"], "127.0.1.1");
    EXPECT_TRUE(j["kernel_release"].is_string());
    // Ours.
    EXPECT_EQ(j["driver"], "dummy");
    EXPECT_EQ(j["type"], "evpn");
    EXPECT_EQ(j["ecmp_support"], false);
    EXPECT_EQ(j["directions"], nlohmann::json::array({"both"}));
    EXPECT_EQ(j["needs_cleanup_assist"], false);
    EXPECT_EQ(j["initialized"], true);
    ASSERT_EQ(j["instances"].size(), 1u);
    EXPECT_EQ(j["instances"][0]["external_instance_id"], "evpn-test");
    EXPECT_EQ(j["calls"]["total"], 3);
}

TEST(DummyDriver, InstanceJsonShape) {
    Started e = StartEvpn();
    DummyInstanceDataplane& i = *e.instance;
    ASSERT_TRUE(i.VifPlugged(Mac("52:54:00:aa:bb:01"), Ip("10.0.1.1"), Port("tap-evpn1"), 17,
                             Direction::kBoth)
                    .ok());
    ASSERT_TRUE(i.SetupRemoteEndpoint(MacRoute("52:54:00:00:00:02", "127.0.1.3", 5000)).ok());
    ASSERT_TRUE(i.AddBumEndpoint(Bum("127.0.1.3", 5000)).ok());
    nlohmann::json j = i.ToJson();
    EXPECT_EQ(j["instance_id"], 1);
    EXPECT_EQ(j["external_instance_id"], "vpn-a");
    EXPECT_EQ(j["type"], "evpn");
    EXPECT_EQ(j["instance_label"], 16);
    EXPECT_EQ(j["gateway_ip"], "10.0.0.254");
    EXPECT_EQ(j["cleaned_up"], false);
    EXPECT_EQ(j["counts"]["ports"], 1);
    EXPECT_EQ(j["counts"]["remote_endpoints"], 1);
    EXPECT_EQ(j["counts"]["bum_endpoints"], 1);
    ASSERT_EQ(j["ports"].size(), 1u);
    EXPECT_EQ(j["ports"][0]["mac_address"], "52:54:00:aa:bb:01");
    EXPECT_EQ(j["ports"][0]["ip_address"], "10.0.1.1");
    EXPECT_EQ(j["ports"][0]["localport"]["linuxif"], "tap-evpn1");
    EXPECT_EQ(j["ports"][0]["label"], 17);
    EXPECT_EQ(j["ports"][0]["direction"], "both");
    EXPECT_EQ(j["remote_endpoints"][0]["mac"], "52:54:00:00:00:02");
    EXPECT_EQ(j["remote_endpoints"][0]["vni"], 5000);
    EXPECT_EQ(j["bum_endpoints"][0]["remote_pe"], "127.0.1.3");
    EXPECT_TRUE(j["gateway_port"].is_null());
    EXPECT_FALSE(j.contains("classifiers"));

    Started v = StartIpVpn();
    ASSERT_TRUE(v.instance->SetupRemoteEndpoint(VpnRoute("10.0.0.2/32", "127.0.1.3", 100)).ok());
    j = v.instance->ToJson();
    EXPECT_EQ(j["type"], "ipvpn");
    EXPECT_EQ(j["remote_endpoints"][0]["prefix"], "10.0.0.2/32");
    EXPECT_EQ(j["remote_endpoints"][0]["label"], 100);
    EXPECT_TRUE(j["classifiers"].is_array());
    EXPECT_TRUE(j["fallback"].is_null());
    EXPECT_FALSE(j.contains("bum_endpoints"));
}

TEST(DummyDriver, InstanceMayOutliveDriver) {
    Started s = StartEvpn();
    s.driver.reset();
    EXPECT_TRUE(s.instance->AddBumEndpoint(Bum("127.0.1.3", 5000)).ok());
    EXPECT_TRUE(s.instance->Cleanup().ok());
    s.owned.reset();
}

TEST(DummyDriverOptions, FromConfig) {
    config::DataplaneDriverConfig cfg;
    cfg.local_address = Ip("192.0.2.1");
    cfg.options = {{"encapsulations", "MPLS, VXLAN, mpls-over-gre"},
                   {"ecmp", "True"},
                   {"directions", "both,to-port"},
                   {"needs_cleanup_assist", "yes"},
                   {"call_log_size", "50"},
                   {"mpls_interface", "eth1"}};  // for another driver: ignored
    auto r = DummyDriverOptions::FromConfig(VpnType::kIpVpn, cfg);
    ASSERT_TRUE(r.ok()) << r.status().message();
    const DummyDriverOptions& o = r.value();
    EXPECT_EQ(o.encaps, (EncapsulationSet{Encapsulation::kMpls, Encapsulation::kVxlan,
                                          Encapsulation::kMplsOverGre}));
    EXPECT_TRUE(o.ecmp);
    EXPECT_EQ(o.directions, (std::vector<Direction>{Direction::kBoth, Direction::kToPort}));
    EXPECT_TRUE(o.needs_cleanup_assist);
    EXPECT_EQ(o.call_log_size, 50u);
    EXPECT_EQ(o.local_address, Ip("192.0.2.1"));
    EXPECT_EQ(o.config.at("mpls_interface"), "eth1");

    DummyDataplaneDriver d(o);
    EXPECT_TRUE(d.EcmpSupport());
    EXPECT_TRUE(d.ValidateDirection(Direction::kToPort).ok());
    EXPECT_FALSE(d.ValidateDirection(Direction::kFromPort).ok());
}

TEST(DummyDriverOptions, FromConfigErrorsNameTheOption) {
    auto error = [](std::string key, std::string value) {
        config::DataplaneDriverConfig cfg;
        cfg.options = {{key, value}};
        auto r = DummyDriverOptions::FromConfig(VpnType::kEvpn, cfg);
        EXPECT_FALSE(r.ok()) << key << "=" << value;
        EXPECT_EQ(r.status().code(), DataplaneErrorCode::kInvalidArgument);
        return r.status().message();
    };
    EXPECT_NE(error("encapsulations", "VXLAN, pigeon").find("pigeon"), std::string::npos);
    EXPECT_NE(error("encapsulations", "").find("encapsulations"), std::string::npos);
    EXPECT_NE(error("ecmp", "maybe").find("ecmp"), std::string::npos);
    EXPECT_NE(error("directions", "sideways").find("directions"), std::string::npos);
    EXPECT_NE(error("call_log_size", "-1").find("call_log_size"), std::string::npos);
    EXPECT_NE(error("call_log_size", "12x").find("call_log_size"), std::string::npos);
}

}  // namespace
}  // namespace bagpipe::dataplane
