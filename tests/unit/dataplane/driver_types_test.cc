// The dataplane value types: names, parsing, encapsulation sets, status and
// result values, JSON renderings.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "bgp/wire/ext_community.h"
#include "dataplane/driver.h"
#include "dataplane_test_util.h"

namespace bagpipe::dataplane {
namespace {

using test::Ip;
using test::Mac;
using test::Pfx;

TEST(DataplaneTypes, VpnTypeAndDirectionNames) {
    EXPECT_EQ(VpnTypeName(VpnType::kIpVpn), "ipvpn");
    EXPECT_EQ(VpnTypeName(VpnType::kEvpn), "evpn");
    EXPECT_EQ(ParseVpnType("evpn"), VpnType::kEvpn);
    EXPECT_EQ(ParseVpnType("l2vpn"), std::nullopt);

    for (Direction d : {Direction::kBoth, Direction::kToPort, Direction::kFromPort})
        EXPECT_EQ(ParseDirection(DirectionName(d)), d);
    EXPECT_EQ(DirectionName(Direction::kToPort), "to-port");
    EXPECT_EQ(ParseDirection(""), Direction::kBoth);  // the original's null / ""
    EXPECT_EQ(ParseDirection("to_port"), std::nullopt);
}

TEST(DataplaneTypes, EncapsulationNamesAndTunnelTypes) {
    EXPECT_EQ(EncapsulationName(Encapsulation::kVxlan), "VXLAN");
    EXPECT_EQ(EncapsulationName(Encapsulation::kDefault), "DEFAULT");
    EXPECT_EQ(ParseEncapsulation("vxlan"), Encapsulation::kVxlan);
    EXPECT_EQ(ParseEncapsulation("encap:MPLS"), Encapsulation::kMpls);
    EXPECT_EQ(ParseEncapsulation("mpls_over_gre"), Encapsulation::kMplsOverGre);
    EXPECT_EQ(ParseEncapsulation("MPLS-in-UDP"), Encapsulation::kMplsOverUdp);
    EXPECT_EQ(ParseEncapsulation("carrier-pigeon"), std::nullopt);

    EXPECT_EQ(EncapsulationFromTunnelType(static_cast<uint16_t>(bgp::TunnelType::kVxlan)),
              Encapsulation::kVxlan);
    EXPECT_EQ(EncapsulationFromTunnelType(static_cast<uint16_t>(bgp::TunnelType::kMpls)),
              Encapsulation::kMpls);
    EXPECT_EQ(EncapsulationFromTunnelType(0), std::nullopt);  // DEFAULT is "no community"
    EXPECT_EQ(EncapsulationFromTunnelType(1), std::nullopt);  // L2TPv3: no driver
}

TEST(DataplaneTypes, EncapsulationSet) {
    EncapsulationSet s{Encapsulation::kMpls, Encapsulation::kDefault};
    EXPECT_EQ(s.size(), 2u);
    EXPECT_TRUE(s.contains(Encapsulation::kDefault));
    EXPECT_FALSE(s.contains(Encapsulation::kVxlan));
    EXPECT_EQ(s.Names(), (std::vector<std::string>{"encap:DEFAULT", "encap:MPLS"}));
    EXPECT_EQ(s.Intersect({Encapsulation::kMpls, Encapsulation::kGre}),
              EncapsulationSet{Encapsulation::kMpls});
    EXPECT_TRUE(s.Intersect({Encapsulation::kVxlan}).empty());
    s.erase(Encapsulation::kDefault);
    EXPECT_EQ(s.ToVector(), std::vector<Encapsulation>{Encapsulation::kMpls});
    EXPECT_TRUE(EncapsulationSet{}.empty());
}

TEST(DataplaneTypes, StatusAndResult) {
    DataplaneStatus ok;
    EXPECT_TRUE(ok.ok());
    EXPECT_TRUE(static_cast<bool>(ok));
    EXPECT_EQ(ok.error(), std::nullopt);
    EXPECT_EQ(ok, DataplaneStatus::Ok());

    DataplaneStatus bad = DataplaneStatus::InvalidArgument("Unsupported direction: to-port");
    EXPECT_FALSE(bad.ok());
    EXPECT_EQ(bad.code(), DataplaneErrorCode::kInvalidArgument);
    EXPECT_EQ(bad.error(), "Unsupported direction: to-port");
    EXPECT_EQ(DataplaneErrorCodeName(bad.code()), "invalid-argument");

    DataplaneResult<int> r = 7;
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), 7);
    EXPECT_TRUE(r.status().ok());

    DataplaneResult<int> e = DataplaneStatus::Unavailable("nope");
    EXPECT_FALSE(e.ok());
    EXPECT_EQ(e.status().code(), DataplaneErrorCode::kUnavailable);

    // A result is never built OK without a value.
    DataplaneResult<int> odd = DataplaneStatus::Ok();
    EXPECT_FALSE(odd.ok());
    EXPECT_EQ(odd.status().code(), DataplaneErrorCode::kInternal);

    // Converting construction from a derived unique_ptr.
    struct Base {
        virtual ~Base() = default;
    };
    struct Derived : Base {};
    DataplaneResult<std::unique_ptr<Base>> p = std::make_unique<Derived>();
    ASSERT_TRUE(p.ok());
    EXPECT_NE(std::move(p).value(), nullptr);
}

TEST(DataplaneTypes, RemoteEndpointJson) {
    RemoteEndpoint vpn = test::VpnRoute("10.0.0.2/32", "127.0.1.3", 100);
    nlohmann::json j = ToJson(VpnType::kIpVpn, vpn);
    EXPECT_EQ(j["prefix"], "10.0.0.2/32");
    EXPECT_EQ(j["remote_pe"], "127.0.1.3");
    EXPECT_EQ(j["label"], 100);
    EXPECT_EQ(j["encaps"], nlohmann::json::array({"encap:MPLS"}));
    EXPECT_EQ(j["lb_consistent_hash_order"], 0);
    EXPECT_FALSE(j.contains("mac"));

    RemoteEndpoint mac = test::MacRoute("52:54:00:00:00:02", "127.0.1.3", 5000, "10.0.1.2");
    j = ToJson(VpnType::kEvpn, mac);
    EXPECT_EQ(j["mac"], "52:54:00:00:00:02");
    EXPECT_EQ(j["ip"], "10.0.1.2");
    EXPECT_EQ(j["vni"], 5000);
    EXPECT_EQ(j["encaps"], nlohmann::json::array({"encap:VXLAN"}));
    EXPECT_FALSE(j.contains("prefix"));
    EXPECT_TRUE(ToJson(VpnType::kEvpn, test::MacRoute("52:54:00:00:00:03", "127.0.1.3", 1))["ip"]
                    .is_null());
}

TEST(DataplaneTypes, ClassifierPortAndFallbackJson) {
    TrafficClassifier c;
    c.destination_prefix = Pfx("10.0.0.0/24");
    c.protocol = 6;
    c.destination_port = PortRange{80, 80};
    c.source_port = PortRange{1000, 2000};
    nlohmann::json j = ToJson(c);
    EXPECT_TRUE(j["sourcePrefix"].is_null());
    EXPECT_EQ(j["destinationPrefix"], "10.0.0.0/24");
    EXPECT_EQ(j["protocol"], 6);
    EXPECT_EQ(j["destinationPort"], "80");
    EXPECT_EQ(j["sourcePort"], "1000:2000");

    LocalPort port = test::Port("tap1");
    port.ovs = OvsPortInfo{true, 5, "", 12};
    j = ToJson(port);
    EXPECT_EQ(j["linuxif"], "tap1");
    EXPECT_EQ(j["ovs"]["port_number"], 5);
    EXPECT_EQ(j["ovs"]["vlan"], 12);
    EXPECT_FALSE(j.contains("vlan"));

    Fallback f{Mac("00:00:5e:00:43:64"), Mac("52:54:00:00:00:09"), 7};
    j = ToJson(f);
    EXPECT_EQ(j["dst_mac"], "52:54:00:00:00:09");
    EXPECT_EQ(j["ovs_port_number"], 7);

    EXPECT_TRUE(AddressJson(bgp::IpAddress{}).is_null());
    EXPECT_EQ(AddressJson(Ip("2001:db8::1")), "2001:db8::1");
}

}  // namespace
}  // namespace bagpipe::dataplane
